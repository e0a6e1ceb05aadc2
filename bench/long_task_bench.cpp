// bench/long_task: the session loop's figures (issue 18).
//
//   long_task [--items N] [--progress N] [--commits N] [--repeats N]
//
// 1. Wake-up: what a session reads before it works (the progress log's
//    newest 10 entries, the workspace's last 10 commits, the ledger's view:
//    the steps "wake: progress", "wake: git log" and "orient"), init's own
//    run time not counted, for a ledger of --items items (10,000),
//    --progress entries (1,000) and --commits commits (200), on a real LMDB
//    file and a real git repository; median and p99 of --repeats (50)
//    wake-ups: straight from the stores (next to the whole ledger and log,
//    what sessions read before), and as the journaled steps of a workflow
//    in a real runtime, nosync and sync.
// 2. Context rot, as tokens spent: the long-task example's agent (30
//    pages, the sim, one page per session in a fresh context under a
//    1,500-token budget) against the same agent with the same tool in one
//    ever-growing conversation (each page a new user message after all
//    the earlier ones), both in a real runtime; prompt and completion
//    tokens as the sim counts them.
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "bench/bench_support.hpp"
#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/endure.hpp"
#include "endure/actors/state/ledger_json.hpp"
#include "endure/actors/state/ledger_steps.hpp"
#include "endure/actors/state/ledger_store.hpp"
#include "endure/actors/state/ledger_view.hpp"
#include "endure/actors/state/session_loop.hpp"
#include "endure/actors/state/workspace.hpp"
#include "endure/net/llm_backend.hpp"

using namespace endure;
using namespace std::chrono_literals;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct settings {
  std::size_t items = 10'000, progress = 1'000, commits = 200, repeats = 50;
};

std::string ledger_of(std::size_t n, const std::string& dir_of_docs) {
  json items = json::array();
  for (std::size_t i = 1; i <= n; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "page-%05zu", i);
    auto file = dir_of_docs + "/" + id + ".md";
    items.push_back({{"id", id},
                     {"description", "Write " + file + ", the manual's page number "
                                       + std::to_string(i)},
                     {"priority", i <= 3 ? 0 : 1},
                     {"acceptance", {"a title line", "at least 40 words"}},
                     {"verification",
                      {{"command", "grep -q '^# ' " + file + " && test $(wc -w < " + file
                                     + ") -ge 40"}}}});
  }
  return json{{"items", items}}.dump();
}

// -- 1. wake-up -----------------------------------------------------------------

/// A task's state at scale: the ledger, the progress log and the workspace.
struct big_task {
  bench::scratch_dir dir{""};
  std::unique_ptr<journal> j;
  std::string ws;
};

void fill(big_task& t, const settings& s) {
  auto opened = journal::open({.data_dir = t.dir.path() + "/data", .mode = durability::nosync});
  if (!opened)
    throw std::runtime_error(opened.error().to_string());
  t.j = std::move(*opened);
  register_event_types(t.j->types());
  t.ws = t.dir.path() + "/ws";
  state::ledger_store ledger{*t.j};
  auto items = state::ledger_spec_from_json(ledger_of(s.items, "docs"));
  if (!items || !ledger.create("big", "A big task", *items, 1, t.ws))
    throw std::runtime_error("cannot create the ledger");
  // A tenth of the items passing, as after a while of work.
  state::evidence passed;
  passed.ran = "grep";
  passed.passed = true;
  for (std::size_t i = 0; i < s.items; i += 10)
    (void)ledger.record_verification("big", (*items)[i].id, passed);
  for (std::uint32_t i = 1; i <= s.progress; ++i) {
    state::progress_entry e;
    e.session = i;
    e.items = {"page-" + std::to_string(i)};
    e.tried = "page " + std::to_string(i) + ": 2 model turns, tools write_page";
    e.changed = "commit 0123456789ab; page-" + std::to_string(i) + " passes";
    e.next = "Work on page-" + std::to_string(i + 1);
    e.ended = "verified";
    (void)ledger.append_progress("big", e);
  }
  auto ws = state::workspace::open_or_init(t.ws);
  if (!ws)
    throw std::runtime_error(ws.error().to_string());
  for (std::size_t c = 0; c < s.commits; ++c) {
    (void)ws->write_file("docs/page-" + std::to_string(c) + ".md", "# page\n\nwords\n");
    (void)ws->commit_all("Session " + std::to_string(c), "k" + std::to_string(c));
  }
}

