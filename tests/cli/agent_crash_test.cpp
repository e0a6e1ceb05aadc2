// The crash test for an agent turn: kill -9 in the middle of a
// run_agent turn with three tool calls (search let through; publish and
// send_email gated, each with its own request) and the restarted process
// sends no chat request again, raises no request twice and runs each tool
// function once. The process (agent_child) is killed at each phase of the
// turn: between two gate steps, while every request waits for a decision,
// and between two tool steps; the decisions are made with `endure approve`
// while nothing runs. Real child processes, real HTTP over loopback to a
// fake OpenAI server in this process, real LMDB.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>

#include "cli/serve_child.hpp"
#include "endure/cli/journal_view.hpp"
#include "endure/cli/request_rows.hpp"
#include "endure/net/fake_openai_server.hpp"
#include "support/child_process.hpp"
#include "support/eventually.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

const std::string run = "agent-run";

/// Reads the child's lines until one starts with `prefix` (bounded).
std::optional<std::string> line_starting(child_process& child, const std::string& prefix) {
  for (int i = 0; i < 50; ++i) {
    auto line = child.read_line(20s);
    if (!line)
      return std::nullopt;
    if (line->rfind(prefix, 0) == 0)
      return line;
  }
  return std::nullopt;
}

/// Tool -> its request row, read-only next to the child.
std::map<std::string, gateway::human_request> requests(const std::string& data) {
  auto view = cli::open_journal_view(data);
  REQUIRE(view);
  auto listing = cli::read_requests(**view);
  REQUIRE(listing);
  CHECK(listing->damaged.empty());
  std::map<std::string, gateway::human_request> out;
  for (auto& r : listing->requests) {
    CHECK(out.count(r.tool) == 0);  // one request per call, never a second
    out[r.tool] = r;
  }
  return out;
}

/// How often each completed step name is in the run's journal.
std::map<std::string, int> steps(const std::string& data) {
  auto view = cli::open_journal_view(data);
  REQUIRE(view);
  auto events = cli::read_events(**view, run);
  REQUIRE(events);
  std::map<std::string, int> out;
  for (auto& e : *events)
    if (auto* done = std::get_if<step_completed_event>(&e.event))
      ++out[done->name];
  return out;
}

run_status status(const std::string& data) {
  auto view = cli::open_journal_view(data);
  REQUIRE(view);
  auto meta = (*view)->run(run);
  REQUIRE(meta);
  return meta->status;
}

/// The tools that did their work, in order, one line per execution.
std::vector<std::string> executions(const std::string& log) {
  std::vector<std::string> out;
  std::ifstream in{log};
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

} // namespace

