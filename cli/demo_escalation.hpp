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

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "endure/actors/agent/run_agent.hpp"
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

/// The stage's reviewer for run `run_id`: answers each of its pending
/// questions with `reply` (as "ann"), calling `on_question` with the
/// question's one-line reason first; returns how many it answered.
/// Errors: the requests cannot be read, or the gateway refused an answer
/// (naming question and run).
expected<std::size_t> answer_questions(runtime& rt, const std::string& run_id,
                                       const std::string& reply,
                                       const std::function<void(const std::string&)>& on_question);

/// Waits for run `run_id` to end, calling `review` after each wait of 20 ms
/// it did not end in, for at most about `limit`; the run's answer. Errors,
/// naming the run: it ended otherwise than completed (its status and
/// error), it did not end within `limit` (timeout), the wait failed, or
/// `review` failed.
expected<agent::agent_answer> await_reviewed(runtime& rt, const std::string& run_id,
                                             const std::function<expected<void>()>& review,
                                             std::chrono::milliseconds limit);

} // namespace endure::cli
