// The human gateway from the command line: `endure inbox`, `request`,
// `approve`, `reject`, `answer` next to a running `endure serve` (through
// its control socket) and with no process running (straight into the
// journal) give the same answers, and a decision made while nothing runs
// reaches its run at the next start, once. Real processes: serve and the
// clients are workflows_cli (endure's CLI plus a `publish` tool that logs
// each execution to $ENDURE_TEST_TOOL_LOG).
#include <catch2/catch.hpp>

#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.hpp"
#include "cli/serve_child.hpp"
#include "endure/actors/events.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/gateway/request_index.hpp"
#include "endure/persistence/journal.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {



int stop(child_process& serve) {
  ::kill(serve.pid(), SIGTERM);
  return serve.wait(20s);
}

/// Waits (bounded) until `inbox --json` lists `count` pending requests.
bool await_pending(const std::string& data, std::size_t count) {
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto inbox = cli_run(data, {"inbox", "--json", "--limit", "100000"});
    auto j = nlohmann::json::parse(inbox.out, nullptr, false);
    if (j.is_array() && j.size() == count)
      return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

/// Waits (bounded) until `endure list --status S` shows the run.
bool await_status(const std::string& data, const std::string& run, const std::string& status) {
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cli_run(data, {"list", "--status", status}).out.find(run + " ") != std::string::npos)
      return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in{path};
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream{path} << text;
}

/// A data directory whose publish is gated (every call), and the log the
/// test tool writes each execution to.
struct publish_gated {
  temp_dir dir;
  std::string data = dir.file("data");
  std::string log = dir.file("tools.log");
  std::string policy = dir.file("policy.yaml");
  publish_gated() {
    ::setenv("ENDURE_TEST_TOOL_LOG", log.c_str(), 1);
    write_file(policy, "interrupt_on: {publish: true}\n");
  }
};

/// publish needs two of ann, bob, carol; questions anyone.
const char* quorum_policy = R"(
interrupt_on:
  publish:
    approvers: {principals: [ann, bob, carol]}
    quorum: 2
)";

/// Raises the session's requests in a serve of its own, then stops it.
void raise_requests(const std::string& data, const std::string& policy) {
  auto serve = start_serve(data, policy);
  REQUIRE(cli_run(data, {"start", "publish_post", "--id", "p1", "--input", "\"hello\""}).code == 0);
  REQUIRE(cli_run(data, {"start", "publish_post", "--id", "p2", "--input", "\"two\""}).code == 0);
  REQUIRE(cli_run(data, {"start", "publish_post", "--id", "p3", "--input", "\"three\""}).code == 0);
  REQUIRE(cli_run(data, {"start", "ask", "--id", "q1", "--input", "\"Which audience?\""}).code == 0);
  REQUIRE(await_pending(data, 4));
  REQUIRE(stop(*serve) == 0);
}

/// The decisions a reviewer makes, as a transcript; the clock's
/// milliseconds replaced by T.
std::string decisions(const std::string& data) {
  std::vector<std::vector<std::string>> commands{
    {"approve", "p1/0"},
    {"approve", "p1/0", "--as", "mallory"},
    {"approve", "p1/0", "--as", "ann", "--edit", "{\"title\": 5}"},
    {"approve", "p1/0", "--as", "ann", "--edit", "{title"},
    {"approve", "p1/0", "--as", "ann"},
    {"approve", "p1/0", "--as", "ann"},
    {"approve", "p1/0", "--as", "bob"},
    {"approve", "p1/0", "--as", "carol"},
    {"reject", "p2/0", "--as", "carol", "--reason", "not now"},
    {"answer", "p3/0", "published by hand", "--as", "bob"},
    {"answer", "q1/0", "engineers", "--as", "zed"},
    {"reject", "q1/0", "--as", "zed"},
    {"approve", "ghost/0", "--as", "ann"},
  };
  std::string transcript;
  for (auto& c : commands) {
    auto r = cli_run(data, c);
    transcript += "$ " + c.front() + " " + c[1] + "\n" + r.out + r.err + "exit "
                  + std::to_string(r.code) + "\n";
  }
  transcript = std::regex_replace(
    transcript, std::regex{"at [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"},
    "at TIME");
  return std::regex_replace(transcript, std::regex{"in [^ ]*/data;"}, "in DATA;");
}

} // namespace

