// Stage 4 of `endure demo`: the escalation matrix learning when to ask. An
// agent reads the search intent of keywords (run_agent, the sim, confident
// every time); before it accepts its own answer the runtime's escalation
// actor scores it. Escalated answers go to a scripted reviewer, who
// corrects the keywords whose intent the sim gets confidently wrong (a
// name shared by a language and something else) and accepts the others;
// each answer is an outcome the matrix learns from. A second round of
// similar keywords then needs fewer escalations: they are no longer novel
// and people changed few answers of their type. Runs in its own data
// directory. Internal to cli/.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "endure/cli/command.hpp"

namespace endure::cli {

struct escalation_stage_result {
  std::size_t per_round = 0;
  std::size_t first_escalated = 0;
  std::size_t first_corrected = 0;
  std::size_t second_escalated = 0;
  std::size_t second_corrected = 0;
};

/// Runs both rounds in `data_dir` (emptied first), printing each decision's
/// breakdown line prefixed by `stamp()`. Errors: the runtime's.
expected<escalation_stage_result> run_escalation_stage(const command_env& env,
                                                       const std::string& data_dir,
                                                       const std::function<std::string()>& stamp);

} // namespace endure::cli
