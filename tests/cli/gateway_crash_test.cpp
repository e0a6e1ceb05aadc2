// The crash test for the human gateway: 1,000 pending requests
// survive a SIGKILL of the serving process. After the restart the same ids,
// argument hashes and rules are there; decisions made while the process was
// down arrive at the next start, decisions made through the restarted serve
// at once, and each approval runs its tool exactly once (counted in
// $ENDURE_TEST_TOOL_LOG), across another SIGKILL. Each run raises one
// request: ctx.tool is a task, and tasks cannot be awaited together (ctx.all
// takes operations), so one run holds at most one pending call.
#include <catch2/catch.hpp>

#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "cli/cli_runner.hpp"
#include "cli/serve_child.hpp"
#include "endure/actors/events.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/offline_control.hpp"
#include "endure/actors/serialization.hpp"
#include "endure/cli/journal_view.hpp"
#include "endure/cli/request_rows.hpp"
#include "gateway/index_check.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

constexpr int runs = 1000;


std::string run_id(int i) { return "r" + std::to_string(1000 + i); }

/// Journals the runs with no process running (as `endure start` would).
void seed_runs(const std::string& data) {
  journal_options jo;
  jo.data_dir = data;
  auto store = journal::open(jo);
  REQUIRE(store);
  register_event_types((*store)->types());
  for (int i = 0; i < runs; ++i)
    REQUIRE(start_offline(**store, run_id(i), "publish_post", to_bytes(run_id(i))));
}

/// What must survive: id -> (status, arguments hash, rule).
using snapshot = std::map<std::string, std::tuple<std::string, std::string, std::string>>;

snapshot take_snapshot(const std::string& data) {
  auto view = cli::open_journal_view(data);
  REQUIRE(view);
  auto listing = cli::read_requests(**view);
  REQUIRE(listing);
  CHECK(listing->damaged.empty());
  snapshot out;
  for (auto& r : listing->requests)
    out[r.id] = {std::string{to_string(r.status)}, r.arguments_hash, r.rule.dump()};
  return out;
}

std::size_t pending_in(const snapshot& s) {
  std::size_t n = 0;
  for (auto& [id, row] : s)
    n += std::get<0>(row) == "pending";
  return n;
}

/// Waits (bounded) until `pred` holds of the journal's requests.
template <class Pred>
bool await_requests(const std::string& data, Pred pred, std::chrono::seconds limit = 30s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred(take_snapshot(data)))
      return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

bool await_completed(const std::string& data, const std::vector<std::string>& ids) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto view = cli::open_journal_view(data);
    REQUIRE(view);
    auto done = (*view)->list_runs(run_status::completed);
    REQUIRE(done);
    std::size_t found = 0;
    for (auto& id : ids)
      for (auto& m : *done)
        found += m.id == id;
    if (found == ids.size())
      return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

/// Waits (bounded) until the request index matches the rows (deliveries
/// still being marked change both); shows what does not.
void require_index_matches(const std::string& data) {
  std::vector<std::string> problems;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  do {
    auto view = cli::open_journal_view(data);
    REQUIRE(view);
    problems = index_problems(**view);
    if (problems.empty())
      return;
    std::this_thread::sleep_for(100ms);
  } while (std::chrono::steady_clock::now() < deadline);
  for (std::size_t i = 0; i < problems.size() && i < 20; ++i)
    UNSCOPED_INFO(problems[i]);
  FAIL("the request index does not match the rows");
}

/// How many requests `endure inbox` lists.
std::size_t inbox_size(const std::string& data) {
  auto out = cli_run(data, {"inbox", "--json", "--limit", "100000"});
  REQUIRE(out.code == 0);
  return nlohmann::json::parse(out.out).size();
}

std::map<std::string, int> executions(const std::string& log) {
  std::map<std::string, int> out;
  std::ifstream in{log};
  for (std::string line; std::getline(in, line);)
    ++out[nlohmann::json::parse(line).at("title").get<std::string>()];
  return out;
}

} // namespace

SCENARIO("1,000 pending requests survive SIGKILL and each decision resumes its run once",
         "[cli][gateway][crash]") {
  // In wal the offline commands (sync, the default) recover from the log
  // the killed serve left, remove it, and the next serve makes a new one.
  auto mode = GENERATE(as<std::string>{}, "sync", "wal");
  INFO("serve --mode " << mode);
  temp_dir dir;
  auto data = dir.file("data");
  auto log = dir.file("tools.log");
  ::setenv("ENDURE_TEST_TOOL_LOG", log.c_str(), 1);
  auto policy = dir.file("policy.yaml");
  std::ofstream{policy} << "groups: {editors: [ann, bob]}\n"
                           "interrupt_on:\n  publish: {approvers: {groups: [editors]}}\n";
  seed_runs(data);

  auto serve = start_serve(data, policy, mode);
  CHECK(std::filesystem::exists(data + "/journal.wal") == (mode == "wal"));
  REQUIRE(await_requests(data, [](const snapshot& s) { return pending_in(s) == runs; }));
  auto before = take_snapshot(data);
  serve->kill_hard();
  serve->wait(10s);
  require_index_matches(data);  // every raise wrote its entries with its row

  // While nothing runs: 10 decisions straight into the journal.
  std::vector<std::string> approved, rejected;
  for (int i = 0; i < 10; ++i) {
    auto id = run_id(i) + "/0";
    auto verb = i % 2 ? "reject" : "approve";
    auto r = cli_run(data, {verb, id, "--as", i % 3 ? "ann" : "bob"});
    INFO(verb << " " << id << ": " << r.err);
    REQUIRE(r.code == 0);
    (i % 2 ? rejected : approved).push_back(run_id(i));
  }
  // Nothing ran a tool while the process was down.
  CHECK(executions(log).empty());
  require_index_matches(data);  // the offline decisions kept it too
  CHECK(inbox_size(data) == runs - 10);

  auto again = start_serve(data, policy, mode);
  auto after = take_snapshot(data);
  REQUIRE(after.size() == before.size());
  for (auto& [id, row] : before) {
    REQUIRE(after.count(id));
    CHECK(std::get<1>(after[id]) == std::get<1>(row));  // the same arguments hash
    CHECK(std::get<2>(after[id]) == std::get<2>(row));  // the same rule
  }
  // Through the restarted serve: 10 more.
  for (int i = 10; i < 20; ++i) {
    auto id = run_id(i) + "/0";
    auto r = cli_run(data, {i % 2 ? "reject" : "approve", id, "--as", "ann"});
    REQUIRE(r.code == 0);
    (i % 2 ? rejected : approved).push_back(run_id(i));
  }
  auto decided = approved;
  decided.insert(decided.end(), rejected.begin(), rejected.end());
  REQUIRE(await_completed(data, decided));
  again->kill_hard();
  again->wait(10s);

  // A third start after a second SIGKILL runs nothing again.
  auto third = start_serve(data, policy, mode);
  CHECK(cli_run(data, {"approve", run_id(20) + "/0", "--as", "bob"}).code == 0);
  approved.push_back(run_id(20));
  REQUIRE(await_completed(data, {run_id(20)}));
  ::kill(third->pid(), SIGTERM);
  CHECK(third->wait(20s) == 0);

  require_index_matches(data);
  auto ran = executions(log);
  CHECK(ran.size() == approved.size());
  for (auto& id : approved)
    CHECK(ran[id] == 1);
  for (auto& id : rejected)
    CHECK(ran.count(id) == 0);
  auto last = take_snapshot(data);
  CHECK(pending_in(last) == runs - approved.size() - rejected.size());
  CHECK(inbox_size(data) == pending_in(last));
}
