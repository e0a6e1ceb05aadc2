// run_long_task over the sim in a real runtime on real LMDB and a real git
// workspace: the initializer does no work; each session works one item,
// verifies it and writes back once (one commit, one progress entry); an
// agent that only claims to be done does not complete the task, nor does a
// forged "passing"; at the session limit a person continues, overrides
// (audited) or stops; a session can run on another model, also after a
// restart, and carries on from state.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <nlohmann/json.hpp>

#include "actors/runtime_fixture.hpp"
#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/state/ledger_json.hpp"
#include "endure/actors/state/ledger_store.hpp"
#include "endure/actors/state/memory_types.hpp"
#include "endure/actors/state/record_tags.hpp"
#include "endure/actors/state/session_loop.hpp"
#include "endure/actors/state/workspace.hpp"
#include "endure/net/llm_backend.hpp"
#include "support/eventually.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// The workspace of the running test (the tools write into it).
std::string workspace_dir;
std::atomic<int> docs_written{0};
std::atomic<int> env_prepared{0};
std::atomic<int> env_checked{0};
std::mutex model_mutex;
std::string next_model = "model-a";

std::string ledger_text(int n) {
  json items = json::array();
  for (int i = 1; i <= n; ++i) {
    auto id = "doc-" + std::to_string(i);
    items.push_back({{"id", id},
                     {"description", "Write the page about topic " + std::to_string(i)},
                     {"priority", i == 2 ? 0 : 1},  // doc-2 first, then ledger order
                     {"acceptance", {"has a title", "at least 20 words"}},
                     {"verification",
                      {{"command", "grep -q '^# ' docs/" + id + ".md && test $(wc -w < docs/" + id
                                     + ".md) -ge 20"},
                       {"timeout_ms", 5000}}}});
  }
  return json{{"items", items}}.dump();
}

/// The tool that does the work: writes the current item's page, read from
/// what the runtime told the tools (.endure/current-item.json).
std::shared_ptr<const agent::tool_registry> tools() {
  auto r = std::make_shared<agent::tool_registry>();
  json schema = {{"type", "object"},
                 {"properties", {{"content", {{"type", "string"}, {"minLength", 200}}}}},
                 {"required", {"content"}}};
  REQUIRE(r->add({"write_doc", "Writes the current item's page.", schema, [](const json& args) {
                    std::ifstream in{workspace_dir + "/.endure/current-item.json"};
                    auto item = json::parse(in);
                    std::filesystem::create_directories(workspace_dir + "/docs");
                    std::ofstream{workspace_dir + "/docs/" + item["id"].get<std::string>() + ".md"}
                      << "# " << item["description"].get<std::string>() << "\n\n"
                      << args["content"].get<std::string>() << "\n";
                    ++docs_written;
                    return json{{"written", item["id"]}};
                  }}));
  // Init and check as tools: init makes docs/ (counted); the check fails
  // until init has run twice (a flaky environment the agent must be told of).
  REQUIRE(r->add({"prepare_env", "Prepares the environment.",
                  {{"type", "object"}}, [](const json& args) {
                    std::filesystem::create_directories(workspace_dir + "/"
                                                        + args.value("dir", "docs"));
                    return json{{"prepared", ++env_prepared}};
                  }}));
  REQUIRE(r->add({"env_check", "Checks the environment end to end.",
                  {{"type", "object"}}, [](const json&) {
                    ++env_checked;
                    return json{{"ok", env_prepared >= 2}};
                  }}));
  // A tool a model could use to forge its ledger: it only writes a file.
  REQUIRE(r->add({"claim_done", "Marks the current item done.",
                  {{"type", "object"}, {"properties", json::object()}}, [](const json&) {
                    std::ofstream{workspace_dir + "/.endure/current-item.json"}
                      << R"({"status": "passing"})";
                    return json{{"status", "passing"}};
                  }}));
  return r;
}