std::vector<std::string> git_log(const std::string& dir) {
  auto ws = state::workspace::open_or_init(dir);
  auto log = ws ? ws->log(10) : decltype(ws->log(10)){ws.error()};
  if (!log)
    throw std::runtime_error(log.error().to_string());
  std::vector<std::string> lines;
  for (auto& c : *log)
    lines.push_back(c.id.substr(0, 12) + " " + c.message);
  return lines;
}

struct wake_figures {
  std::vector<double> total, progress, git, ledger;
};

void print(const char* what, const wake_figures& f) {
  std::printf("  %s: median %.2f ms, p99 %.2f ms (progress log %.2f, git log %.2f, ledger %.2f)\n",
              what, bench::median(f.total), bench::quantile(f.total, 0.99),
              bench::median(f.progress), bench::median(f.git), bench::median(f.ledger));
}

/// The reads of a session's wake-up, straight from the stores: the whole
/// progress log and ledger (what sessions read before ledger views), or
/// what they read now (the newest 10 entries, the ledger's view).
wake_figures read_directly(big_task& t, const settings& s, bool whole) {
  state::ledger_store ledger{*t.j};
  wake_figures f;
  for (std::size_t r = 0; r < s.repeats; ++r) {
    auto t0 = bench::bench_clock::now();
    auto progress = whole ? ledger.progress("big") : ledger.progress("big", 10);
    auto t1 = bench::bench_clock::now();
    auto log = git_log(t.ws);
    auto t2 = bench::bench_clock::now();
    bool ok = progress.has_value();
    if (whole) {
      auto all = ledger.items("big");
      ok = ok && all && all->size() == s.items;
    } else {
      auto view = state::read_view(ledger, "big", 20);
      ok = ok && view && view->total == s.items && view->items.size() == 21;
    }
    auto t3 = bench::bench_clock::now();
    if (!ok)
      throw std::runtime_error("a wake-up read failed");
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    f.total.push_back(ms(t0, t3));
    f.progress.push_back(ms(t0, t1));
    f.git.push_back(ms(t1, t2));
    f.ledger.push_back(ms(t2, t3));
  }
  return f;
}

/// The same reads as a session makes them: journaled steps of a workflow
/// in a real runtime (each result written to the run's journal), timed
/// from inside the workflow.
std::string wake_workspace;
wake_figures journaled;
std::size_t journaled_repeats = 0;

task<int> wake_ups(context& ctx, std::string) {
  for (std::size_t r = 0; r < journaled_repeats; ++r) {
    auto n = std::to_string(r);
    auto t0 = bench::bench_clock::now();
    auto progress = state::read_progress(ctx, "big", n + "/wake: progress", 10);
    co_await std::move(progress);
    auto t1 = bench::bench_clock::now();
    auto log = ctx.step(n + "/wake: git log", &git_log, wake_workspace);
    co_await std::move(log);
    auto t2 = bench::bench_clock::now();
    auto view = state::read_ledger_view(ctx, "big", n + "/orient", 20);
    co_await std::move(view);
    auto t3 = bench::bench_clock::now();
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    journaled.total.push_back(ms(t0, t3));
    journaled.progress.push_back(ms(t0, t1));
    journaled.git.push_back(ms(t1, t2));
    journaled.ledger.push_back(ms(t2, t3));
  }
  co_return 0;
}

