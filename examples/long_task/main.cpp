// A long task on the session loop: an agent on the offline sim writes a
// 30-page manual in its git workspace, one page per session, each page
// passing only when its check (a shell command) passes. Kill it with
// SIGKILL at any moment and start it again: it carries on from its state
// (ledger, progress log, workspace), in the phase it was in.
//
//   long_task_example [DATA_DIR] [--model NAME] [--latency-ms N]
//
// --model names the model of the sessions that start from now on (an
// agent swap); --latency-ms slows the sim down so a kill lands mid-run.
// At the end it prints the ledger's tally and the progress log.
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/endure.hpp"
#include "endure/actors/state/current_item.hpp"
#include "endure/actors/state/ledger_json.hpp"
#include "endure/actors/state/ledger_store.hpp"
#include "endure/actors/state/session_loop.hpp"
#include "endure/net/llm_backend.hpp"
#include "endure/net/llm_config.hpp"

using namespace endure;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const char* topics[] = {
  "installing endure",      "the first workflow",     "durable steps",
  "retry policies",         "error classes",          "sagas",
  "timers and sleep",       "signals",                "the journal",
  "snapshots",              "kill -9 recovery",       "supervision",
  "quarantined runs",       "passivation",            "LLM steps",
  "HTTP steps",             "tools",                  "the policy gate",
  "asking a person",        "the human gateway",      "the console",
  "escalation",             "the task ledger",        "the progress log",
  "artifacts",              "the workspace",          "memory",
  "context budgets",        "the session loop",       "operating endure"};

/// The manual's ledger: one page per topic, checked by a shell command.
std::string ledger_spec() {
  json items = json::array();
  for (int i = 0; i < 30; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "page-%02d", i + 1);
    std::string file = std::string{"docs/"} + id + ".md";
    items.push_back(
      {{"id", id},
       {"description", std::string{"Write "} + file + ", the manual's page about " + topics[i]},
       {"priority", i < 3 ? 0 : 1},  // the getting-started pages first
       {"acceptance", {"a title line", "at least 40 words"}},
       {"verification",
        {{"command", "grep -q '^# ' " + file + " && test $(wc -w < " + file + ") -ge 40"},
         {"timeout_ms", 10000}}}});
  }
  return json{{"items", items}}.dump();
}

/// The agent's one tool: writes the page of the item it works on (the
/// runtime tells the tools which in .endure/current-item.json).
std::shared_ptr<agent::tool_registry> make_tools(std::filesystem::path workspace) {
  auto tools = std::make_shared<agent::tool_registry>();
  json schema = {{"type", "object"},
                 {"properties", {{"text", {{"type", "string"}, {"minLength", 400}}}}},
                 {"required", {"text"}}};
  auto write_page = [workspace](const json& args) {
    auto current = state::read_current_item(workspace);  // what the runtime told the tools
    if (!current)
      throw fatal_error(current.error().message);
    auto& description = current->item.description;
    auto file = description.substr(6, description.find(',') - 6);  // "Write docs/page-NN.md, ..."
    std::filesystem::create_directories(workspace / "docs");
    std::ofstream{workspace / file} << "# " << description.substr(description.find("about ") + 6)
                                    << "\n\n" << args.at("text").get<std::string>() << "\n";
    return json{{"written", file}};
  };
  if (!tools->add({"write_page", "Writes the current page of the manual.", schema, write_page}))
    std::exit(1);
  return tools;
}

std::string session_model = "sim";

task<state::long_task_result> write_manual(context& ctx, std::string workspace) {
  state::long_task_spec spec;
  spec.task = "manual";
  spec.goal = "Write endure's operator manual: one page per topic, each checked.";
  spec.items = *state::ledger_spec_from_json(ledger_spec());
  spec.workspace = workspace;
  spec.init_command = "mkdir -p docs";
  spec.check_command = "test -d docs && test -d .git";
  spec.agent.system_prompt = "You write one page of the manual per session. [sim: call write_page]";
  spec.agent.tools = {"write_page"};
  spec.context_budget_tokens = 1500;  // small: every session starts afresh from state
  spec.model = [] { return session_model; };
  co_return co_await state::run_long_task(ctx, spec);
}

void print_progress(const journal& store) {
  auto log = state::ledger_store{const_cast<journal&>(store)}.progress("manual");
  if (!log)
    return;
  std::printf("\nprogress log (newest last):\n");
  for (auto& e : log->entries)
    std::printf("  session %2u  %-6s %-9s %-22s next: %s\n", e.session, e.model.c_str(),
                e.items.empty() ? "-" : e.items.front().c_str(), e.ended.c_str(),
                e.next.c_str());
}

} // namespace

int main(int argc, char** argv) {
  std::string data = "long-task-example-data";
  std::uint32_t latency_ms = 0;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--model") && i + 1 < argc)
      session_model = argv[++i];
    else if (!std::strcmp(argv[i], "--latency-ms") && i + 1 < argc)
      latency_ms = static_cast<std::uint32_t>(std::stoul(argv[++i]));
    else
      data = argv[i];
  }
  auto workspace = std::filesystem::absolute(data) / "workspace";
  runtime_options opts;
  opts.journal.data_dir = data;
  opts.tools = make_tools(workspace);
  net::llm_config sim;
  sim.sim.latency = std::chrono::milliseconds{latency_ms};
  opts.llm = net::make_llm_backend(sim);  // the sim: offline, deterministic
  workflow_registry workflows;
  workflows.add("write_manual", &write_manual);
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rt = runtime::open(sys, std::move(opts), std::move(workflows));
  if (!rt) {
    std::fprintf(stderr, "%s\n", rt.error().message.c_str());
    return 1;
  }
  // After a restart the run is already there: the runtime resumed it.
  if ((*rt)->store().run("manual-run"))
    std::printf("resuming the task from its journal\n");
  else if (auto started = (*rt)->start("write_manual", "manual-run", workspace.string()); !started) {
    std::fprintf(stderr, "%s\n", started.error().message.c_str());
    return 1;
  }
  auto out = (*rt)->wait("manual-run", 600s);
  if (!out || out->status != run_status::completed) {
    std::fprintf(stderr, "the task did not complete: %s\n",
                 out ? out->error.c_str() : out.error().message.c_str());
    return 1;
  }
  auto result = out->value<state::long_task_result>();
  std::printf("task manual complete: %u of %u items pass on evidence (%u overridden), "
              "%u sessions, %u verifications; workspace at %s\n",
              result.verified, result.items, result.overridden, result.sessions,
              result.verifications, result.last_commit.substr(0, 12).c_str());
  print_progress((*rt)->store());
  return 0;
}