state::long_task_spec base_spec(int items, std::string instructions) {
  state::long_task_spec spec;
  spec.task = "manual";
  spec.goal = "Write a small manual, one page per item.";
  auto parsed = state::ledger_spec_from_json(ledger_text(items));
  REQUIRE(parsed);
  spec.items = *parsed;
  spec.workspace = workspace_dir;
  spec.init_command = "mkdir -p docs";
  spec.check_command = "test -d docs";
  spec.agent.system_prompt = std::move(instructions);
  spec.context_budget_tokens = 3000;
  spec.model = [] {
    std::lock_guard g{model_mutex};
    return next_model;
  };
  return spec;
}

task<state::long_task_result> writer(context& ctx, std::string) {
  auto spec = base_spec(3, "You write one page per session. [sim: call write_doc]");
  spec.agent.tools = {"write_doc"};
  co_return co_await state::run_long_task(ctx, spec);
}

task<state::long_task_result> two_per_session(context& ctx, std::string) {
  auto spec = base_spec(5, "You write pages. [sim: call write_doc]");
  spec.agent.tools = {"write_doc"};
  spec.items_per_session = 2;
  co_return co_await state::run_long_task(ctx, spec);
}

/// Never writes a page: it says it is done, and "marks" it so.
task<state::long_task_result> boaster(context& ctx, std::string) {
  auto spec = base_spec(2, "Everything is already done. [sim: call claim_done]");
  spec.agent.tools = {"claim_done"};
  spec.max_sessions = 2;
  co_return co_await state::run_long_task(ctx, spec);
}

/// The writer, remembering each session's summary and recalling before work.
task<state::long_task_result> remembering(context& ctx, std::string) {
  auto spec = base_spec(3, "You write one page per session. [sim: call write_doc]");
  spec.agent.tools = {"write_doc"};
  spec.memory_namespace = "manual/notes";
  co_return co_await state::run_long_task(ctx, spec);
}

/// The state may fill the whole budget, and the agent may also ask a
/// person: the first turn must still fit (the tools' schemas and each
/// message's overhead are counted before the state is assembled).
task<state::long_task_result> full_share(context& ctx, std::string) {
  auto spec = base_spec(40, "You write one page per session. [sim: call write_doc]");
  spec.agent.tools = {"write_doc", "ask_human"};
  spec.state_share = 1.0;
  spec.context_budget_tokens = 520;
  spec.max_sessions = 1;
  co_return co_await state::run_long_task(ctx, spec);
}

/// Init and check as tools instead of commands.
task<state::long_task_result> tool_environment(context& ctx, std::string) {
  auto spec = base_spec(2, "You write one page per session. [sim: call write_doc]");
  spec.agent.tools = {"write_doc"};
  spec.init_command.clear();
  spec.check_command.clear();
  spec.init_tool = "prepare_env";
  spec.init_tool_args = R"({"dir": "docs"})";
  spec.check_tool = "env_check";
  spec.check_tool_expect = R"({"ok": true})";
  co_return co_await state::run_long_task(ctx, spec);
}

/// Each way of getting init and check tools wrong, chosen by the input.
task<state::long_task_result> bad_environment(context& ctx, std::string which) {
  auto spec = base_spec(1, "x");
  if (which == "both")
    spec.init_tool = "prepare_env";  // init_command is set too
  else if (which == "unknown")
    spec.check_command.clear(), spec.check_tool = "no_such_tool";
  else if (which == "args")
    spec.init_command.clear(), spec.init_tool = "prepare_env", spec.init_tool_args = "[1]";
  else
    spec.check_command.clear(), spec.check_tool = "env_check", spec.check_tool_expect = "{oops";
  co_return co_await state::run_long_task(ctx, spec);
}

/// The workspace is a file, not a directory.
task<state::long_task_result> file_workspace(context& ctx, std::string) {
  auto spec = base_spec(1, "x");
  spec.workspace = workspace_dir + "/not-a-dir";
  co_return co_await state::run_long_task(ctx, spec);
}

task<state::long_task_result> bad_spec(context& ctx, std::string) {
  auto spec = base_spec(1, "x");
  spec.workspace.clear();
  co_return co_await state::run_long_task(ctx, spec);
}

