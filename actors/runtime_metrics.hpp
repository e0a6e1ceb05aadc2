// What a runtime measured since it opened, and gauges read at the call:
// the snapshot runtime::metrics() returns and the console's /metrics
// renders. Plain values; any thread.
//
// Runs per status come from the journal, which keeps them with each commit
// (journal_metrics::runs), so a call costs the same with 100 or 100,000
// runs. Pending requests are the entries of the gateway's pending table
// (request_index.hpp), which LMDB counts: no walk, no row read; none while
// the gateway's start builds the index (a directory an older endure wrote).
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "endure/actors/gateway/decision.hpp"
#include "endure/persistence/failure.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/metrics/histogram.hpp"

namespace endure {

/// Every failure class, in the order of the by-class arrays below.
inline constexpr std::array<failure_class, 4> all_failure_classes{
  failure_class::retryable, failure_class::rate_limited, failure_class::fatal,
  failure_class::context_length_exceeded};

/// Position of `c` in all_failure_classes; all_failure_classes.size() for
/// a value this build does not know.
constexpr std::size_t failure_class_index(failure_class c) noexcept {
  for (std::size_t i = 0; i < all_failure_classes.size(); ++i)
    if (all_failure_classes[i] == c)
      return i;
  return all_failure_classes.size();
}

struct runtime_metrics {
  // -- steps (counted by the run actors of this process) ---------------------
  /// Step attempts whose function returned a result (replays not counted).
  std::uint64_t steps_completed = 0;
  /// Steps that failed for good (no retry left, or not retryable), by the
  /// class of their last failure (all_failure_classes order).
  std::array<std::uint64_t, 4> steps_failed{};
  /// Failed attempts that will be retried, by their failure's class.
  std::array<std::uint64_t, 4> retries{};
  /// Seconds each finished attempt ran (completed or failed; an abandoned
  /// attempt counts its timeout).
  metrics::histogram_snapshot step_seconds;
  /// Run actors alive now.
  std::uint64_t live_run_actors = 0;

  // -- the human gateway -------------------------------------------------------
  /// Requests decided in this process, by decision (gateway::all_decisions
  /// order: approve, edit, reject, respond). A quorum counts once, when it
  /// is reached.
  std::array<std::uint64_t, 4> decisions{};
  /// Seconds from a request's creation to its decision.
  metrics::histogram_snapshot decision_seconds;
  /// Requests pending now; nullopt when the index could not be read or is
  /// being built.
  std::optional<std::uint64_t> pending_requests;

  // -- the journal -------------------------------------------------------------
  /// Commit histograms and runs per status; nullopt when the runs could
  /// not be counted (a read-only journal's scan failed).
  std::optional<journal_metrics> journal;
};

} // namespace endure