SCENARIO("approve, reject and answer say the same with serve and without", "[cli][gateway]") {
  temp_dir offline_dir, live_dir;
  auto log = offline_dir.file("tools.log");
  ::setenv("ENDURE_TEST_TOOL_LOG", log.c_str(), 1);
  auto policy = offline_dir.file("policy.yaml");
  write_file(policy, quorum_policy);

  auto offline_data = offline_dir.file("data");
  raise_requests(offline_data, policy);
  auto offline = decisions(offline_data);

  auto live_data = live_dir.file("data");
  raise_requests(live_data, policy);
  auto serve = start_serve(live_data, policy);
  auto live = decisions(live_data);
  INFO("without serve:\n" << offline << "\nwith serve:\n" << live);
  CHECK(live == offline);
  CHECK_THAT(live, Catch::Contains("$ approve p1/0\nendure: request p1/0: say who decides with "
                                   "--as PRINCIPAL"));
  CHECK_THAT(live, Catch::Contains("endure: request p1/0: mallory may not decide it; its "
                                   "approvers are ann, bob, carol\nexit 1"));
  // Under a quorum of 2 one person's edit is refused before its arguments
  // are looked at (it would bypass the second approval).
  CHECK_THAT(live, Catch::Contains("endure: request p1/0: this request needs 2 approvals; an edit "
                                   "would bypass them"));
  CHECK_THAT(live, Catch::Contains("--edit takes the arguments to run as a JSON object"));
  CHECK_THAT(live, Catch::Contains("request p1/0: counted 1 of 2\nexit 0"));
  CHECK_THAT(live, Catch::Contains("ann has approved it already"));
  CHECK_THAT(live, Catch::Contains("request p1/0: decided (approve by ann, bob)\nexit 0"));
  CHECK_THAT(live, Catch::Contains("endure: request p1/0: already decided by ann, bob at TIME; a "
                                   "request is decided once"));
  CHECK_THAT(live, Catch::Contains("request p2/0: decided (reject by carol)\nexit 0"));
  CHECK_THAT(live, Catch::Contains("request p3/0: decided (respond by bob)\nexit 0"));
  CHECK_THAT(live, Catch::Contains("request q1/0: decided (respond by zed)\nexit 0"));
  CHECK_THAT(live, Catch::Contains("endure: request ghost/0: not found in DATA; see `endure "
                                   "inbox`"));

  // Through serve the runs went on at once; without, at the next start.
  for (auto run : {"p1", "p2", "p3", "q1"})
    CHECK(await_status(live_data, run, "completed"));
  CHECK(stop(*serve) == 0);
  auto restarted = start_serve(offline_data, policy);
  for (auto run : {"p1", "p2", "p3", "q1"})
    CHECK(await_status(offline_data, run, "completed"));
  CHECK(stop(*restarted) == 0);
  for (auto& data : {offline_data, live_data}) {
    auto p1 = cli_run(data, {"run", "publish_post", "--id", "p1"});
    CHECK_THAT(p1.out, Catch::Contains("{\\\"published\\\":\\\"hello\\\"}"));
    auto p2 = cli_run(data, {"run", "publish_post", "--id", "p2"});
    CHECK_THAT(p2.out, Catch::Contains("rejected") && Catch::Contains("not now"));
    auto p3 = cli_run(data, {"run", "publish_post", "--id", "p3"});
    CHECK_THAT(p3.out, Catch::Contains("published by hand"));
    CHECK(cli_run(data, {"run", "ask", "--id", "q1"}).out
          == "run q1: completed\n\"answered: engineers\"\n");
    auto audit = cli_run(data, {"request", "p1/0"});
    CHECK_THAT(audit.out, Catch::Contains("decided") && Catch::Contains("delivered:  yes")
                            && Catch::Contains("mallory (cli) approve: refused"));
  }
  // The tool ran once per approval (p1, in each directory): rejected and
  // answered calls never ran, and no restart ran p1 again.
  CHECK(lines_of(log).size() == 2);
}