void workflows(workflow_registry& r) {
  r.add("writer", &writer);
  r.add("two_per_session", &two_per_session);
  r.add("boaster", &boaster);
  r.add("bad_spec", &bad_spec);
  r.add("remembering", &remembering);
  r.add("full_share", &full_share);
  r.add("file_workspace", &file_workspace);
  r.add("tool_environment", &tool_environment);
  r.add("bad_environment", &bad_environment);
}

/// The sim, keeping every request's messages (what each call's context was).
class recording_model : public net::llm_backend {
public:
  recording_model() : sim_(net::make_llm_backend({})) {}
  const std::string& name() const noexcept override { return sim_->name(); }
  void chat(net::chat_request request, chat_callback done) override {
    {
      std::lock_guard g{m_};
      prompts_.push_back(request.messages.size() > 1 ? request.messages[1].content : "");
    }
    sim_->chat(std::move(request), std::move(done));
  }
  void embed(net::embedding_request request, embed_callback done) override {
    sim_->embed(std::move(request), std::move(done));
  }
  std::vector<std::string> prompts() {
    std::lock_guard g{m_};
    return prompts_;
  }

private:
  std::unique_ptr<net::llm_backend> sim_;
  std::mutex m_;
  std::vector<std::string> prompts_;
};

std::shared_ptr<recording_model> recorder;

void with_memory(runtime_options& o) {
  o.tools = tools();
  recorder = std::make_shared<recording_model>();
  o.llm = recorder;
  o.memory = std::make_shared<state::memory_options>();
}

void with_recorder(runtime_options& o) {
  o.tools = tools();
  recorder = std::make_shared<recording_model>();
  o.llm = recorder;
}

void with_sim(runtime_options& o) {
  o.tools = tools();
  o.llm = net::make_llm_backend({});
  o.passivate_after = 10ms;
}

journal& store_of(runtime_fixture& f) { return const_cast<journal&>(f.rt().store()); }

std::vector<state::workspace_commit> git_log() {
  auto ws = state::workspace::open_or_init(workspace_dir);
  REQUIRE(ws);
  auto log = ws->log(1000);
  REQUIRE(log);
  return *log;
}

std::vector<state::progress_entry> progress(runtime_fixture& f) {
  auto log = state::ledger_store{store_of(f)}.progress("manual");
  REQUIRE(log);
  CHECK(log->damaged.empty());
  return log->entries;
}

std::vector<std::string> step_names(runtime_fixture& f, const std::string& run) {
  std::vector<std::string> out;
  for (auto& e : f.events<step_completed_event>(run))
    out.push_back(e.name);
  return out;
}

std::optional<gateway::human_request> pending_question(runtime_fixture& f, const std::string& run) {
  auto page = f.rt().store().rows(side_table::requests, run + "/", "", 10);
  REQUIRE(page);
  for (auto& row : page->rows) {
    auto r = gateway::from_record(row.rec, row.key);
    REQUIRE(r);
    if (r->status == gateway::request_status::pending)
      return *r;
  }
  return std::nullopt;
}

/// The question the session limit raises for run `run`, once it is raised
/// (a test failure if it is not within 30 s).
gateway::human_request question_at_limit(runtime_fixture& f, const std::string& run) {
  std::optional<gateway::human_request> asked;
  REQUIRE(eventually([&] { return (asked = pending_question(f, run)).has_value(); }, 30s));
  return *asked;
}

} // namespace

