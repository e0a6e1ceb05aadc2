// What one step cost: the tokens an LLM call used and its price. Journaled
// with the step's result (step_completed_event) by ctx.llm, so a run's cost
// is read from its journal and a replayed step is never counted twice.
// Plain value type.
#pragma once

#include <cstdint>
#include <string>

namespace endure {

struct step_usage {
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  /// USD, at the backend's configured per-1k prices.
  double cost_usd = 0.0;
  /// The model that answered ("sim" for the simulated model).
  std::string model;

  bool empty() const noexcept {
    return prompt_tokens == 0 && completion_tokens == 0 && cost_usd == 0.0 && model.empty();
  }
};

} // namespace endure
