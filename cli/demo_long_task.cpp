// Stage 5 of `endure demo` (demo_long_task.hpp).
#include "endure/cli/demo_long_task.hpp"
#include "endure/cli/demo_data_dir.hpp"
#include "endure/cli/demo_options.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <nlohmann/json.hpp>

#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/endure.hpp"
#include "endure/actors/state/current_item.hpp"
#include "endure/actors/state/ledger_json.hpp"
#include "endure/actors/state/ledger_store.hpp"
#include "endure/actors/state/session_loop.hpp"
#include "endure/actors/state/task_report.hpp"
#include "endure/net/llm_backend.hpp"
#include "endure/net/llm_config.hpp"

namespace endure::cli {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* calendar_task = "content-calendar";
constexpr const char* calendar_run = "content-calendar";

std::string slug(const std::string& keyword) {
  std::string s;
  for (char c : keyword)
    s += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '-';
  return s;
}

/// One page per keyword and kind; a page passes when it has a title and
/// at least 40 words.
std::string calendar_spec(const std::vector<std::string>& keywords) {
  json items = json::array();
  for (const char* kind : {"guide", "faq"})
    for (auto& k : keywords) {
      auto id = slug(k) + "-" + kind;
      auto file = "pages/" + id + ".md";
      items.push_back(
        {{"id", id},
         {"description", "Write " + file + ", the " + kind + " page for \"" + k + "\""},
         {"priority", std::string{kind} == "guide" ? 0 : 1},
         {"acceptance", {"a title line", "at least 40 words"}},
         {"verification",
          {{"command", "grep -q '^# ' " + file + " && test $(wc -w < " + file + ") -ge 40"},
           {"timeout_ms", 10000}}}});
    }
  return json{{"items", items}}.dump();
}

std::shared_ptr<agent::tool_registry> calendar_tools(fs::path workspace) {
  auto tools = std::make_shared<agent::tool_registry>();
  json schema = {{"type", "object"},
                 {"properties", {{"text", {{"type", "string"}, {"minLength", 400}}}}},
                 {"required", {"text"}}};
  auto write_page = [workspace](const json& args) {
    auto current = state::read_current_item(workspace);  // what the runtime told the tools
    if (!current)
      throw fatal_error(current.error().message);
    auto& description = current->item.description;
    auto file = description.substr(6, description.find(',') - 6);  // "Write pages/X.md, ..."
    fs::create_directories(workspace / "pages");
    std::ofstream{workspace / file} << "# " << description.substr(description.find(", the ") + 6)
                                    << "\n\n" << args.at("text").get<std::string>() << "\n";
    return json{{"written", file}};
  };
  // The one tool, its name and schema fixed here: adding it cannot fail.
  (void)tools->add({"write_page", "Writes the page of the current calendar item.", schema,
                    write_page});
  return tools;
}

task<state::long_task_result> content_calendar(context& ctx, std::string input) {
  auto doc = json::parse(input);
  state::long_task_spec spec;
  spec.task = calendar_task;
  spec.goal = "Publish a content calendar: a guide and a FAQ page per keyword, each checked.";
  auto items = state::ledger_spec_from_json(calendar_spec(doc["keywords"]));
  if (!items)
    throw fatal_error(items.error().message);
  spec.items = *items;
  spec.workspace = doc["workspace"].get<std::string>();
  spec.init_command = "mkdir -p pages";
  spec.check_command = "test -d pages";
  spec.agent.system_prompt = "You write one page of the calendar per session. "
                             "[sim: call write_page]";
  spec.agent.tools = {"write_page"};
  spec.context_budget_tokens = 1500;
  co_return co_await state::run_long_task(ctx, spec);
}

int run_calendar_worker(const command_env& env, const std::vector<std::string>& keywords,
                        unsigned latency_ms) {
  auto workspace = fs::absolute(env.globals.data_dir) / "workspace";
  runtime_options opts;
  opts.journal.data_dir = env.globals.data_dir;
  opts.tools = calendar_tools(workspace);
  net::llm_config sim;
  sim.sim.latency = std::chrono::milliseconds{latency_ms};
  opts.llm = net::make_llm_backend(sim);
  workflow_registry workflows;
  workflows.add("content_calendar", &content_calendar);
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto rt = runtime::open(sys, std::move(opts), std::move(workflows));
  if (!rt)
    return fail("demo: " + rt.error().message);
  if (!(*rt)->store().run(calendar_run)) {
    json input{{"keywords", keywords}, {"workspace", workspace.string()}};
    if (auto started = (*rt)->start("content_calendar", calendar_run, input.dump()); !started)
      return fail("demo: " + started.error().message);
  }
  auto out = (*rt)->wait(calendar_run, std::chrono::minutes(10));
  if (!out || out->status != run_status::completed)
    return fail("demo: the content calendar did not complete: "
                + (out ? out->error : out.error().message));
  return 0;
}

pid_t spawn_worker(const std::string& data_dir, const std::vector<std::string>& keywords) {
  std::vector<std::string> args{"/proc/self/exe", "--data", data_dir, "demo-calendar-worker",
                                "--latency-ms", "40"};
  for (auto& k : keywords) {
    args.push_back("--keyword");
    args.push_back(k);
  }
  return spawn_demo_worker(args);
}

/// Progress entries written so far (read-only: the worker holds the journal).
std::size_t sessions_written(const std::string& data_dir) {
  auto j = journal::open({.data_dir = data_dir, .read_only = true});
  if (!j)
    return 0;
  register_event_types((*j)->types());
  auto log = state::ledger_store{**j}.progress(calendar_task);
  return log ? log->entries.size() : 0;
}

/// Waits for the worker; with `kill_after` > 0, kills it (SIGKILL) once
/// that many sessions are written. Returns the exit status, -1 if killed.
int watch_worker(const std::string& data_dir, pid_t pid, std::size_t kill_after) {
  if (pid <= 0)  // never kill(-1) / waitpid(-1): they would reach every process
    return 126;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    if (kill_after > 0 && sessions_written(data_dir) >= kill_after) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return 124;
}

} // namespace