wake_figures read_in_steps(big_task& t, const settings& s, durability mode) {
  journaled = {};
  journaled_repeats = s.repeats;
  wake_workspace = t.ws;
  auto data = t.dir.path() + "/data";
  t.j.reset();  // the runtime opens the same environment
  {
    caf::actor_system_config cfg;
    caf::actor_system sys{cfg};
    runtime_options opts;
    opts.journal.data_dir = data;
    opts.journal.mode = mode;
    workflow_registry reg;
    reg.add("wake_ups", &wake_ups);
    auto rt = runtime::open(sys, std::move(opts), std::move(reg));
    auto id = std::string{"wake-"} + (mode == durability::sync ? "sync" : "nosync");
    if (!rt || !(*rt)->start("wake_ups", id, std::string{}))
      throw std::runtime_error("cannot start the wake-up workflow");
    auto out = (*rt)->wait(id, 300s);
    if (!out || out->status != run_status::completed)
      throw std::runtime_error("the wake-up workflow failed: " + (out ? out->error : ""));
  }
  auto reopened = journal::open({.data_dir = data, .mode = durability::nosync});
  if (!reopened)
    throw std::runtime_error(reopened.error().to_string());
  t.j = std::move(*reopened);
  register_event_types(t.j->types());
  return journaled;
}

void wake_up(const settings& s) {
  big_task t;
  fill(t, s);
  std::printf("wake-up: %zu items (a tenth passing), %zu progress entries, %zu commits; "
              "%zu wake-ups each (target < 50 ms):\n",
              s.items, s.progress, s.commits, s.repeats);
  auto whole = read_directly(t, s, true);
  auto now = read_directly(t, s, false);
  print("store reads, whole ledger and log (before ledger views)", whole);
  print("store reads, newest 10 entries and the ledger's view", now);
  print("journaled steps in a runtime, nosync", read_in_steps(t, s, durability::nosync));
  print("journaled steps in a runtime, sync (the default)", read_in_steps(t, s, durability::sync));
  std::printf("  the view against the whole ledger: %.1fx less time\n",
              bench::median(whole.total) / bench::median(now.total));
}

// -- 2. context rot ------------------------------------------------------------

fs::path workspace_dir;

std::shared_ptr<agent::tool_registry> tools() {
  auto r = std::make_shared<agent::tool_registry>();
  json schema = {{"type", "object"},
                 {"properties", {{"text", {{"type", "string"}, {"minLength", 400}}}}},
                 {"required", {"text"}}};
  (void)r->add({"write_page", "Writes the current page of the manual.", schema,
                [](const json& args) {
                  std::ifstream current{workspace_dir / ".endure/current-item.json"};
                  auto item = current ? json::parse(current) : json{{"id", "page"}};
                  fs::create_directories(workspace_dir / "docs");
                  std::ofstream{workspace_dir / "docs" / (item["id"].get<std::string>() + ".md")}
                    << "# page\n\n" << args.at("text").get<std::string>() << "\n";
                  return json{{"written", item["id"]}};
                }});
  return r;
}

const char* instructions = "You write one page of the manual per session. [sim: call write_page]";

task<state::long_task_result> in_sessions(context& ctx, std::string) {
  state::long_task_spec spec;
  spec.task = "manual";
  spec.goal = "Write the operator manual: one page per topic, each checked.";
  spec.items = *state::ledger_spec_from_json(ledger_of(30, "docs"));
  spec.workspace = workspace_dir;
  spec.agent.system_prompt = instructions;
  spec.agent.tools = {"write_page"};
  spec.context_budget_tokens = 1500;
  co_return co_await state::run_long_task(ctx, spec);
}