SCENARIO("a long task works one item per session until every item passes on evidence",
         "[state][session]") {
  test::temp_dir dir;
  workspace_dir = dir.path() + "/ws";
  docs_written = 0;
  next_model = "model-a";
  runtime_fixture f{workflows, with_sim};
  REQUIRE(f.rt().start("writer", "w1", std::string{}));
  auto out = f.ended("w1", 30s);
  REQUIRE(out.status == run_status::completed);
  auto result = out.value<state::long_task_result>();
  THEN("three work sessions after the initializer, every item passing with evidence") {
    CHECK(result.sessions == 4);
    CHECK(result.items == 3);
    CHECK(result.verified == 3);
    CHECK(result.overridden == 0);
    CHECK(docs_written == 3);
    auto items = state::ledger_store{store_of(f)}.items("manual");
    REQUIRE(items);
    for (auto& it : *items) {
      CHECK(it.status == state::item_status::passing);
      REQUIRE(it.last);
      CHECK(it.last->passed);
      CHECK(it.last->exit_status == 0);
    }
    CHECK(state::ledger_store{store_of(f)}.task("manual")->value().completed_ms > 0);
  }
  THEN("one commit and one progress entry per write-back, the initializer's first") {
    auto log = git_log();
    auto entries = progress(f);
    REQUIRE(entries.size() == 4);
    // open_or_init's "Workspace created", then one per write-back.
    REQUIRE(log.size() == 1 + entries.size());
    CHECK_THAT(log.back().message, Catch::StartsWith("Workspace created"));
    CHECK(entries[0].ended == "initialized");
    CHECK(entries[0].items.empty());
    // Newest first in git; the highest priority (doc-2) went first.
    CHECK_THAT(log[log.size() - 2].message, Catch::StartsWith("Initialize task manual"));
    CHECK_THAT(log[log.size() - 3].message, Catch::StartsWith("Session 2 (model-a): doc-2 passes"));
    for (std::size_t i = 1; i < entries.size(); ++i) {
      CHECK(entries[i].session == i + 1);
      CHECK(entries[i].items.size() == 1);
      CHECK(entries[i].ended == "verified");
      CHECK(entries[i].model == "model-a");
    }
    CHECK(entries[1].items == std::vector<std::string>{"doc-2"});
    CHECK(entries[3].next == "Every item passes: complete the task.");
    auto ws = state::workspace::open_or_init(workspace_dir);
    CHECK(ws->is_clean().value());
  }
  THEN("each session woke up, oriented, worked, verified and wrote back, in that order") {
    auto names = step_names(f, "w1");
    auto at = [&](const std::string& name) {
      return std::find(names.begin(), names.end(), name) - names.begin();
    };
    CHECK(at("session 2/begin") < at("session 2/wake: progress"));
    CHECK(at("session 2/wake: progress") < at("session 2/wake: git log"));
    CHECK(at("session 2/wake: check") < at("session 2/orient"));
    CHECK(at("session 2/orient") < at("verify:doc-2"));
    CHECK(at("verify:doc-2") < at("progress:2"));
    CHECK(at("progress:2") < at("session 3/begin"));
    CHECK(at("ledger:complete") < static_cast<long>(names.size()));
  }
}

SCENARIO("one-shotting is capped: at most items_per_session items per session",
         "[state][session]") {
  test::temp_dir dir;
  workspace_dir = dir.path() + "/ws";
  runtime_fixture f{workflows, with_sim};
  REQUIRE(f.rt().start("two_per_session", "t1", std::string{}));
  auto out = f.ended("t1", 30s);
  REQUIRE(out.status == run_status::completed);
  auto entries = progress(f);
  REQUIRE(entries.size() == 4);  // initializer, then 2 + 2 + 1 items
  CHECK(entries[1].items.size() == 2);
  CHECK(entries[2].items.size() == 2);
  CHECK(entries[3].items.size() == 1);
}

