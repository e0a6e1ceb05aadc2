// The fold of a run's journal: what each step did, which signals arrived
// and were consumed, whether the run was cancelled or finished. Pure (no
// I/O, no clock): the run actor builds it at recovery and keeps it current
// as it appends, so live execution and replay read the same state.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "endure/actors/events.hpp"

namespace endure {

/// Everything the journal says about one step.
struct step_record {
  /// False for an index the journal holds nothing about (yet).
  bool seen = false;
  std::string name;
  std::uint64_t input_hash = 0;
  /// Highest attempt number started.
  std::uint32_t attempts_started = 0;
  /// Attempts started that have neither completed nor failed: each one is a
  /// process crash (or kill) while the attempt ran.
  std::uint32_t crashed_attempts = 0;
  // Held by pointer: a record is then ~100 bytes instead of ~400, and every
  // live run keeps a vector of them (the heap a run touches, and what a
  // growing vector moves).
  std::unique_ptr<step_completed_event> completed;
  std::unique_ptr<step_failed_event> last_failure;
  /// Due time of the step's durable timer (sleep, wait timeout, backoff).
  std::optional<std::int64_t> timer_due;
  /// When its first attempt started (for max_elapsed); 0 if never.
  std::int64_t first_started_ms = 0;
};

/// A signal delivered to the run.
struct signal_record {
  std::uint64_t seq = 0;
  std::string name;
  std::string payload;
  bool consumed = false;
  std::string request_id;  ///< empty when written offline
};

class replay_log {
public:
  /// Folds the event stored at `seq` (taken by value: the fold keeps parts
  /// of it, moved rather than copied).
  void apply(std::uint64_t seq, run_event e);

  const step_record* step(std::uint64_t index) const;
  /// Earliest unconsumed signal named `name`, if any.
  const signal_record* next_signal(std::string_view name) const;
  /// The signal journaled at `seq`, if any.
  const signal_record* signal_at(std::uint64_t seq) const;
  /// The signal journaled under this (non-empty) request id, if any.
  const signal_record* signal_of_request(std::string_view request_id) const;

  const std::optional<run_started_event>& started() const noexcept { return started_; }
  const std::optional<cancel_requested_event>& cancel() const noexcept { return cancel_; }
  const std::optional<run_finished_event>& finished() const noexcept { return finished_; }
  /// True once a run_released is journaled: the run was quarantined, which
  /// erased its timer rows (persistence: timers), at least once.
  bool released() const noexcept { return released_; }
  /// Indexed by step; entries with `seen` false are gaps.
  const std::vector<step_record>& steps() const noexcept { return steps_; }
  const std::vector<signal_record>& signals() const noexcept { return signals_; }
  std::uint64_t last_seq() const noexcept { return last_seq_; }

private:
  step_record& at(std::uint64_t index, const std::string& name, std::uint64_t hash);

  // A vector, not a map: step indexes are dense (0, 1, 2, ...), and walking
  // a tree of 1,000 live runs' records cost a cache miss per node (5% of
  // the CPU of bench/pipeline's throughput).
  std::vector<step_record> steps_;
  std::vector<signal_record> signals_;
  std::optional<run_started_event> started_;
  std::optional<cancel_requested_event> cancel_;
  std::optional<run_finished_event> finished_;
  bool released_ = false;
  std::uint64_t last_seq_ = 0;
};

} // namespace endure
