// A run's LLM usage and cost, summed from its journal: each completed step
// whose step_completed record carries usage (ctx.llm) counts once, however
// often the run was replayed, since a replayed step journals nothing.
// Attempts that failed, or were cut off by a crash, carry no usage and are
// not counted (a provider may still have billed them).
//
// read_run_usage works on any journal whose workflow event types are
// registered: the runtime's own (runtime::usage) or one opened read-only
// next to a live process (the CLI). Any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "endure/actors/events.hpp"
#include "endure/actors/step_usage.hpp"

namespace endure {

struct step_usage_entry {
  std::uint64_t step = 0;  ///< index of the step in the workflow
  std::string name;
  step_usage usage;
};

struct run_usage {
  /// LLM steps with their usage, in step order.
  std::vector<step_usage_entry> steps;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  double cost_usd = 0.0;

  /// Counts step `e` if it carries usage.
  void add(const step_completed_event& e);
  std::uint64_t tokens() const noexcept { return prompt_tokens + completion_tokens; }
};

/// Sums the usage of run `run_id`. Errors: not_found (no journal for the
/// run), corrupt_record naming run and seq.
expected<run_usage> read_run_usage(const journal& j, const std::string& run_id);

} // namespace endure
