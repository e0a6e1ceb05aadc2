// `endure task [TASK] [--json]`: a long task's state from the journal (and
// its workspace's git log): the ledger with every item's status and last
// evidence, the audit, the progress log, the artifacts. Without TASK, the
// tasks there are. Read-only (a live runtime may hold the directory).
#include <iostream>

#include "endure/actors/state/task_report.hpp"
#include "endure/cli/command.hpp"
#include "endure/cli/journal_view.hpp"

namespace endure::cli {

namespace {

int show_task(const command_env& env, const std::string& task, bool json) {
  auto j = open_journal_view(env.globals.data_dir);
  if (!j)
    return fail(j.error().message);
  if (task.empty()) {
    auto list = state::task_list_json(**j);
    if (!list)
      return fail("cannot list the tasks in " + env.globals.data_dir + ": " + list.error().message);
    std::cout << *list << "\n";
    return 0;
  }
  auto report = json ? state::task_report_json(**j, task) : state::task_report_text(**j, task);
  if (!report && report.error().code == errc::not_found)
    return fail("no task '" + task + "' in " + env.globals.data_dir
                + ": `endure task` lists the tasks there");
  if (!report)
    return fail("cannot read task " + task + ": " + report.error().message);
  std::cout << *report << (json ? "\n" : "");
  return 0;
}

} // namespace

void add_task_command(CLI::App& app, command_env& env) {
  struct options {
    std::string task;
    bool json = false;
  };
  auto o = std::make_shared<options>();
  auto* cmd = app.add_subcommand(
    "task", "show a long task's ledger, progress log, artifacts and commits (no TASK: list them)");
  cmd->add_option("TASK", o->task, "task id (run_long_task's spec.task)");
  cmd->add_flag("--json", o->json, "print the ledger export and the rest as JSON");
  cmd->callback([&env, o] { env.exit_code = show_task(env, o->task, o->json); });
}

} // namespace endure::cli
