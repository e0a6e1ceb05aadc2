// `endure demo` end to end, as a user runs it: the worker is killed with
// SIGKILL part way, restarted, and the summary shows the runs completed and
// steps replayed from the journal; `inspect` then shows retried steps with
// their error classes. And the summary's figures from a journal built by a
// real runtime: what a restart without the journal would run again counts
// only the runs that had not finished.
#include <catch2/catch.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <nlohmann/json.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "endure/actors/endure.hpp"
#include "cli/cli_runner.hpp"
#include "endure/cli/demo_journal.hpp"
#include "endure/net/fake_openai_server.hpp"
#include "endure/net/llm_backend.hpp"
#include "support/temp_dir.hpp"

using namespace endure::test;
using namespace std::chrono_literals;

namespace {

long number_after(const std::string& text, const std::string& label) {
  std::smatch m;
  std::regex re{label + R"(\s*(\d+))"};
  return std::regex_search(text, m, re) ? std::stol(m[1]) : -1;
}

/// Three model calls, a wait for signal "go", one more call.
endure::task<std::string> calls_then_gate(endure::context& ctx, std::string topic) {
  std::string last;
  for (int i = 0; i < 3; ++i) {
    endure::net::chat_request req;
    req.messages = {endure::net::chat_message::user(topic + " part " + std::to_string(i))};
    auto name = "call" + std::to_string(i);
    auto ask = ctx.llm(name, std::move(req));
    auto answer = co_await std::move(ask);
    last = answer.content;
  }
  auto go = co_await ctx.wait_signal<std::string>("go", std::chrono::hours(1));
  endure::net::chat_request req;
  req.messages = {endure::net::chat_message::user(topic + " " + go.value_or("-"))};
  auto ask = ctx.llm("final", std::move(req));
  auto answer = co_await std::move(ask);
  co_return answer.content;
}

} // namespace

