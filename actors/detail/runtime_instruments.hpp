// The instruments a runtime's actors update on their hot paths (the run
// actors at each attempt's end, the human gateway at each decision) and
// runtime::metrics() reads: a few relaxed atomic adds per step, no lock.
// Owned by the runtime (in run_counters); any thread. Internal.
#pragma once

#include <array>
#include <cstdint>

#include "endure/actors/runtime_metrics.hpp"
#include "endure/persistence/metrics/counter.hpp"
#include "endure/persistence/metrics/histogram.hpp"

namespace endure::detail {

struct runtime_instruments {
  metrics::counter steps_completed;
  std::array<metrics::counter, all_failure_classes.size()> steps_failed;
  std::array<metrics::counter, all_failure_classes.size()> retries;
  /// From 100 us (an inline computation) to 10 min (a long tool call).
  metrics::histogram step_seconds{0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25,
                                  0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
  std::array<metrics::counter, gateway::all_decisions.size()> decisions;
  /// From a second (an approval at the desk) to a week (a weekend away).
  metrics::histogram decision_seconds{1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200,
                                      14400, 28800, 86400, 172800, 604800};

  /// An attempt ended: its result (`failed` false), a retry or a final
  /// failure of class `cls`; it ran `duration_us`.
  void attempt_ended(bool failed, bool retry, failure_class cls, std::int64_t duration_us) {
    step_seconds.observe(static_cast<double>(duration_us) / 1e6);
    if (!failed)
      return steps_completed.add();
    auto i = failure_class_index(cls);
    if (i < all_failure_classes.size())
      (retry ? retries : steps_failed)[i].add();
  }

  /// A request was decided with `what`, `seconds` after it was created.
  void decided(gateway::decision what, double seconds) {
    if (auto i = static_cast<std::size_t>(what); i < decisions.size())
      decisions[i].add();
    decision_seconds.observe(seconds);
  }
};

} // namespace endure::detail