SCENARIO("an agent that claims to be done does not complete the task: a person decides at the "
         "session limit", "[state][session]") {
  test::temp_dir dir;
  workspace_dir = dir.path() + "/ws";
  runtime_fixture f{workflows, with_sim};
  REQUIRE(f.rt().start("boaster", "b1", std::string{}));
  auto asked = question_at_limit(f, "b1");
  THEN("both work sessions ended with the item failing, whatever the agent said") {
    auto items = state::ledger_store{store_of(f)}.items("manual");
    REQUIRE(items);
    for (auto& it : *items)
      CHECK(it.status == state::item_status::failing);
    auto entries = progress(f);
    REQUIRE(entries.size() == 3);
    CHECK(entries[1].ended == "verification failed");
    CHECK_THAT(entries[1].tried, Catch::Contains("claim_done"));
    CHECK_THAT(entries[2].next, Catch::Contains("again: its verification failed"));
    CHECK_THAT(asked.arguments.dump(), Catch::Contains("still fail: doc-1, doc-2"));
  }
  WHEN("the person stops the task") {
    REQUIRE(f.rt().decide(asked.id, "dana", "respond", json{{"text", "stop"}}.dump()));
    auto out = f.ended("b1", 10s);
    THEN("the run fails naming who stopped it and the failing items, and is not complete") {
      CHECK(out.status == run_status::failed);
      CHECK_THAT(out.error, Catch::Contains("stopped by dana") && Catch::Contains("doc-1, doc-2"));
      CHECK(state::ledger_store{store_of(f)}.task("manual")->value().completed_ms == 0);
    }
  }
  WHEN("the person overrides the failing items") {
    REQUIRE(f.rt().decide(asked.id, "erin", "respond", json{{"text", "override"}}.dump()));
    auto out = f.ended("b1", 10s);
    THEN("the task completes with both items overridden, audited with the name") {
      REQUIRE(out.status == run_status::completed);
      auto result = out.value<state::long_task_result>();
      CHECK(result.overridden == 2);
      CHECK(result.verified == 0);
      auto row = state::ledger_store{store_of(f)}.task("manual");
      REQUIRE(row);
      REQUIRE((*row)->audit.size() == 2);
      CHECK_THAT((*row)->audit[0], Catch::StartsWith("override doc-1 by erin"));
      CHECK(state::ledger_store{store_of(f)}.item("manual", "doc-2")->overridden_by == "erin");
    }
  }
  WHEN("the person lets it continue") {
    REQUIRE(f.rt().decide(asked.id, "finn", "respond", json{{"text", "continue"}}.dump()));
    THEN("two more sessions run and the person is asked again") {
      REQUIRE(eventually([&] {
        auto q = pending_question(f, "b1");
        return q && q->id != asked.id;
      }, 30s));
      CHECK(progress(f).size() == 5);
    }
  }
}

SCENARIO("each session runs on the model chosen when it began, also after a restart (agent "
         "swap)", "[state][session]") {
  test::temp_dir dir;
  workspace_dir = dir.path() + "/ws";
  next_model = "model-a";
  std::optional<runtime_fixture> f;
  f.emplace(workflows, with_sim);
  REQUIRE(f->rt().start("boaster", "s1", std::string{}));
  auto asked = question_at_limit(*f, "s1");
  f->stop_runtime();
  {
    std::lock_guard g{model_mutex};
    next_model = "model-b";
  }
  f->close();
  f->open();  // the same data directory: a restart, another model configured
  REQUIRE(f->rt().decide(asked.id, "gus", "respond", json{{"text", "continue"}}.dump()));
  REQUIRE(eventually([&] {
    auto q = pending_question(*f, "s1");
    return q && q->id != asked.id;
  }, 30s));
  auto entries = progress(*f);
  REQUIRE(entries.size() == 5);
  CHECK(entries[1].model == "model-a");
  CHECK(entries[2].model == "model-a");  // replayed, not asked again
  CHECK(entries[3].model == "model-b");
  CHECK(entries[4].model == "model-b");
  CHECK_THAT(git_log().front().message, Catch::StartsWith("Session 5 (model-b)"));
}

SCENARIO("a long task spec that is not valid fails the run naming the field", "[state][session]") {
  runtime_fixture f{workflows, with_sim};
  REQUIRE(f.rt().start("bad_spec", "x1", std::string{}));
  auto out = f.ended("x1", 10s);
  CHECK(out.status == run_status::failed);
  CHECK_THAT(out.error, Catch::Contains("spec.workspace: must name the task's directory"));
}

SCENARIO("with a memory namespace, each session remembers its summary and the next ones recall "
         "it into their context", "[state][session][memory]") {
  test::temp_dir dir;
  workspace_dir = dir.path() + "/ws";
  runtime_fixture f{workflows, with_memory};
  REQUIRE(f.rt().start("remembering", "m1", std::string{}));
  auto out = f.ended("m1", 30s);
  REQUIRE(out.status == run_status::completed);
  auto names = step_names(f, "m1");
  CHECK(std::count(names.begin(), names.end(), "recall:manual/notes") == 3);
  CHECK(std::count(names.begin(), names.end(), "remember:manual/notes") == 3);
  // The first session had nothing to recall; a later one's first prompt
  // holds what an earlier session remembered.
  auto prompts = recorder->prompts();
  REQUIRE(prompts.size() >= 6);
  CHECK_THAT(prompts.front(), !Catch::Contains("Session 2: doc-2"));
  CHECK_THAT(prompts.back(), Catch::Contains("Session 2: doc-2"));
}

