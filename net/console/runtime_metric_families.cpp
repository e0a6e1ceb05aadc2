// The catalogue of endure's metrics (runtime_metric_families.hpp).
#include "endure/net/console/runtime_metric_families.hpp"

#include <string>

namespace endure::console {

namespace {

metric_family family(std::string name, std::string help, metric_type type) {
  return {std::move(name), std::move(help), type, {}, {}};
}

metric_family single(std::string name, std::string help, metric_type type, double value) {
  auto f = family(std::move(name), std::move(help), type);
  f.samples.push_back({{}, value});
  return f;
}

metric_family by_class(std::string name, std::string help,
                       const std::array<std::uint64_t, all_failure_classes.size()>& counts) {
  auto f = family(std::move(name), std::move(help), metric_type::counter);
  for (std::size_t i = 0; i < counts.size(); ++i)
    f.samples.push_back({{{"class", std::string(to_string(all_failure_classes[i]))}},
                         static_cast<double>(counts[i])});
  return f;
}

metric_family histogram_family(std::string name, std::string help,
                               metrics::histogram_snapshot h) {
  auto f = family(std::move(name), std::move(help), metric_type::histogram);
  f.histograms.push_back({{}, std::move(h)});
  return f;
}

void add_steps(std::vector<metric_family>& out, const runtime_metrics& m) {
  out.push_back(single("endure_steps_completed_total",
                       "Step attempts whose function returned a result (replays not counted); "
                       "rate() of it is steps per second.",
                       metric_type::counter, static_cast<double>(m.steps_completed)));
  out.push_back(by_class("endure_steps_failed_total",
                         "Steps that failed for good (not retryable or out of attempts), by the "
                         "class of their last failure.",
                         m.steps_failed));
  out.push_back(by_class("endure_step_retries_total",
                         "Failed step attempts that will be retried, by failure class.",
                         m.retries));
  out.push_back(histogram_family("endure_step_duration_seconds",
                                 "How long each finished step attempt ran (completed or failed).",
                                 m.step_seconds));
  out.push_back(single("endure_run_actors", "Run actors alive in this process.",
                       metric_type::gauge, static_cast<double>(m.live_run_actors)));
}

void add_runs(std::vector<metric_family>& out, const runtime_metrics& m) {
  auto runs = family("endure_runs", "Runs in the journal, by status.", metric_type::gauge);
  if (m.journal)
    for (auto s : {run_status::running, run_status::waiting, run_status::completed,
                   run_status::failed, run_status::cancelled, run_status::quarantined})
      runs.samples.push_back({{{"status", std::string(to_string(s))}},
                              static_cast<double>(m.journal->runs.of(s))});
  out.push_back(std::move(runs));
}

void add_gateway(std::vector<metric_family>& out, const runtime_metrics& m) {
  auto pending = family("endure_pending_requests",
                        "Requests (gated tool calls, questions) waiting for a person.",
                        metric_type::gauge);
  if (m.pending_requests)
    pending.samples.push_back({{}, static_cast<double>(*m.pending_requests)});
  out.push_back(std::move(pending));
  auto decisions = family("endure_decisions_total",
                          "Requests decided in this process, by decision (a quorum counts once).",
                          metric_type::counter);
  for (std::size_t i = 0; i < m.decisions.size(); ++i)
    decisions.samples.push_back({{{"decision", std::string(gateway::to_string(
                                                 gateway::all_decisions[i]))}},
                                 static_cast<double>(m.decisions[i])});
  out.push_back(std::move(decisions));
  out.push_back(histogram_family("endure_time_to_decision_seconds",
                                 "Seconds from a request's creation to its decision.",
                                 m.decision_seconds));
}

void add_journal(std::vector<metric_family>& out, const runtime_metrics& m) {
  if (!m.journal)
    return;
  out.push_back(histogram_family("endure_journal_commit_duration_seconds",
                                 "Seconds per group commit: LMDB write transaction to durable "
                                 "(fsync included).",
                                 m.journal->commit_seconds));
  out.push_back(histogram_family("endure_journal_batches_per_commit",
                                 "Write batches in each committed transaction (group-commit size).",
                                 m.journal->batches_per_commit));
  out.push_back(single("endure_journal_failed_batches_total",
                       "Write batches that got an error (nothing of such a batch is written).",
                       metric_type::counter, static_cast<double>(m.journal->failed_batches)));
}

} // namespace

std::vector<metric_family> runtime_metric_families(const runtime_metrics& m) {
  std::vector<metric_family> out;
  add_steps(out, m);
  add_runs(out, m);
  add_gateway(out, m);
  add_journal(out, m);
  return out;
}

} // namespace endure::console