expected<calendar_stage_result> run_calendar_stage(const command_env&, const std::string& data_dir,
                                                   const std::vector<std::string>& keywords,
                                                   const std::function<std::string()>& stamp) {
  if (auto cleared = clear_demo_dir(data_dir); !cleared)
    return std::move(cleared).error();
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec)
    return make_error(errc::io_error, "cannot create " + data_dir + ": " + ec.message());
  calendar_stage_result r;
  r.items = 2 * keywords.size();
  std::printf("%s a content calendar of %zu pages, one page per session, each passing only when "
              "its check (a shell command) passes\n", stamp().c_str(), r.items);
  std::fflush(stdout);
  // Killed halfway through its pages (after the initializer and at least
  // one work session), then started again.
  auto kill_after = std::clamp<std::size_t>(1 + r.items / 2, 2, 4);
  // A fork that failed is said as such (and pid -1 never reaches kill()).
  auto start = [&]() -> expected<pid_t> {
    pid_t pid = spawn_worker(data_dir, keywords);
    if (pid < 0)
      return make_error(errc::io_error, std::string{"cannot start the calendar worker: fork: "}
                                          + std::strerror(errno)
                                          + " (too many processes? see ulimit -u)");
    return pid;
  };
  auto first = start();
  if (!first)
    return first.error();
  int code = watch_worker(data_dir, *first, kill_after);
  if (code == -1) {
    r.sessions_at_kill = sessions_written(data_dir);
    std::printf("%s *** killed the calendar worker with SIGKILL after %zu sessions; restarting: "
                "it wakes up, reads its progress log and git log, and carries on ***\n",
                stamp().c_str(), r.sessions_at_kill);
    std::fflush(stdout);
    auto again = start();
    if (!again)
      return again.error();
    code = watch_worker(data_dir, *again, 0);
  } else if (code == 0) {
    std::printf("%s the calendar worker finished before the kill point\n", stamp().c_str());
  }
  if (code != 0)
    return make_error(errc::invalid_state,
                      "the calendar worker failed (exit " + std::to_string(code) + ")");
  auto j = journal::open({.data_dir = data_dir, .read_only = true});
  if (!j)
    return j.error();
  register_event_types((*j)->types());
  auto text = state::task_report_text(**j, calendar_task);
  if (!text)
    return text.error();
  std::printf("%s", text->c_str());
  auto items = state::ledger_store{**j}.items(calendar_task);
  if (!items)
    return items.error();
  for (auto& it : *items)
    r.passing += it.status == state::item_status::passing ? 1 : 0;
  r.sessions = sessions_written(data_dir);
  return r;
}

void add_demo_calendar_worker_command(CLI::App& app, command_env& env) {
  struct options {
    std::vector<std::string> keywords;
    unsigned latency_ms = 0;
  };
  auto o = std::make_shared<options>();
  auto* cmd = app.add_subcommand("demo-calendar-worker",
                                 "(internal) the long task `endure demo` runs and kills");
  cmd->group("");  // hidden
  cmd->add_option("--keyword", o->keywords, "a keyword of the calendar")->required();
  cmd->add_option("--latency-ms", o->latency_ms, "the sim's latency per call");
  cmd->callback([&env, o] { env.exit_code = run_calendar_worker(env, o->keywords, o->latency_ms); });
}

} // namespace endure::cli
