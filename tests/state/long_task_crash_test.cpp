// The long-task example (examples/long_task) as a real child process,
// killed with SIGKILL at random moments and started again until it
// completes: every item then passes with the evidence of a check that ran,
// the git log holds exactly one commit per write-back (no duplicate from a
// write-back re-run after a kill), the progress log one entry per session
// without gaps, and the workspace is clean.
#include <catch2/catch.hpp>

#include <random>

#include <nlohmann/json.hpp>
#include <set>

#include "endure/actors/events.hpp"
#include "endure/actors/state/ledger_store.hpp"
#include "endure/actors/state/workspace.hpp"
#include "endure/persistence/journal.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace std::chrono_literals;

SCENARIO("the long-task example survives SIGKILL at random moments and ends with every item "
         "passing on evidence", "[state][session][crash]") {
  test::temp_dir dir;
  auto data = dir.path() + "/data";
  std::vector<std::string> argv{LONG_TASK_EXAMPLE, data, "--latency-ms", "3"};
  auto seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 rng{seed};
  std::uniform_int_distribution<int> moment{30, 700};
  int kills = 0;
  bool finished = false;
  for (int round = 0; round < 8 && !finished; ++round) {
    test::child_process child{argv};
    int rc = child.wait(std::chrono::milliseconds{moment(rng)});  // kills at the deadline
    finished = rc == 0;
    kills += rc == -9 ? 1 : 0;
    REQUIRE((rc == 0 || rc == -9));
  }
  CHECK(kills > 0);
  auto [rc, out] = test::run_command(argv, 120s);  // to the end, or what it says when done
  INFO(out);
  REQUIRE(rc == 0);
  CHECK_THAT(out, Catch::Contains("30 of 30 items pass on evidence (0 overridden)"));

  auto j = journal::open({.data_dir = data, .read_only = true});
  REQUIRE(j);
  register_event_types((*j)->types());
  state::ledger_store ledger{**j};
  auto items = ledger.items("manual");
  REQUIRE(items);
  REQUIRE(items->size() == 30);
  for (auto& it : *items) {
    INFO(it.id);
    CHECK(it.status == state::item_status::passing);
    REQUIRE(it.last);
    CHECK(it.last->passed);
    CHECK(it.last->exit_status == 0);
    CHECK(it.overridden_by.empty());
  }
  auto log = ledger.progress("manual");
  REQUIRE(log);
  CHECK(log->damaged.empty());
  for (std::size_t i = 0; i < log->entries.size(); ++i)
    CHECK(log->entries[i].session == i + 1);  // one per session, no gap, no repeat

  auto ws = state::workspace::open_or_init(data + "/workspace");
  REQUIRE(ws);
  auto commits = ws->log(1000);
  REQUIRE(commits);
  // "Workspace created", then one commit per write-back: the initializer's
  // and one per work session that worked on an item.
  std::size_t write_backs = 0;
  for (auto& e : log->entries)
    write_backs += e.session == 1 || !e.items.empty() ? 1 : 0;
  CHECK(commits->size() == 1 + write_backs);
  std::set<std::string> keys;
  for (auto& c : *commits)
    if (!c.key.empty())
      CHECK(keys.insert(c.key).second);  // no write-back committed twice
  CHECK(ws->is_clean().value());

  THEN("`endure task` shows it: ledger, progress log and commits, as text and as JSON") {
    auto [text_rc, text] = test::run_command({ENDURE_BIN_PATH, "--data", data, "task", "manual"}, 30s);
    CHECK(text_rc == 0);
    CHECK_THAT(text, Catch::Contains("30 passing, 0 failing, complete"));
    CHECK_THAT(text, Catch::Contains("page-07  passing  1 verification(s); last: passed"));
    CHECK_THAT(text, Catch::Contains("session " + std::to_string(log->entries.size())));
    auto [json_rc, json_text] =
      test::run_command({ENDURE_BIN_PATH, "--data", data, "task", "manual", "--json"}, 30s);
    CHECK(json_rc == 0);
    auto report = nlohmann::json::parse(json_text);
    CHECK(report["ledger"]["passing"] == 30);
    CHECK(report["ledger"]["items"][4]["last"]["exit_status"] == 0);
    CHECK(report["progress"].size() == log->entries.size());
    CHECK(report["commits"].size() == commits->size());
    auto [inspect_rc, inspected] =
      test::run_command({ENDURE_BIN_PATH, "--data", data, "inspect", "manual-run"}, 30s);
    CHECK(inspect_rc == 0);
    CHECK_THAT(inspected, Catch::Contains("long task manual: 30 of 30 items passing (endure "
                                          "task manual)"));
    auto [missing_rc, missing] =
      test::run_command({ENDURE_BIN_PATH, "--data", data, "task", "nope"}, 30s, {.merge_stderr = true});
    CHECK(missing_rc == 1);
    CHECK_THAT(missing, Catch::Contains("no task 'nope'"));
  }
}

