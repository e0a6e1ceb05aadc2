// `endure list [--status S]`: every run of the data directory with its
// status, workflow, current step (the name of its last step record) and
// age. Reads the journal read-only, so it works next to `endure serve`.
// With --cluster FILE: every node's runs, asked over TLS (cluster_client.hpp).
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "endure/cli/cluster_client.hpp"
#include "endure/cli/command.hpp"
#include "endure/cli/journal_view.hpp"

namespace endure::cli {

namespace {

/// Name of the run's last step record, or "-".
std::string current_step(const journal& j, const std::string& run_id) {
  auto last = j.last_seq(run_id);
  if (!last || *last == 0)
    return "-";
  auto from = *last > 16 ? *last - 16 : 0;
  auto records = j.read(run_id, from);
  if (!records)
    return "<damaged: see endure inspect " + run_id + ">";
  std::string name = "-";
  for (auto& r : *records) {
    auto e = decode_event(r.rec, run_id, r.seq);
    if (!e)
      return "<damaged: see endure inspect " + run_id + ">";
    if (auto* s = std::get_if<step_started_event>(&*e))
      name = s->name;
    else if (auto* c = std::get_if<step_completed_event>(&*e))
      name = c->name;
    else if (auto* f = std::get_if<step_failed_event>(&*e))
      name = f->name;
  }
  return name;
}

int list_runs(const command_env& env, const std::string& status_text) {
  std::optional<run_status> status;
  if (!status_text.empty()) {
    status = parse_run_status(status_text);
    if (!status) {
      fail("unknown status '" + status_text
           + "': use running, waiting, completed, failed, cancelled or quarantined");
      return 2;
    }
  }
  if (!env.globals.cluster_file.empty())
    return list_cluster_runs(env, status);
  auto j = open_journal_view(env.globals.data_dir);
  if (!j)
    return fail(j.error().message);
  auto runs = (*j)->list_runs(status);
  if (!runs)
    return fail("cannot list runs in " + env.globals.data_dir + ": " + runs.error().message);
  if (runs->empty()) {
    std::cout << "no runs" << (status ? " with status " + status_text : std::string{})
              << " in " << env.globals.data_dir << "\n";
    return 0;
  }
  int width = 4;
  for (auto& m : *runs)
    width = std::max(width, static_cast<int>(m.id.size()));
  std::printf("%-*s %-12s %-20s %-22s %s\n", width, "RUN", "STATUS", "WORKFLOW", "STEP", "AGE");
  auto now = now_ms();
  for (auto& m : *runs)
    std::printf("%-*s %-12s %-20s %-22s %s\n", width, m.id.c_str(),
                std::string{to_string(m.status)}.c_str(), m.workflow.c_str(),
                current_step(**j, m.id).c_str(),
                format_duration_ms(now - m.created_at_ms).c_str());
  std::fflush(stdout);
  return 0;
}

} // namespace

void add_list_command(CLI::App& app, command_env& env) {
  auto status = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("list", "list runs with status, current step and age");
  cmd->add_option("--status", *status,
                  "only runs with this status: running, waiting, completed, failed, "
                  "cancelled, quarantined");
  cmd->callback([&env, status] { env.exit_code = list_runs(env, *status); });
}

} // namespace endure::cli
