// bench/long_task: the session loop's figures (issue 18).
//
//   long_task [--items N] [--progress N] [--commits N] [--repeats N]
//
// 1. Wake-up: what a session reads before it works (the progress log, the
//    workspace's last 10 commits, the whole ledger: the steps "wake:
//    progress", "wake: git log" and "orient"), init's own run time not
//    counted, for a ledger of --items items (10,000), --progress entries
//    (1,000) and --commits commits (200), on a real LMDB file and a real
//    git repository; median and p99 of --repeats (50) wake-ups.
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
#include "endure/actors/state/ledger_store.hpp"
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

void wake_up(const settings& s) {
  bench::scratch_dir dir{""};
  auto j = journal::open({.data_dir = dir.path() + "/data", .mode = durability::nosync});
  if (!j)
    throw std::runtime_error(j.error().to_string());
  register_event_types((*j)->types());
  state::ledger_store ledger{**j};
  auto items = state::ledger_spec_from_json(ledger_of(s.items, "docs"));
  if (!items || !ledger.create("big", "A big task", *items, 1, dir.path() + "/ws"))
    throw std::runtime_error("cannot create the ledger");
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
  auto ws = state::workspace::open_or_init(dir.path() + "/ws");
  if (!ws)
    throw std::runtime_error(ws.error().to_string());
  for (std::size_t c = 0; c < s.commits; ++c) {
    (void)ws->write_file("docs/page-" + std::to_string(c) + ".md", "# page\n\nwords\n");
    (void)ws->commit_all("Session " + std::to_string(c), "k" + std::to_string(c));
  }
  std::vector<double> ms, progress_ms, git_ms, ledger_ms;
  for (std::size_t r = 0; r < s.repeats; ++r) {
    auto t0 = bench::bench_clock::now();
    auto progress = ledger.progress("big");
    auto t1 = bench::bench_clock::now();
    auto opened = state::workspace::open_or_init(dir.path() + "/ws");
    auto log = opened ? opened->log(10) : decltype(opened->log(10)){opened.error()};
    auto t2 = bench::bench_clock::now();
    auto all = ledger.items("big");
    ms.push_back(bench::seconds_since(t0) * 1000.0);
    progress_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    git_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    ledger_ms.push_back(bench::seconds_since(t2) * 1000.0);
    if (!progress || !log || !all || all->size() != s.items)
      throw std::runtime_error("a wake-up read failed");
  }
  std::printf("  of which (medians): progress log %.2f ms, git log %.2f ms, ledger %.2f ms\n",
              bench::median(progress_ms), bench::median(git_ms), bench::median(ledger_ms));
  std::printf("wake-up: %zu items, %zu progress entries, %zu commits: median %.2f ms, p99 %.2f ms "
              "(%zu wake-ups; target < 50 ms)\n",
              s.items, s.progress, s.commits, bench::median(ms), bench::quantile(ms, 0.99),
              s.repeats);
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