namespace {

/// Reads a live child's journal: whether the run's newest step event is a
/// start of a step whose name begins with `prefix` (the step is in flight).
class flight_watch {
public:
  explicit flight_watch(std::string data) : data_(std::move(data)) {}
  bool in_flight(const std::string& prefix) {
    if (!j_) {
      auto j = journal::open({.data_dir = data_, .read_only = true});
      if (!j)
        return false;  // not created yet
      j_ = std::move(*j);
      register_event_types(j_->types());
    }
    auto last = j_->last_seq("manual-run");
    if (!last || *last == 0)
      return false;
    auto recs = j_->read("manual-run", *last, 1);
    if (!recs || recs->empty())
      return false;
    auto ev = decode_event(recs->front().rec, "manual-run", recs->front().seq);
    auto* started = ev ? std::get_if<step_started_event>(&*ev) : nullptr;
    return started && started->name.rfind(prefix, 0) == 0;
  }

private:
  std::string data_;
  std::unique_ptr<journal> j_;
};

} // namespace

SCENARIO("the long-task example killed with SIGKILL inside each phase resumes there and ends "
         "with one commit per write-back", "[state][session][crash]") {
  test::temp_dir dir;
  auto data = dir.path() + "/data";
  std::vector<std::string> argv{LONG_TASK_EXAMPLE, data, "--latency-ms", "3"};
  // wake (init.sh), orient (telling the tools), work (the tool), verify,
  // write back (the commit): each a step that takes long enough to be
  // caught in flight by a reader polling the journal.
  // The last one waits until the session's commit is in git but its step
  // is not yet journaled: the re-run must find the commit by its key.
  const char* phases[] = {"session 3/wake: init", "session 4/orient", "tool:write_page",
                          "verify:page-05",        "workspace:commit", "workspace:commit"};
  int caught = 0;
  for (int p = 0; p < 6; ++p) {
    auto* phase = phases[p];
    INFO("phase " << phase);
    test::child_process child{argv};
    flight_watch watch{data};
    bool hit = false;
    auto committed = [&] {
      auto ws = state::workspace::open_existing(data + "/workspace");
      auto head = ws ? ws->log(1) : decltype(ws->log(1)){make_error(errc::not_found, "")};
      return head && !head->empty() && head->front().message.rfind("Session 9 ", 0) == 0;
    };
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!hit && std::chrono::steady_clock::now() < deadline)  // bounded in time
      hit = watch.in_flight(phase) && (p < 5 || committed());
    child.kill_hard();
    caught += hit ? 1 : 0;
    UNSCOPED_INFO(phase << (hit ? ": killed in flight" : ": missed"));
  }
  CHECK(caught >= 5);  // a reader may miss a quick step; most are caught in flight
  auto [rc, out] = test::run_command(argv, 120s);
  INFO(out);
  REQUIRE(rc == 0);
  CHECK_THAT(out, Catch::Contains("30 of 30 items pass on evidence (0 overridden)"));
  auto j = journal::open({.data_dir = data, .read_only = true});
  REQUIRE(j);
  register_event_types((*j)->types());
  auto log = state::ledger_store{**j}.progress("manual");
  REQUIRE(log);
  auto ws = state::workspace::open_or_init(data + "/workspace");
  REQUIRE(ws);
  auto commits = ws->log(1000);
  REQUIRE(commits);
  CHECK(commits->size() == 1 + log->entries.size());
  for (std::size_t i = 0; i < log->entries.size(); ++i)
    CHECK(log->entries[i].session == i + 1);
  CHECK(ws->is_clean().value());
}
