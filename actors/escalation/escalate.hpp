// Asking the escalation actor from a workflow, durably:
//
//   escalation::proposal p{.task_type = "refund", .input = ticket, .action = "tool:refund",
//                          .confidence = reply.confidence, .reasoning = reply.content};
//   auto a = co_await escalation::assess(ctx, "refund", p);
//   if (a.decision == escalation::decision::escalate) { ... ask a person ...
//     co_await escalation::record_outcome(ctx, "refund", a, p, changed); }
//
// assess is the step "escalate:NAME": the actor's answer, with its whole
// breakdown (U, N, B, weights, score, threshold, propensity, reason), is
// journaled before the workflow acts on it, and a replay reads it back
// without asking the actor again; a retried attempt asks under the same
// decision key and gets the same answer. When the score falls in the
// matrix's grey zone and `sampling` is given, `sampling.count` samples of
// the same prompt are drawn first, each a journaled ctx.llm step
// ("escalate:NAME/sample I", its cost counted like any model call), and the
// actor is asked again with them ("escalate:NAME/with samples").
// record_outcome is the step "outcome:NAME": durable in the actor's store
// (with the refit it caused) before it completes; recorded once per
// decision however often it is retried or replayed.
//
// Needs runtime_options::escalation; without it the steps fail (fatal)
// naming run and step. A proposal the actor refuses (a field that is not
// what it must be) fails the step (fatal) with the actor's message.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "endure/actors/context.hpp"
#include "endure/actors/escalation/matrix.hpp"
#include "endure/actors/task.hpp"
#include "endure/net/chat_types.hpp"

namespace endure::escalation {

/// How to draw samples of the same prompt when the actor wants them.
struct sampling {
  net::chat_request request;  ///< the prompt the proposal answered
  std::size_t count = 3;      ///< samples drawn (each with seed 1..count)
};

/// Where the input's embedding comes from, when the proposal has none: the
/// matrix's built-in hashed n-grams, or the runtime's model
/// (runtime_options::llm's `/v1/embeddings`; the sim embeds offline) in a
/// journaled step "escalate:NAME/embedding", retried by the class of its
/// failure like ctx.llm (each retry is the model call's next `attempt`); an
/// attempt waits at most the backend's default_timeout() (else
/// llm_config's request_timeout) plus 2 s. The vector's width must be the matrix's
/// novelty.dim, else the assessment fails (fatal) saying both widths.
enum class embedding_source { built_in, model };

task<assessment> assess(context& ctx, std::string name, proposal p,
                        std::optional<sampling> samples = std::nullopt,
                        embedding_source embeddings = embedding_source::built_in);

/// What a person did with decision `a` (from assess) of proposal `p`:
/// `changed` in [0, 1] (0 approved as is, 1 rejected or rewrote it). Returns
/// whether it was recorded now (false: recorded before, under a.decision_key).
task<bool> record_outcome(context& ctx, std::string name, const assessment& a,
                          const proposal& p, double changed);

/// A sample's text for disagreement: the content, or the tool calls
/// ("name {args}" joined by "; ") when there is none.
std::string sample_text(const net::chat_response& r);

} // namespace endure::escalation
