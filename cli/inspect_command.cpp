// `endure inspect RUN [--json]`: a run's timeline from its journal: each
// step with its attempts, durations, error classes and messages, its
// result summarised (--json: the run's whole result as JSON too), and for LLM steps the tokens and cost (with the run's
// total). Read-only; a damaged record is reported with its run
// and seq (exit 1).
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "endure/actors/serialization.hpp"
#include "endure/actors/state/ledger_store.hpp"
#include "endure/cli/cluster_client.hpp"
#include "endure/cli/command.hpp"
#include "endure/cli/journal_view.hpp"
#include "endure/cli/run_timeline.hpp"
#include "endure/net/console/timeline_json.hpp"

namespace endure::cli {

namespace {

std::string attempt_line(const attempt_view& a) {
  auto line = "attempt " + std::to_string(a.attempt) + " " + a.outcome;
  if (a.outcome == "completed" || a.outcome == "failed")
    line += " after " + format_duration_ms(a.duration_us / 1000);
  if (a.error_class) {
    line += ": " + std::string{to_string(*a.error_class)};
    if (a.http_status)
      line += " (HTTP " + std::to_string(a.http_status) + ")";
    line += ": " + a.message.substr(0, 160);
  }
  return line;
}

std::string usage_line(const step_usage& u) {
  char cost[32];
  std::snprintf(cost, sizeof cost, "$%.6f", u.cost_usd);
  return "llm " + (u.model.empty() ? std::string{"?"} : u.model) + ": "
         + std::to_string(u.prompt_tokens) + " prompt + " + std::to_string(u.completion_tokens)
         + " completion tokens, " + cost;
}

void print_text(const run_meta& m, const run_timeline& t) {
  std::cout << "run " << m.id << "  workflow " << m.workflow << "  status "
            << to_string(m.status) << "  age " << format_duration_ms(now_ms() - m.created_at_ms)
            << "\n";
  if (!m.detail.empty())
    std::cout << "  detail: " << m.detail << "\n";
  std::cout << "  input: " << summarise(t.input) << "\n";
  for (auto& [index, s] : t.steps) {
    std::int64_t total_us = 0;
    for (auto& a : s.attempts)
      total_us += a.duration_us;
    std::printf("  %3llu %-20s %u attempt%s %8s  %s\n", static_cast<unsigned long long>(index),
                s.name.c_str(), static_cast<unsigned>(s.attempts.size()),
                s.attempts.size() == 1 ? " " : "s", format_duration_ms(total_us / 1000).c_str(),
                console::result_summary(s, 60).c_str());
    std::fflush(stdout);
    if (!s.usage.empty())
      std::cout << "        " << usage_line(s.usage) << "\n";
    if (s.attempts.size() > 1 || !s.result)
      for (auto& a : s.attempts)
        std::cout << "        " << attempt_line(a) << "\n";
  }
  for (auto& sig : t.signals)
    std::cout << "  signal " << sig << "\n";
  if (t.cancel_reason)
    std::cout << "  cancel requested: " << *t.cancel_reason << "\n";
  for (auto& why : t.releases)
    std::cout << "  released: " << why << "\n";
  if (!t.usage.steps.empty())
    std::printf("  llm usage: %zu calls, %llu prompt + %llu completion tokens, $%.6f\n",
                t.usage.steps.size(), static_cast<unsigned long long>(t.usage.prompt_tokens),
                static_cast<unsigned long long>(t.usage.completion_tokens), t.usage.cost_usd);
  std::fflush(stdout);
  if (t.finished)
    std::cout << "  finished " << to_string(t.finished->status) << ": "
              << (t.finished->status == run_status::completed ? summarise(t.finished->result)
                                                              : t.finished->error)
              << "\n";
}

/// The JSON GET /api/v1/runs/ID answers (net/console/timeline_json.hpp).
int print_json(const journal& j, const run_meta& m, const run_timeline& t) {
  auto asked = console::run_requests_json(j, m.id);
  if (!asked)
    return fail("cannot read the requests of run " + m.id + ": " + asked.error().message);
  auto out = console::timeline_json(m, t);
  out["requests"] = std::move(*asked);
  std::cout << out.dump(2) << "\n";
  return 0;
}

/// A run of run_long_task names its task in the step "ledger:create": the
/// task's tally, and where to see the rest (`endure task`).
void print_task_line(const journal& j, const run_timeline& t) {
  for (auto& [index, s] : t.steps) {
    if (s.name != "ledger:create" || !s.result)
      continue;
    auto created = nlohmann::json::parse(from_bytes<std::string>(*s.result), nullptr, false);
    if (!created.is_object() || !created.contains("task"))
      return;
    auto task = created["task"].get<std::string>();
    auto items = state::ledger_store{const_cast<journal&>(j)}.items(task);
    std::size_t passing = 0;
    for (auto& it : items ? *items : std::vector<state::ledger_item>{})
      passing += it.status == state::item_status::passing ? 1 : 0;
    std::cout << "  long task " << task << ": "
              << (items ? std::to_string(passing) + " of " + std::to_string(items->size())
                            + " items passing"
                        : "its ledger cannot be read: " + items.error().message)
              << " (endure task " << task << ")\n";
    return;
  }
}

int inspect_run(const command_env& env, const std::string& run_id, bool json) {
  auto j = open_journal_view(env.globals.data_dir);
  if (!j)
    return fail(j.error().message);
  auto meta = (*j)->run(run_id);
  if (!meta && meta.error().code == errc::not_found)
    return fail("no run '" + run_id + "' in " + env.globals.data_dir
                + ": see `endure list` for the runs there");
  if (!meta)
    return fail("cannot read run " + run_id + ": " + meta.error().message);
  auto events = read_events(**j, run_id);
  if (!events)
    return fail("the journal of run " + run_id + " is damaged: " + events.error().message
                + "; the records before it are intact (restore the data directory from a "
                  "backup, or cancel the run)");
  auto timeline = build_timeline(*events);
  if (json)
    return print_json(**j, *meta, timeline);
  print_text(*meta, timeline);
  print_task_line(**j, timeline);
  return 0;
}

} // namespace

void add_inspect_command(CLI::App& app, command_env& env) {
  struct options {
    std::string run_id;
    bool json = false;
  };
  auto o = std::make_shared<options>();
  auto* cmd = app.add_subcommand("inspect", "show a run's timeline: steps, attempts, errors");
  cmd->add_option("RUN", o->run_id, "run id (see endure list)")->required();
  cmd->add_flag("--json", o->json, "print JSON for machines");
  cmd->callback([&env, o] {
    env.exit_code = env.globals.cluster_file.empty()
                      ? inspect_run(env, o->run_id, o->json)
                      : inspect_cluster_run(env, o->run_id, o->json);
  });
}

} // namespace endure::cli
