// A run's journal folded into what a person asks about it: each step with
// its attempts (when, how long, how each failed), its result, the signals
// the run received and how it ended. Pure: built from decoded events, used
// by `endure inspect`, the demo's summary and the console's GET
// /api/v1/runs/ID (here, below the CLI, so both show the same timeline).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "endure/actors/run_usage.hpp"
#include "endure/net/console/journal_view.hpp"

namespace endure::console {

struct attempt_view {
  std::uint32_t attempt = 1;
  std::int64_t started_ms = 0;
  /// "completed", "failed", "cut off" (started, never finished, a later
  /// attempt started: the process died during it) or "in flight" (the
  /// last attempt, not finished: running now, or the process died) or
  /// "interrupted" (abandoned when a shutdown's deadline passed).
  std::string outcome = "in flight";
  std::int64_t duration_us = 0;
  std::optional<failure_class> error_class;
  std::string message;
  int http_status = 0;
  std::uint64_t seq = 0;  ///< the record that ended it (or started it)
};

struct step_view {
  std::uint64_t index = 0;
  std::string name;
  std::vector<attempt_view> attempts;
  std::optional<std::string> result;  ///< msgpack, when completed
  std::uint64_t completed_seq = 0;
  /// Tokens and cost, for an LLM step (empty otherwise).
  step_usage usage;
};

struct run_timeline {
  std::string workflow;
  std::string input;  ///< msgpack
  std::int64_t started_ms = 0;
  std::map<std::uint64_t, step_view> steps;
  std::vector<std::string> signals;  ///< "name: payload summary"
  std::optional<std::string> cancel_reason;
  std::vector<std::string> releases;  ///< reasons given to `endure release`
  std::optional<run_finished_event> finished;
  /// The run's LLM usage, summed over its completed steps.
  run_usage usage;
};

run_timeline build_timeline(const std::vector<seq_event>& events);

/// Failed attempts counted per error class name.
std::map<std::string, std::size_t> retries_by_class(const run_timeline& t);

} // namespace endure::console