/// The same agent and tool, every page a new user message in one
/// conversation that keeps everything said before.
task<std::uint32_t> in_one_context(context& ctx, std::string) {
  auto items = *state::ledger_spec_from_json(ledger_of(30, "docs"));
  std::vector<net::chat_message> messages{net::chat_message::system(instructions)};
  net::tool_definition write_page{"write_page", "Writes the current page of the manual.",
                                  R"({"type":"object","properties":{"text":{"type":"string",)"
                                  R"("minLength":400}},"required":["text"]})"};
  std::uint32_t turns = 0;
  for (auto& it : items) {
    messages.push_back(net::chat_message::user(
      "Now page " + it.id + ": " + it.description + ". Acceptance: a title line, at least 40 "
      "words. Goal: Write the operator manual: one page per topic, each checked."));
    for (int turn = 0; turn < 4; ++turn) {  // the sim calls the tool, then answers
      net::chat_request req;
      req.messages = messages;
      req.tools = {write_page};
      // The sim calls a tool once per conversation unless told: each page
      // needs its own call, as a real model would make it.
      req.tool_choice = turn == 0 ? "required" : "auto";
      auto call = ctx.llm("page " + it.id + "/turn " + std::to_string(turn), req);
      auto reply = co_await std::move(call);
      ++turns;
      net::chat_message said = net::chat_message::assistant(reply.content);
      said.tool_calls = reply.tool_calls;
      messages.push_back(said);
      if (reply.tool_calls.empty())
        break;
      for (auto& c : reply.tool_calls) {
        auto result = ctx.tool(c.name, json::parse(c.arguments_json));
        messages.push_back(net::chat_message::tool_result(c.id, (co_await std::move(result)).dump()));
      }
    }
  }
  co_return turns;
}

struct tokens {
  std::uint64_t prompt = 0, completion = 0, calls = 0;
};

tokens run_and_count(const std::string& workflow, const fs::path& data) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  runtime_options opts;
  opts.journal.data_dir = data.string();
  opts.journal.mode = durability::nosync;
  opts.tools = tools();
  opts.llm = net::make_llm_backend({});
  workflow_registry reg;
  reg.add("in_sessions", &in_sessions);
  reg.add("in_one_context", &in_one_context);
  auto rt = runtime::open(sys, std::move(opts), std::move(reg));
  if (!rt || !(*rt)->start(workflow, "r", std::string{}))
    throw std::runtime_error("cannot start " + workflow);
  auto out = (*rt)->wait("r", 300s);
  if (!out || out->status != run_status::completed)
    throw std::runtime_error(workflow + " did not complete: " + (out ? out->error : ""));
  auto usage = (*rt)->usage("r");
  if (!usage)
    throw std::runtime_error(usage.error().to_string());
  return {usage->prompt_tokens, usage->completion_tokens, usage->steps.size()};
}

void context_rot() {
  bench::scratch_dir dir{""};
  workspace_dir = fs::path{dir.path()} / "ws-sessions";
  auto sessions = run_and_count("in_sessions", fs::path{dir.path()} / "sessions");
  workspace_dir = fs::path{dir.path()} / "ws-one";
  auto one = run_and_count("in_one_context", fs::path{dir.path()} / "one");
  std::printf("context rot, 30 pages: sessions (fresh context each, 1,500-token budget): "
              "%llu prompt + %llu completion tokens in %llu calls; one ever-growing context: "
              "%llu + %llu in %llu calls; prompt tokens %.1fx\n",
              static_cast<unsigned long long>(sessions.prompt),
              static_cast<unsigned long long>(sessions.completion),
              static_cast<unsigned long long>(sessions.calls),
              static_cast<unsigned long long>(one.prompt),
              static_cast<unsigned long long>(one.completion),
              static_cast<unsigned long long>(one.calls),
              static_cast<double>(one.prompt) / static_cast<double>(sessions.prompt));
}

} // namespace

int main(int argc, char** argv) {
  settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    auto value = static_cast<std::size_t>(std::stoull(argv[i + 1]));
    if (!std::strcmp(argv[i], "--items"))
      s.items = value;
    else if (!std::strcmp(argv[i], "--progress"))
      s.progress = value;
    else if (!std::strcmp(argv[i], "--commits"))
      s.commits = value;
    else if (!std::strcmp(argv[i], "--repeats"))
      s.repeats = value;
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  wake_up(s);
  context_rot();
  return 0;
}
