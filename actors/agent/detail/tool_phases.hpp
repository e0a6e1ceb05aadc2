// ctx.tool and ctx.ask_human cut into their three phases, so that run_agent
// can take a whole model turn through each phase before the next: first
// every call's gate (its requests raised, in call order), then one wait
// until every request of the turn is decided, then every call run, in call
// order. Several gated calls in one turn are thus each in a person's inbox
// at once, and the turn goes on only when all are decided. ctx.tool and
// ctx.ask_human are these phases for one call, with the same steps:
//
//   gate:NAME | ask_human      the gate (or question) step, raising the request
//   (signal waits)             until decided; per request, in call order:
//   decision:LABEL             only when woken by a signal another sender
//                              than the gateway sent (or in a run an earlier
//                              build journaled): the outcome read from the
//                              request's row. The gateway's own signal
//                              carries the outcome, and no step is needed.
//   deadline:LABEL             the gateway asked when a deadline passed
//   tool:NAME                  the tool itself (approved or edited calls)
//
// Internal: users call ctx.tool, ctx.ask_human or run_agent. Run actor's
// thread only, like all workflow code.
#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "endure/actors/context.hpp"
#include "endure/actors/gateway/raise.hpp"
#include "endure/actors/task.hpp"
#include "endure/persistence/error.hpp"

namespace endure::detail {
class step_services;
}

namespace endure::agent::detail {

/// What the phases need of a context beyond its public API.
struct context_access {
  /// The runtime's services; null for a host without them (no gate then).
  static ::endure::detail::step_services* services(context& ctx);
  /// Waits for signal `name`; its payload counts only if the signal was
  /// journaled with request id `sender` (otherwise it reads as "").
  static op_awaiter<std::optional<std::string>> wait_signal_from(
    context& ctx, std::string name, std::string sender, std::chrono::milliseconds timeout);
  /// True if the journal holds step `name` with the input `id` where the
  /// run's next step goes (as ctx.step(name, fn, id) would journal it).
  static bool next_journaled_step_is(context& ctx, const std::string& name,
                                     const std::string& id);
  /// Tells the run's host that the run raises requests of the gateway.
  static void uses_gateway(context& ctx);
};

/// One call between its gate and its run.
struct gated_call {
  /// The tool's name; "ask_human" for a question.
  std::string tool;
  /// What the request binds (by hash): the call's arguments, or the
  /// question {"question", "choices", "context"}.
  nlohmann::json arguments;
  /// The request raised; an empty id when the policy let the call through.
  gateway::raised_request raised;
  /// await_decisions sets these: whether the call needs no more waiting,
  /// the outcome payload the gateway stored ("" if it could not be read:
  /// the call fails closed), or the step failure met while waiting.
  bool settled = false;
  std::string outcome;
  std::exception_ptr failed;
};

/// Phase 1 of ctx.tool: checks the call (as ctx.tool does: fatal_error for
/// no tools, an unknown tool or arguments that break the schema) and passes
/// the gate step "gate:NAME", which raises the request when the policy
/// says so.
task<gated_call> pass_gate(context& ctx, std::string name, nlohmann::json args);

/// Phase 1 of ctx.ask_human: the step "ask_human" raises the question.
task<gated_call> raise_question(context& ctx, std::string question,
                                std::vector<std::string> choices, std::string about);

/// Phase 2: waits (durably) until every call in `calls` that raised a
/// request is settled. All of them wait at once; the earliest deadline
/// among them ends each round of waiting, so a deadline is applied on time
/// while the others go on waiting. A step failure while waiting on one
/// request is kept in its call (`failed`), not thrown.
task<void> await_decisions(context& ctx, std::vector<gated_call>& calls);

/// What phase 3 did with a call: whether the tool ran.
enum class call_fate {
  ran,        ///< the tool ran (let through, approved or edited)
  rejected,   ///< a person said no, or the decision could not be read
  responded,  ///< a person's text stands in for the result; the tool did not run
};

/// A call's result as the model reads it, and how it came about.
struct decided_call {
  nlohmann::json result;
  call_fate fate = call_fate::ran;
};

/// Phase 3 of ctx.tool for a settled call: the rejection or the response
/// a person gave, or the tool run ("tool:NAME") on the approved or edited
/// arguments. Rethrows what waiting failed with.
task<decided_call> run_decided(context& ctx, gated_call call);

/// Phase 3 of ctx.ask_human: the answer's text, or why it cannot be read.
/// Rethrows what waiting failed with.
expected<std::string> answer_of(const gated_call& question);

} // namespace endure::agent::detail
