// Raising a request: the body of the step that asks the policy about a tool
// call (or asks a person a question) and, when a person must answer, writes
// the request's row before anyone learns its id. Runs on an activity thread
// as part of ctx.tool / ctx.ask_human; journaled like any step, so a replay
// reads its answer instead of asking the policy again (a policy changed
// later does not change a request already raised).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace endure::detail {
class step_services;
}

namespace endure::gateway {

/// A request a step raised: its id ("" when the policy let the call
/// through) and when its deadline passes (0: none).
struct raised_request {
  std::string id;
  std::int64_t due_ms = 0;
};

/// The outcome stored on request `id`'s row (outcome_payload), or "" while
/// it is pending. What a run acts on: the decision signal only wakes it, so
/// a signal someone else sent under that name decides nothing. Throws
/// retryable_error when the row cannot be read, fatal_error when there is no
/// such request.
/// The request must bind arguments with `arguments_hash`, else fatal_error.
std::string stored_outcome(::endure::detail::step_services& services, const std::string& id,
                           const std::string& arguments_hash);

/// The gate step's journaled result: "" when not gated, else
/// {"request": id, "due_ms": N}. parse_raised also reads a bare id (the
/// result of gate steps journaled before deadlines existed: no deadline).
std::string raised_text(const raised_request& r);
raised_request parse_raised(const std::string& text);

/// The request the call waits on, or an empty id when the policy lets it
/// through. `id` is the step's idempotency key: a step that ran before the
/// process died finds its row (and its deadline) and raises nothing new.
/// Throws retryable_error when the row cannot be read or written.
raised_request raise_if_gated(::endure::detail::step_services& services,
                              const std::string& run_id, const std::string& tool,
                              const nlohmann::json& args, const std::string& id);

/// Raises a question (kind question, tool "ask_human"; no deadline).
raised_request raise_question(::endure::detail::step_services& services,
                              const std::string& run_id, const nlohmann::json& question,
                              const std::string& id);

} // namespace endure::gateway