SCENARIO("kill -9 at each phase of an agent turn with three tool calls repeats no chat "
         "request, no request and no tool", "[cli][agent][crash]") {
  net::fake_openai_server server;
  temp_dir dir;
  auto data = dir.file("data");
  auto log = dir.file("tools.log");
  auto policy = dir.file("policy.yaml");
  std::ofstream{policy} << "interrupt_on: {publish: true, send_email: true}\n";
  auto child = [&](std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{AGENT_CHILD_PATH, data, server.base_url(), policy, log};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<child_process>(argv);
  };

  // 1. Between two gate steps: publish's request is raised and the child
  // holds its only actor worker, so the run journals nothing more. Almost
  // always send_email's gate has not started; rarely (the gateway's thread
  // was late to tell) it raised its request too, but the step is never
  // journaled: both are kills between the two gate steps.
  std::string publish_id;
  std::optional<std::string> early_mail;
  {
    auto first = child({"--hold-first-request"});
    auto held = line_starting(*first, "holding ");
    REQUIRE(held);
    publish_id = held->substr(8);
    auto raised = requests(data);
    REQUIRE(raised.count("publish"));
    CHECK(raised["publish"].id == publish_id);
    if (raised.count("send_email"))
      early_mail = raised["send_email"].id;
    auto journaled = steps(data);
    CHECK(journaled.count("gate:send_email") == 0);
    CHECK(journaled.count("tool:search") == 0);
    CHECK(executions(log).empty());
    first->kill_hard();
  }
  CHECK(server.requests() == 1);

  // 2. While both requests wait: the restart raises send_email's alone.
  std::string mail_id;
  {
    auto second = child();
    auto waiting = line_starting(*second, "waiting ");
    for (int i = 0; waiting && waiting->find(" send_email") == std::string::npos && i < 5; ++i)
      waiting = line_starting(*second, "waiting ");
    REQUIRE(waiting);
    REQUIRE_THAT(*waiting, Catch::EndsWith(" send_email"));
    REQUIRE(eventually([&] { return status(data) == run_status::waiting; }, 20s));
    auto raised = requests(data);
    REQUIRE(raised.size() == 2);
    CHECK(raised["publish"].id == publish_id);  // the same request, not a second
    mail_id = raised["send_email"].id;
    CHECK(mail_id != publish_id);
    if (early_mail)
      CHECK(mail_id == *early_mail);
    auto journaled = steps(data);
    CHECK(journaled["gate:search"] == 1);
    CHECK(journaled["gate:publish"] == 1);
    CHECK(journaled["gate:send_email"] == 1);
    CHECK(executions(log).empty());  // nothing ran: the turn waits as a whole
    second->kill_hard();
  }
  CHECK(server.requests() == 1);

  // Decided while nothing runs.
  REQUIRE(cli_run(data, {"approve", publish_id, "--as", "ann"}).code == 0);
  REQUIRE(cli_run(data, {"approve", mail_id, "--as", "bob"}).code == 0);
  CHECK(executions(log).empty());

  // 3. Between two tool steps: search ran and is journaled, publish holds
  // before doing anything.
  {
    auto third = child({"--hold-tool", "publish"});
    REQUIRE(line_starting(*third, "tool publish holding"));
    CHECK(executions(log) == std::vector<std::string>{"search"});
    auto journaled = steps(data);
    CHECK(journaled["tool:search"] == 1);
    CHECK(journaled.count("tool:publish") == 0);
    third->kill_hard();
  }
  CHECK(server.requests() == 1);

  // 4. The restart finishes the turn and asks the model once more.
  auto last = child();
  auto result = line_starting(*last, "result: ");
  REQUIRE(result);
  CHECK(last->wait(20s) == 0);
  auto answer = nlohmann::json::parse(result->substr(8));
  CHECK(answer["turns"] == 2);
  CHECK(answer["tools_called"] == nlohmann::json{"search", "publish", "send_email"});
  CHECK(answer["tool_calls"] == 3);
  CHECK(answer["rejected"] == 0);
  CHECK(answer["tool_errors"] == 0);

  // Each tool function did its work once, in call order, across four
  // processes.
  CHECK(executions(log) == std::vector<std::string>{"search", "publish", "send_email"});
  // One chat request per journaled turn, none sent twice.
  auto journaled = steps(data);
  CHECK(journaled["agent/turn 1"] == 1);
  CHECK(journaled["agent/turn 2"] == 1);
  CHECK(journaled.count("agent/turn 3") == 0);
  CHECK(server.requests() == 2);
  auto got = server.received();
  REQUIRE(got.size() == 2);
  CHECK(got[0].target == "/v1/chat/completions");
  CHECK(got[0].body != got[1].body);
  // The two requests raised once, with the same ids, and both decided.
  auto raised = requests(data);
  CHECK(raised.size() == 2);
  CHECK(raised["publish"].id == publish_id);
  CHECK(raised["send_email"].id == mail_id);
  CHECK(raised["publish"].status == gateway::request_status::decided);
  CHECK(raised["send_email"].status == gateway::request_status::decided);
  CHECK(journaled["gate:publish"] == 1);
  CHECK(journaled["tool:publish"] == 1);
  CHECK(journaled["tool:send_email"] == 1);
  CHECK(status(data) == run_status::completed);
}
