// The escalation steps of a workflow (escalate.hpp).
#include "endure/actors/escalation/escalate.hpp"

#include <nlohmann/json.hpp>

#include "endure/actors/agent/detail/tool_phases.hpp"
#include "endure/actors/detail/model_embedding.hpp"
#include "endure/actors/detail/step_services.hpp"
#include "endure/actors/escalation/matrix_json.hpp"
#include "endure/actors/workflow_errors.hpp"

namespace endure::escalation {

namespace {

using call = ::endure::detail::step_services::escalation_call;

/// The step body: asks the actor under the step's idempotency key. A
/// refused proposal is fatal (asking again cannot help); anything else
/// (the actor restarting, a write failing) is retried.
auto ask_actor(::endure::detail::step_services* services, call what, std::string where) {
  return [services, what, where](const step_info& info, const std::string& body) {
    // Configuration, not a message, decides what is fatal: asking again
    // cannot make an escalation actor appear.
    if (!services || !services->has_escalation())
      throw fatal_error(where + ": no escalation actor runs in this runtime (set "
                                "runtime_options::escalation)");
    auto answer = services->escalation(what, info.idempotency_key, body);
    if (!answer) {
      auto message = where + ": " + answer.error().message;
      if (answer.error().code == errc::invalid_argument)
        throw fatal_error(message);
      throw retryable_error(message);  // the actor restarting, a write failing
    }
    return std::move(*answer);
  };
}

task<assessment> ask(context& ctx, std::string step_name, const proposal& p) {
  auto* services = agent::detail::context_access::services(ctx);
  auto where = "run " + ctx.run_id() + ", step '" + step_name + "'";
  auto step = ctx.step(step_name, ask_actor(services, call::assess, where), to_json_text(p));
  auto text = co_await std::move(step);
  auto a = assessment_from_json(text);
  if (!a)
    throw fatal_error(where + ": the journaled assessment cannot be read: " + a.error().message);
  co_return std::move(*a);
}

} // namespace

std::string sample_text(const net::chat_response& r) {
  if (!r.content.empty() || r.tool_calls.empty())
    return r.content;
  std::string out;
  for (auto& c : r.tool_calls)
    out += (out.empty() ? "" : "; ") + c.name + " " + c.arguments_json;
  return out;
}

task<assessment> assess(context& ctx, std::string name, proposal p,
                        std::optional<sampling> samples, embedding_source embeddings) {
  p.samples_unavailable = !samples || samples->count < 2;
  if (embeddings == embedding_source::model && p.embedding.empty()) {
    auto step_name = "escalate:" + name + "/embedding";
    auto* services = agent::detail::context_access::services(ctx);
    auto where = "run " + ctx.run_id() + ", step '" + step_name + "'";
    auto embedding = ctx.step(step_name, ::endure::detail::model_embedding(services, where),
                              p.input);
    p.embedding = co_await std::move(embedding);
  }
  auto first = ask(ctx, "escalate:" + name, p);
  auto a = co_await std::move(first);
  if (!a.wants_samples)
    co_return a;
  for (std::size_t i = 1; i <= samples->count; ++i) {
    auto request = samples->request;
    request.seed = static_cast<std::int64_t>(i);
    if (!request.temperature)
      request.temperature = 1.0;
    auto step = ctx.llm("escalate:" + name + "/sample " + std::to_string(i), std::move(request));
    auto reply = co_await std::move(step);
    p.samples.push_back(sample_text(reply));
  }
  auto again = ask(ctx, "escalate:" + name + "/with samples", p);
  co_return co_await std::move(again);
}

task<bool> record_outcome(context& ctx, std::string name, const assessment& a, const proposal& p,
                          double changed) {
  auto step_name = "outcome:" + name;
  auto where = "run " + ctx.run_id() + ", step '" + step_name + "'";
  if (a.decision_key.empty())
    throw fatal_error(where + ": the assessment has no decision key (it was not made by the "
                              "escalation actor)");
  outcome o;
  o.task_type = p.task_type;
  o.features = a.features;
  o.score = a.score;
  o.decision = a.decision;
  o.propensity = a.propensity;
  o.confidence = p.confidence;
  o.changed = changed;
  auto* services = agent::detail::context_access::services(ctx);
  auto body = ask_actor(services, call::outcome, where);
  // Recorded under the decision's key, not this step's: one outcome per
  // decision however the workflow is written.
  auto record = [body, key = a.decision_key](const step_info& info, const std::string& text) {
    auto keyed = info;
    keyed.idempotency_key = key;
    return body(keyed, text);
  };
  auto step = ctx.step(step_name, record, to_json_text(o));
  auto text = co_await std::move(step);
  auto answer = nlohmann::json::parse(text, nullptr, false);
  co_return answer.is_object() && answer.value("recorded", false);
}

} // namespace endure::escalation