SCENARIO("a restart from scratch would redo only the runs that had not finished",
         "[cli][demo]") {
  using namespace endure;
  temp_dir dir;
  net::llm_config model;  // the sim, priced
  model.input_price_per_1k = 0.0025;
  model.output_price_per_1k = 0.01;
  runtime_options opts;
  opts.journal.data_dir = dir.path();
  opts.journal.mode = durability::nosync;
  opts.llm = net::make_llm_backend(model);
  workflow_registry workflows;
  workflows.add("calls_then_gate", &calls_then_gate);
  {
    caf::actor_system_config cfg;
    caf::actor_system sys{cfg};
    auto rt = runtime::open(sys, std::move(opts), std::move(workflows));
    REQUIRE(rt);
    auto& r = **rt;
    REQUIRE(r.start("calls_then_gate", "finished", std::string{"a"}));
    REQUIRE(r.signal("finished", "go", std::string{"now"}));
    REQUIRE(r.wait("finished", 20s)->status == run_status::completed);
    REQUIRE(r.start("calls_then_gate", "unfinished", std::string{"b"}));
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (r.store().run("unfinished")->status != run_status::waiting
           && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(5ms);
    REQUIRE(r.store().run("unfinished")->status == run_status::waiting);
    rt->reset();  // the "kill": the unfinished run stays parked in the journal
  }
  auto t = cli::read_demo_totals(dir.path(), {"finished", "unfinished"});
  REQUIRE(t);
  auto finished = t->runs[0], unfinished = t->runs[1];
  REQUIRE(finished.steps_done >= 4);
  REQUIRE(unfinished.steps_done >= 3);
  CHECK(t->steps_done == finished.steps_done + unfinished.steps_done);
  THEN("only the unfinished run's completed steps and their cost count") {
    CHECK(t->redo.runs == 1);
    CHECK(t->redo.steps == unfinished.steps_done);
    CHECK(t->redo.steps < t->steps_done);
    journal_options view;
    view.data_dir = dir.path();
    view.read_only = true;
    auto j = journal::open(view);
    REQUIRE(j);
    register_event_types((*j)->types());
    auto cost = read_run_usage(**j, "unfinished")->cost_usd;
    CHECK(cost > 0);
    CHECK(t->redo.cost_usd == Approx(cost));
    CHECK(t->redo.cost_usd < t->cost_usd);
  }
}

namespace {

const char* demo_runs[] = {"demo-durable-execution", "demo-llm-agents", "demo-lmdb-journal",
                           "demo-actor-model"};

/// The step names of a run, in order, from `endure inspect --json`.
std::vector<std::string> step_names(const nlohmann::json& run) {
  std::vector<std::string> out;
  for (auto& step : run["steps"])
    out.push_back(step["name"].get<std::string>());
  return out;
}

std::ptrdiff_t position(const std::vector<std::string>& names, const std::string& name) {
  auto it = std::find(names.begin(), names.end(), name);
  return it == names.end() ? -1 : it - names.begin();
}

std::vector<std::string> articles_in(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::ifstream in(it->path());
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

} // namespace

SCENARIO("the demo survives its own SIGKILL and replays completed steps", "[cli][demo]") {
  temp_dir dir;
  auto demo = run_endure({"--data", dir.path(), "demo", "--latency-ms", "30",
                          "--timeout-ms", "400"}, 180s);
  INFO(demo.out << demo.err);
  REQUIRE(demo.code == 0);
  CHECK_THAT(demo.out, Catch::Contains("model: sim"));
  CHECK_THAT(demo.out, Catch::Contains("killed worker pid"));
  CHECK_THAT(demo.out, Catch::Contains("runs completed: 4 of 4"));
  auto replayed = number_after(demo.out, "steps replayed from the journal instead of re-run:");
  CHECK(replayed > 0);
  CHECK_THAT(demo.out, Catch::Contains("cost a restart from scratch would have spent again: $"));
  // The two figures count the same steps: those the unfinished runs had
  // completed before the kill.
  std::smatch redo;
  REQUIRE(std::regex_search(demo.out, redo, std::regex{R"(\(the (\d+) steps the (\d+) unfinished)"}));
  CHECK(std::stol(redo[1]) == replayed);
  CHECK_THAT(demo.out, !Catch::Contains("note: the journal held"));

  // Pillar 2: every publish waited for an editor, the ambiguous keyword's
  // question for a person; the kill fell while a request was pending, and
  // its decision, made while the worker was down, reached the run.
  CHECK_THAT(demo.out, Catch::Contains("people in the loop: 4 publish(es) held for approval, "
                                       "1 question(s) asked, 0 still pending"));
  CHECK_THAT(demo.out, Catch::Contains("decisions: approve 3 edit 1 respond 1"));
  CHECK_THAT(demo.out, Catch::Contains("decided by: ann 1 ed 4"));
  CHECK(number_after(demo.out, "decided while the worker was down:") >= 1);
  CHECK(number_after(demo.out, "articles published:") == 4);
  auto articles = articles_in(dir.file("demo-site"));
  CHECK(articles.size() == 4);
  CHECK(std::count_if(articles.begin(), articles.end(), [](const std::string& a) {
          return a.find("# A practical guide to ") != std::string::npos;
        }) == 1);  // the editor's edit is what was published

  // Stage 4: every confidently wrong reading of round 1 was escalated and
  // corrected; the second round of similar keywords needed fewer people,
  // and the one name the matrix had not met was still escalated.
  auto first = number_after(demo.out, "escalation matrix: round 1 escalated");
  auto second = number_after(demo.out, "round 2, similar keywords:");
  CHECK_THAT(demo.out, Catch::Contains("(the reviewer corrected 3)"));
  CHECK(first == 8);
  CHECK(second >= 0);
  CHECK(second < first);
  CHECK_THAT(demo.out, Catch::Contains("reviewer corrects it: the Swift programming language"));
  CHECK_THAT(demo.out, Catch::Contains("escalated 'kafka': score"));

  // Stage 5: the content calendar, killed after 4 sessions, resumed: every
  // page passes on evidence, one session per page after the initializer.
  CHECK_THAT(demo.out, Catch::Contains("killed the calendar worker with SIGKILL after 4 sessions"));
  CHECK_THAT(demo.out, Catch::Contains("content calendar: 8 of 8 pages pass on evidence after 9 "
                                       "sessions"));
  CHECK_THAT(demo.out, Catch::Contains("llm-agents-faq           passing  1 verification(s); "
                                       "last: passed"));
  auto calendar = run_endure({"--data", dir.file("demo-long-task"), "task", "content-calendar",
                              "--json"});
  REQUIRE(calendar.code == 0);
  auto report = nlohmann::json::parse(calendar.out);
  CHECK(report["ledger"]["complete"] == true);
  CHECK(report["progress"].size() == 9);
  CHECK(report["commits"].size() == 10);  // "Workspace created" + one per write-back

  // Each run's timeline: the agent's tools in order, each run once; the
  // publish only after its decision; some model calls retried by class.
  std::size_t failed_then_completed = 0;
  std::set<std::string> classes;
  std::string all_text;
  for (auto run : demo_runs) {
    auto r = run_endure({"--data", dir.file("demo"), "inspect", run, "--json"});
    REQUIRE(r.code == 0);
    auto j = nlohmann::json::parse(r.out);
    INFO(run << ": " << r.out);
    CHECK(j["status"] == "completed");
    auto names = step_names(j);
    for (auto tool : {"tool:search", "tool:read", "tool:draft", "tool:publish"})
      CHECK(std::count(names.begin(), names.end(), tool) == 1);
    CHECK(position(names, "tool:search") < position(names, "tool:read"));
    CHECK(position(names, "tool:read") < position(names, "tool:draft"));
    CHECK(position(names, "tool:draft") < position(names, "gate:publish"));
    // The wait for the editor's decision (a step named by its signal,
    // "decision:REQUEST") between the gate and the publish.
    auto decided = std::find_if(names.begin() + std::max<std::ptrdiff_t>(0, position(names, "gate:publish")),
                                names.end(), [](const std::string& n) {
                                  return n.rfind("decision:", 0) == 0;
                                });
    REQUIRE(decided != names.end());
    CHECK(position(names, "gate:publish") < decided - names.begin());
    CHECK(decided - names.begin() < position(names, "tool:publish"));
    bool asks = std::string{run} == "demo-actor-model";  // the ambiguous keyword
    CHECK((position(names, "ask_human") >= 0) == asks);
    if (asks)
      CHECK(position(names, "ask_human") < position(names, "tool:search"));
    for (auto& step : j["steps"]) {
      auto& attempts = step["attempts"];
      if (attempts.size() > 1 && attempts.back()["outcome"] == "completed"
          && attempts.front().contains("error_class")) {
        ++failed_then_completed;
        classes.insert(attempts.front()["error_class"].get<std::string>());
      }
    }
    all_text += run_endure({"--data", dir.file("demo"), "inspect", run}).out;
  }
  CHECK(failed_then_completed > 0);
  CHECK_FALSE(classes.empty());
  for (auto& c : classes)
    CHECK((c == "retryable" || c == "rate_limited"));
  // The text timeline names the error class of a retried attempt.
  CHECK(std::regex_search(all_text, std::regex{"failed after .*: (retryable|rate_limited)"}));
  // Run twice on the same data directory: a fresh demo.
  {
    auto again = run_endure({"--data", dir.path(), "demo", "--latency-ms", "20",
                             "--timeout-ms", "400", "--keyword", "rust"}, 180s);
    INFO(again.out << again.err);
    CHECK(again.code == 0);
    CHECK_THAT(again.out, Catch::Contains("runs completed: 1 of 1"));
    CHECK(articles_in(dir.file("demo-site")).size() == 1);
  }
}

SCENARIO("with --interactive the person at the terminal decides", "[cli][demo]") {
  temp_dir dir;
  // The ambiguous keyword asks first (an open question: an empty line is
  // no answer, the next line is). Then its publish waits: "no" is not a
  // decision (asked again), then rejected with a reason. End of input
  // after that.
  auto demo = run_endure({"--data", dir.path(), "demo", "--latency-ms", "20",
                          "--timeout-ms", "400", "--keyword", "actor model", "--interactive"},
                         180s, "\nfor engineers\nno\n r \nnot ready for the blog\n");
  INFO(demo.out << demo.err);
  REQUIRE(demo.code == 0);
  CHECK_THAT(demo.out, Catch::Contains("reviewer: you (--interactive)"));
  CHECK_THAT(demo.out, Catch::Contains("the agent asks: "));
  CHECK_THAT(demo.out, Catch::Contains("you: respond \"for engineers\""));
  CHECK_THAT(demo.out, Catch::Contains("Publishing puts the article on the public blog"));
  CHECK_THAT(demo.out, Catch::Contains("(type a, e or r)"));
  CHECK_THAT(demo.out, Catch::Contains("decisions: reject 1 respond 1"));
  CHECK_THAT(demo.out, Catch::Contains("decided by: ed 1 you 1"));
  CHECK(number_after(demo.out, "articles published:") == 0);
  CHECK(articles_in(dir.file("demo-site")).empty());
  auto run = run_endure({"--data", dir.file("demo"), "inspect", "demo-actor-model", "--json"});
  auto j = nlohmann::json::parse(run.out);
  CHECK(j["status"] == "completed");
  auto names = step_names(j);
  CHECK(position(names, "tool:publish") == -1);  // rejected: it never ran
  CHECK_THAT(run.out, Catch::Contains("not ready for the blog"));
}

SCENARIO("when the input ends the scripted reviewer takes over", "[cli][demo]") {
  temp_dir dir;
  auto demo = run_endure({"--data", dir.path(), "demo", "--latency-ms", "20",
                          "--timeout-ms", "400", "--keyword", "rust", "--interactive"},
                         180s, "");
  INFO(demo.out << demo.err);
  REQUIRE(demo.code == 0);
  CHECK_THAT(demo.out, Catch::Contains("end of input: the scripted reviewer decides"));
  CHECK_THAT(demo.out, Catch::Contains("runs completed: 1 of 1"));
  CHECK(number_after(demo.out, "articles published:") == 1);
}

SCENARIO("the demo runs against an OpenAI-compatible endpoint", "[cli][demo]") {
  endure::net::fake_server_options opts;
  opts.sim.latency = 20ms;
  opts.sim.rate_limit_rate = 0.05;
  opts.sim.retry_after = 100ms;
  opts.sim.server_error_rate = 0.05;
  opts.hang = 2s;
  endure::net::fake_openai_server server{opts};
  temp_dir dir;
  auto demo = run_endure({"--data", dir.path(), "demo", "--endpoint", server.base_url(),
                          "--model", "test-model", "--api-key-env", "", "--timeout-ms", "1000",
                          "--keyword", "rust", "--keyword", "lmdb"}, 180s);
  INFO(demo.out << demo.err);
  REQUIRE(demo.code == 0);
  CHECK_THAT(demo.out, Catch::Contains("OpenAI-compatible endpoint " + server.base_url()));
  CHECK_THAT(demo.out, !Catch::Contains("model: sim"));
  CHECK_THAT(demo.out, Catch::Contains("runs completed: 2 of 2"));
  CHECK(number_after(demo.out, "steps replayed from the journal instead of re-run:") > 0);
  CHECK(server.requests() >= 10);  // 5 model turns per keyword, retries on top
}

SCENARIO("demo usage errors", "[cli][demo]") {
  temp_dir dir;
  auto r = run_endure({"--data", dir.path(), "demo", "--endpoint", "http://127.0.0.1:1/v1"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("--model"));
  std::ofstream{dir.file("bad.yaml")} << "interrupt_on:\n  publish: {qorum: 2}\n";
  struct refused_case {
    std::vector<std::string> args;
    std::string says;
  };
  for (auto& c : std::vector<refused_case>{
         {{"--keyword", "a b", "--keyword", "a-b"}, "names the same run (demo-a-b)"},
         {{"--keyword", ""}, "--keyword '' is empty"},
         {{"--keyword", "a\nb"}, "cannot name a run: run id contains a control character"},
         {{"--policy", dir.file("bad.yaml")}, "bad.yaml:2:13: interrupt_on.publish.qorum"}}) {
    std::vector<std::string> args{"--data", dir.file("d"), "demo"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto refused = run_endure(args);
    INFO(c.says);
    CHECK(refused.code == 2);
    CHECK_THAT(refused.err, Catch::StartsWith("endure: demo: ") && Catch::Contains(c.says));
    CHECK_FALSE(std::filesystem::exists(dir.file("d")));  // refused before anything started
  }
}

SCENARIO("the demo leaves alone a data directory another process holds", "[cli][demo]") {
  temp_dir dir;
  // Any stage's directory (here the last stage's), held open for writing as
  // an `endure serve` the demo's hint suggests would hold it.
  auto held_dir = dir.file("demo-long-task");
  auto held = endure::journal::open({.data_dir = held_dir});
  REQUIRE(held);
  endure::run_meta keep;
  keep.id = "keep-me";
  keep.workflow = "wf";
  REQUIRE((*held)->create_run_if_absent(keep));
  auto r = run_endure({"--data", dir.path(), "demo"});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains(held_dir) && Catch::Contains("held by process"));
  // Refused before anything was written or deleted.
  CHECK(std::filesystem::exists(held_dir + "/data.mdb"));
  CHECK((*held)->run("keep-me"));
  CHECK_FALSE(std::filesystem::exists(dir.file("demo")));
}