SCENARIO("a session whose state fills the whole budget still gets its first turn",
         "[state][session]") {
  test::temp_dir dir;
  workspace_dir = dir.path() + "/ws";
  docs_written = 0;
  runtime_fixture f{workflows, with_sim};
  REQUIRE(f.rt().start("full_share", "fs1", std::string{}));
  // One work session, then the person is asked at the session limit.
  question_at_limit(f, "fs1");
  auto entries = progress(f);
  REQUIRE(entries.size() == 2);
  INFO(entries[1].tried);
  CHECK(entries[1].ended != "context budget");
  CHECK_THAT(entries[1].tried, !Catch::Contains(": 0 model turns"));
  CHECK(docs_written == 1);
}

SCENARIO("a new run of a task that stopped carries on its progress log instead of writing over "
         "it", "[state][session]") {
  test::temp_dir dir;
  workspace_dir = dir.path() + "/ws";
  runtime_fixture f{workflows, with_sim};
  REQUIRE(f.rt().start("boaster", "r1", std::string{}));
  auto asked = question_at_limit(f, "r1");
  // While r1 waits for the person it still has the task: a second run is
  // refused before it writes anything, naming r1.
  auto progress_r1 = progress(f);
  REQUIRE(f.rt().start("boaster", "r1b", std::string{}));
  auto refused = f.ended("r1b", 10s);
  CHECK(refused.status == run_status::failed);
  CHECK_THAT(refused.error, Catch::Contains("task manual is being worked on by run r1"));
  CHECK(progress(f).size() == progress_r1.size());
  REQUIRE(f.rt().decide(asked.id, "dana", "respond", json{{"text", "stop"}}.dump()));
  REQUIRE(f.ended("r1", 10s).status == run_status::failed);
  auto before = progress(f);
  REQUIRE(before.size() == 3);  // the initializer and two work sessions
  auto commits_before = git_log().size();

  REQUIRE(f.rt().start("boaster", "r2", std::string{}));  // the same task, a new run
  question_at_limit(f, "r2");
  auto after = progress(f);
  THEN("the first run's entries are kept as they were and the new sessions follow them") {
    REQUIRE(after.size() == 5);
    for (std::size_t i = 0; i < before.size(); ++i) {
      CHECK(after[i].session == before[i].session);
      CHECK(after[i].at_ms == before[i].at_ms);
      CHECK(after[i].changed == before[i].changed);
    }
    CHECK(after[3].session == 4);
    CHECK(after[4].session == 5);
    CHECK(git_log().size() == commits_before + 2);  // one per new write-back, no re-initialize
    CHECK(state::ledger_store{store_of(f)}.task("manual")->value().owner == "r2");
  }
}

SCENARIO("a new run of a task whose newest progress entry is damaged still carries on after "
         "the log's entries instead of writing over them", "[state][session]") {
  // The new run reads the log's newest readable entry for the session it
  // follows: a damaged newest row must not read as "no log" (session 0),
  // or the initializer and the new sessions would replace entries 1, 2, ...
  test::temp_dir dir;
  workspace_dir = dir.path() + "/ws";
  runtime_fixture f{workflows, with_sim};
  REQUIRE(f.rt().start("boaster", "r1", std::string{}));
  auto asked = question_at_limit(f, "r1");
  REQUIRE(f.rt().decide(asked.id, "dana", "respond", json{{"text", "stop"}}.dump()));
  REQUIRE(f.ended("r1", 10s).status == run_status::failed);
  auto before = progress(f);
  REQUIRE(before.size() == 3);
  write_batch damage;  // session 3's entry: its checksum no longer holds
  damage.put_row(side_table::progress, "manual/00000003",
                 record{state::progress_entry_tag, 1, "{oops"});
  REQUIRE(store_of(f).commit(std::move(damage)));

  REQUIRE(f.rt().start("boaster", "r2", std::string{}));
  question_at_limit(f, "r2");
  auto after = progress(f);
  THEN("sessions 1 and 2 are kept; the damaged entry is replaced by the next session's") {
    for (auto& e : after)
      UNSCOPED_INFO("session " << e.session << ": " << e.tried << " / " << e.changed);
    REQUIRE(after.size() == 4);
    for (std::size_t i = 0; i < 2; ++i) {
      CHECK(after[i].session == before[i].session);
      CHECK(after[i].at_ms == before[i].at_ms);
      CHECK(after[i].changed == before[i].changed);
    }
    CHECK(after[2].session == 3);
    CHECK(after[3].session == 4);
  }
}