SCENARIO("a decision with no process running reaches its run at the next start, once",
         "[cli][gateway]") {
  publish_gated g;
  auto &data = g.data, &log = g.log, &policy = g.policy;
  {
    auto serve = start_serve(data, policy);
    REQUIRE(cli_run(data, {"start", "publish_post", "--id", "p1", "--input", "\"x\""}).code == 0);
    REQUIRE(cli_run(data, {"start", "publish_post", "--id", "p2", "--input", "\"y\""}).code == 0);
    REQUIRE(await_pending(data, 2));
    REQUIRE(cli_run(data, {"cancel", "p2"}).code == 0);
    REQUIRE(await_status(data, "p2", "cancelled"));
    REQUIRE(await_pending(data, 1));  // p2's request withdrawn with its run
    REQUIRE(stop(*serve) == 0);
  }
  WHEN("the plain endure binary, which has no tools, edits a call") {
    auto edit = run_program(ENDURE_BIN_PATH, {"--data", data, "approve", "p1/0", "--as", "ann",
                                              "--edit", "{\"title\": \"z\"}"});
    THEN("it is refused, saying to decide next to serve") {
      CHECK(edit.code == 1);
      CHECK_THAT(edit.err, Catch::Contains("endure: request p1/0: ")
                             && Catch::Contains("next to the `endure serve` that runs the tool"));
      CHECK(lines_of(log).empty());
    }
  }
  WHEN("the request of a run that ended is decided") {
    auto late = cli_run(data, {"approve", "p2/0", "--as", "ann"});
    THEN("it is refused: the request was withdrawn with its run") {
      CHECK(late.code == 1);
      CHECK_THAT(late.err, Catch::Contains("endure: request p2/0: already expired at ")
                             && Catch::Contains("(run p2 cancelled before a decision; nobody "
                                                "waits for one any more); a request is decided "
                                                "once"));
      CHECK_THAT(cli_run(data, {"request", "p2/0"}).out,
                 Catch::Contains("withdrawn") && Catch::Contains("ann (cli) approve: refused"));
    }
  }
  WHEN("its run ended where the gateway could not see it, and it is decided with nothing running") {
    {
      auto j = journal::open({.data_dir = data});
      REQUIRE(j);
      write_batch b;
      b.set_status("p1", run_status::failed, "ended by the test", 2);
      REQUIRE((*j)->commit(std::move(b)));
    }
    auto late = cli_run(data, {"approve", "p1/0", "--as", "ann"});
    THEN("the decision withdraws it and is refused, saying why") {
      CHECK(late.code == 1);
      CHECK_THAT(late.err, Catch::Contains("run p1 failed before a decision"));
      CHECK(cli_run(data, {"inbox"}).out.find("p1/0") == std::string::npos);
      CHECK(lines_of(log).empty());
    }
  }
  WHEN("it is approved while nothing runs") {
    auto approved = cli_run(data, {"approve", "p1/0", "--as", "ann"});
    REQUIRE(approved.out == "request p1/0: decided (approve by ann)\n");
    CHECK(cli_run(data, {"list", "--status", "running"}).out.find("p1 ") != std::string::npos);
    // Journaled for the run in the same batch: nothing left to deliver.
    CHECK_THAT(cli_run(data, {"request", "p1/0"}).out, Catch::Contains("delivered:  yes"));
    THEN("the next start runs the tool once, and the one after that not again") {
      auto first = start_serve(data, policy);
      CHECK(await_status(data, "p1", "completed"));
      CHECK(stop(*first) == 0);
      auto second = start_serve(data, policy);
      CHECK(stop(*second) == 0);
      CHECK(lines_of(log) == std::vector<std::string>{R"({"audience":500,"title":"x"})"});
      auto inbox = cli_run(data, {"inbox"}).out;
      CHECK(inbox.find("p1/0") == std::string::npos);
      CHECK(inbox.find("p2/0") == std::string::npos);  // withdrawn: its run ended
    }
  }
}

SCENARIO("a run executed by endure run takes decisions made from another terminal",
         "[cli][gateway]") {
  publish_gated g;
  auto &data = g.data, &log = g.log, &policy = g.policy;
  child_process run{{workflows_cli_bin, "--data", data, "run", "publish_post", "--id", "r1",
                     "--input", "\"hi\"", "--policy", policy}};
  REQUIRE(await_pending(data, 1));
  WHEN("someone tries to start another run in the directory it holds") {
    auto other = cli_run(data, {"start", "publish_post", "--id", "r2", "--input", "\"x\""});
    THEN("it is refused, naming the run it executes and what to do") {
      CHECK(other.code == 1);
      CHECK_THAT(other.err, Catch::Contains("executes only run r1")
                              && Catch::Contains("endure serve"));
    }
  }
  auto approved = cli_run(data, {"approve", "r1/0", "--as", "ann"});
  CHECK(approved.out == "request r1/0: decided (approve by ann)\n");
  auto first = run.read_line(20s);
  REQUIRE(first);
  CHECK(*first == "run r1: completed");
  CHECK(run.wait(20s) == 0);
  CHECK(lines_of(log) == std::vector<std::string>{R"({"audience":500,"title":"hi"})"});
}

SCENARIO("a bad --policy is refused before anything starts", "[cli][gateway]") {
  temp_dir dir;
  auto policy = dir.file("policy.yaml");
  write_file(policy, "interrupt_on:\n  publish: {qorum: 2}\n");
  for (auto cmd : {"serve", "run"}) {
    std::vector<std::string> args{cmd, "--policy", policy};
    if (std::string{cmd} == "run")
      args.insert(args.end(), {"publish_post", "--input", "\"x\""});
    auto r = cli_run(dir.file("data"), args);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains(policy + ":2:13: interrupt_on.publish.qorum: unknown field"));
    CHECK_FALSE(std::filesystem::exists(dir.file("data")));
  }
}

SCENARIO("endure run does not carry on under another policy a run serve gated",
         "[cli][gateway]") {
  publish_gated g;
  auto &data = g.data, &log = g.log, &policy = g.policy;
  auto serve = start_serve(data, policy);
  GIVEN("a run started through serve's --policy by `endure run` without one") {
    child_options merged;
    merged.merge_stderr = true;
    child_process run{{workflows_cli_bin, "--data", data, "run", "publish_post", "--id", "r1",
                       "--input", "\"hi\""},
                      merged};
    REQUIRE(await_pending(data, 1));
    WHEN("serve dies while the run waits for approval") {
      serve->kill_hard();
      auto said = run.read_all(20s);
      auto code = run.wait(20s);
      THEN("run stops too, saying why and what to do, and nothing ran ungated") {
        CHECK(code == 1);
        std::string text;
        for (auto& line : said)
          text += line + "\n";
        CHECK_THAT(text, Catch::Contains("endure serve stopped while it executed run r1")
                           && Catch::Contains("no --policy")
                           && Catch::Contains("endure serve --policy FILE"));
        CHECK(lines_of(log).empty());
        CHECK(await_pending(data, 1));
        // Nor does a later `run` without a policy: the run's requests say it was gated.
        auto later = cli_run(data, {"run", "publish_post", "--id", "r1", "--input", "\"hi\""});
        CHECK(later.code == 1);
        CHECK_THAT(later.err, Catch::Contains("run r1 has had tool calls gated by a policy")
                                && Catch::Contains("give `--policy FILE`"));
        CHECK(await_pending(data, 1));
      }
      AND_THEN("run with serve's --policy carries it on, still gated") {
        child_process again{{workflows_cli_bin, "--data", data, "run", "publish_post", "--id",
                             "r1", "--input", "\"hi\"", "--policy", policy}};
        REQUIRE(await_pending(data, 1));
        CHECK(lines_of(log).empty());
        CHECK(cli_run(data, {"approve", "r1/0", "--as", "ann"}).code == 0);
        auto first = again.read_line(20s);
        REQUIRE(first);
        CHECK(*first == "run r1: completed");
        CHECK(again.wait(20s) == 0);
        CHECK(lines_of(log) == std::vector<std::string>{R"({"audience":500,"title":"hi"})"});
      }
    }
  }
}

SCENARIO("a decision made with nothing running after the deadline passed finds it expired",
         "[cli][gateway]") {
  publish_gated g;
  auto &data = g.data, &log = g.log, &policy = g.policy;
  write_file(policy, "interrupt_on: {publish: {deadline: {after: 1h, outcome: reject}}}\n");
  {
    auto serve = start_serve(data, policy);
    REQUIRE(cli_run(data, {"start", "publish_post", "--id", "p1", "--input", "\"x\""}).code == 0);
    REQUIRE(await_pending(data, 1));
    REQUIRE(stop(*serve) == 0);
  }
  {
    // The hour passes while nothing runs: the row's deadline moved into the past.
    auto j = journal::open({.data_dir = data});
    REQUIRE(j);
    register_event_types((*j)->types());
    auto rec = (*j)->row(side_table::requests, "p1/0");
    REQUIRE(rec);
    REQUIRE(*rec);
    auto r = gateway::from_record(**rec, "p1/0");
    REQUIRE(r);
    auto before = gateway::keys_of(*r);
    r->due_ms = r->created_ms + 1;
    write_batch b;
    b.put_row(side_table::requests, r->id, gateway::to_record(*r));
    gateway::update_index(b, before, *r);
    REQUIRE((*j)->commit(std::move(b)));
  }
  auto late = cli_run(data, {"approve", "p1/0", "--as", "ann"});
  CHECK(late.code == 1);
  CHECK_THAT(late.err, Catch::Contains("already expired at ")
                         && Catch::Contains("no decision within 1h"));
  auto shown = cli_run(data, {"request", "p1/0"}).out;
  CHECK_THAT(shown, Catch::Contains("expired") && Catch::Contains("ann (cli) approve: refused"));
  CHECK(cli_run(data, {"inbox"}).out.find("p1/0") == std::string::npos);
  CHECK(lines_of(log).empty());
}