SCENARIO("a workspace that is a file fails the run at once, naming the path", "[state][session]") {
  test::temp_dir dir;
  workspace_dir = dir.path();
  std::ofstream{dir.path() + "/not-a-dir"} << "a file the user keeps\n";
  runtime_fixture f{workflows, with_sim};
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(f.rt().start("file_workspace", "fw1", std::string{}));
  auto out = f.ended("fw1", 60s);
  INFO(out.error);
  CHECK(out.status == run_status::failed);
  CHECK_THAT(out.error, Catch::Contains(dir.path() + "/not-a-dir"));
  CHECK(std::chrono::steady_clock::now() - t0 < 10s);  // not retried as if git were flaky
  std::ifstream in{dir.path() + "/not-a-dir"};
  std::string kept;
  std::getline(in, kept);
  CHECK(kept == "a file the user keeps");
}

SCENARIO("init and check may be tools: run at every wake-up, and a failing check reaches the "
         "agent's context", "[state][session]") {
  test::temp_dir dir;
  workspace_dir = dir.path() + "/ws";
  docs_written = 0;
  env_prepared = 0;
  env_checked = 0;
  runtime_fixture f{workflows, with_recorder};
  REQUIRE(f.rt().start("tool_environment", "te1", std::string{}));
  auto out = f.ended("te1", 30s);
  REQUIRE(out.status == run_status::completed);
  auto result = out.value<state::long_task_result>();
  CHECK(result.verified == 2);
  // Two work sessions, then the one that finds every item passing: three wake-ups.
  auto names = step_names(f, "te1");
  auto wakes = std::count_if(names.begin(), names.end(), [](const std::string& n) {
    return n.find("/wake: init") != std::string::npos;
  });
  CHECK(wakes == 3);
  CHECK(env_prepared == wakes);
  CHECK(env_checked == wakes);
  CHECK_FALSE(std::filesystem::exists(workspace_dir + "/init.sh"));
  auto prompts = recorder->prompts();
  REQUIRE(prompts.size() >= 2);
  // Session 2 woke to a failing check (init had run once): its agent is told.
  CHECK_THAT(prompts.front(), Catch::Contains("init (tool prepare_env): passed"));
  CHECK_THAT(prompts.front(), Catch::Contains("check (tool env_check): FAILED"));
  CHECK_THAT(prompts.back(), Catch::Contains("check (tool env_check): passed"));
}

SCENARIO("init and check tools that are wrong fail the run before any session, naming the field",
         "[state][session]") {
  test::temp_dir dir;
  workspace_dir = dir.path() + "/ws";
  runtime_fixture f{workflows, with_sim};
  for (auto [which, field] : {std::pair{"both", "spec.init_tool: give init_command or init_tool"},
                              std::pair{"unknown", "spec.check_tool: the runtime has no tool"},
                              std::pair{"args", "spec.init_tool_args: must be a JSON object"},
                              std::pair{"expect", "spec.check_tool_expect: must be a JSON object"}}) {
    auto id = std::string{"bad-"} + which;
    REQUIRE(f.rt().start("bad_environment", id, std::string{which}));
    auto out = f.ended(id, 10s);
    CHECK(out.status == run_status::failed);
    CHECK_THAT(out.error, Catch::Contains(field));
  }
  CHECK_FALSE(std::filesystem::exists(workspace_dir));
}
