// context::tool: validate, pass the policy gate (waiting for a person when
// it says so, until the rule's deadline), then one durable step that runs
// the tool and journals its result as JSON text.
#include "endure/actors/agent/tool_call.hpp"

#include "endure/actors/agent/canonical_json.hpp"
#include "endure/actors/agent/json_schema.hpp"
#include "endure/actors/detail/clock.hpp"
#include "endure/actors/detail/step_services.hpp"
#include "endure/actors/gateway/deadline.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/gateway/raise.hpp"
#include "endure/persistence/failure.hpp"

namespace endure {

namespace {

using json = nlohmann::json;

std::string describe(const std::vector<agent::schema_violation>& violations) {
  std::string out;
  for (auto& v : violations)
    out += (out.empty() ? "" : "; ") + (v.path.empty() ? std::string{"/"} : v.path) + ": "
           + v.message;
  return out;
}

/// The tool's result as JSON text (invalid UTF-8 replaced, never thrown).
std::string result_text(const json& result) {
  return result.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string canonical_or_fail(const json& args, const std::string& where) {
  try {
    return agent::canonical_json(args);
  } catch (const std::invalid_argument& e) {
    throw fatal_error(where + ": " + e.what());
  }
}

/// What the model reads when a person refused the call (or the decision
/// could not be read: fail closed).
json rejection(const std::string& tool, const std::string& reason,
               const std::vector<std::string>& by) {
  return {{"error", "rejected"}, {"tool", tool}, {"reason", reason}, {"by", by}};
}

/// The wait's timeout for a deadline at `due_ms`: what is left of it (at
/// least 1 ms: 0 would mean "no timeout"), or none. Reading the clock here
/// does not break replay: a wait whose timer was journaled replays with
/// that timer's due time and ignores this value; only a wait that never
/// reached the journal (a crash just before) uses it, and then "what is
/// left now" is the right answer.
std::chrono::milliseconds left_until(std::int64_t due_ms) {
  if (due_ms <= 0)
    return {};
  return std::chrono::milliseconds{std::max<std::int64_t>(1, due_ms - detail::now_ms())};
}

/// Waits for request `id`'s outcome (its outcome_payload text). Each time
/// the deadline passes first, a journaled step asks the gateway what it
/// means: the outcome a decision reached meanwhile (it wins: the gateway
/// serialises decisions and deadlines), the expiry's rejection, or a new
/// deadline (escalated; 0: keep waiting without one).
///
/// The decision signal only wakes the run: the outcome is read from the
/// request's row (written only by the human gateway) in a journaled step,
/// which also checks the request binds `arguments_hash`. A signal sent under
/// the same name by anyone else finds the request pending, and the run goes
/// back to waiting.
task<std::string> await_outcome(context& ctx, detail::step_services* services,
                                std::string label, gateway::raised_request req,
                                std::string arguments_hash) {
  auto signal = gateway::decision_signal(req.id);
  for (;;) {
    auto timeout = left_until(req.due_ms);
    auto waiting = ctx.wait_signal<std::string>(signal, timeout);
    auto woken = co_await std::move(waiting);
    if (woken) {
      auto read = [services, arguments_hash](const std::string& id) {
        return gateway::stored_outcome(*services, id, arguments_hash);
      };
      auto check_name = "decision:" + label;
      auto check = ctx.step(std::move(check_name), read, req.id);
      auto payload = co_await std::move(check);
      if (!payload.empty())
        co_return payload;
      continue;  // not decided: someone else's signal
    }
    auto ask = [services](const std::string& id) {
      auto answer = services->deadline_passed(id);
      if (!answer)  // the gateway restarting, a write that failed: ask again
        throw retryable_error(answer.error().to_string());
      return std::move(*answer);
    };
    auto step_name = "deadline:" + label;
    auto at_deadline = ctx.step(std::move(step_name), ask, req.id);
    auto answer_text = co_await std::move(at_deadline);
    auto answer = gateway::parse_deadline_answer(answer_text);
    if (!answer)
      co_return std::string{};  // unreadable: the caller fails closed
    if (answer->outcome)
      co_return std::move(*answer->outcome);
    req.due_ms = answer->due_ms;
  }
}

} // namespace

const agent::tool_registry* context::tools() const noexcept {
  auto* services = host_->services();
  return services ? services->tools() : nullptr;
}

task<json> context::tool(std::string name, json args) {
  auto where = "run " + run_id() + ", tool '" + name + "'";
  auto* tools = this->tools();
  if (!tools)
    throw fatal_error(where + ": no tools are configured (runtime_options::tools)");
  const agent::tool* t = tools->find(name);
  if (!t)
    throw fatal_error(where + ": no such tool is registered");
  if (auto violations = agent::validate(t->parameters, args); !violations.empty())
    throw fatal_error(where + ": the arguments break the tool's schema: " + describe(violations));
  auto canonical = canonical_or_fail(args, where);
  if (auto* services = host_->services()) {
    // The gate is a step: its answer (and the request it raised) is
    // journaled, so a replay neither asks the policy again nor raises twice.
    // Always a gate step, policy or not, so turning a policy on or off under
    // live runs does not change their step sequence.
    auto raise = [services, name, run = run_id()](const step_info& info, const std::string& text) {
      return gateway::raised_text(gateway::raise_if_gated(*services, run, name,
                                                          json::parse(text),
                                                          info.idempotency_key));
    };
    auto gate_name = "gate:" + name;
    auto gate = step(std::move(gate_name), raise, canonical);
    std::string gate_text = co_await std::move(gate);
    auto raised = gateway::parse_raised(gate_text);
    if (!raised.id.empty()) {
      auto waiting = await_outcome(*this, services, name, raised, agent::json_hash(args));
      auto payload = co_await std::move(waiting);
      auto outcome = gateway::parse_outcome(payload);
      if (!outcome)
        co_return rejection(name, outcome.error().message, {});
      switch (outcome->what) {
        case gateway::decision::reject:
          co_return rejection(name, outcome->text, outcome->principals);
        case gateway::decision::respond:
          co_return json{{"response", outcome->text}, {"by", outcome->principals}};
        case gateway::decision::edit:
          // Checked against the tool's schema by the gateway when decided
          // (not again here: a replay must not depend on today's schema);
          // run only what the decision's hash binds.
          if (agent::json_hash(outcome->edited_arguments) != outcome->edited_hash)
            co_return rejection(name, "the edited arguments do not match their hash",
                                outcome->principals);
          canonical = canonical_or_fail(outcome->edited_arguments, where);
          break;
        case gateway::decision::approve:
          break;  // exactly the arguments the request bound by their hash
      }
    }
  }
  auto run = [t](const step_info& info, const std::string& text) {
    return result_text(t->function(info, json::parse(text)));
  };
  retry_policy policy;
  if (t->irreversible)  // a retried attempt could repeat an effect that took
    policy.max_attempts = 1;
  auto step_name = "tool:" + name;
  auto call = step(std::move(step_name), run, std::move(canonical)).retry(policy);
  auto text = co_await std::move(call);
  co_return json::parse(text);
}

task<std::string> context::ask_human(std::string question, std::vector<std::string> choices,
                                     std::string about) {
  auto* services = host_->services();
  if (!services || !services->store())
    throw fatal_error("run " + run_id() + ": ask_human needs a runtime");
  json asked = {{"question", question}, {"choices", choices}, {"context", about}};
  auto raise = [services, run = run_id()](const step_info& info, const std::string& text) {
    return gateway::raised_text(gateway::raise_question(*services, run, json::parse(text),
                                                        info.idempotency_key));
  };
  auto asked_text = asked.dump();
  auto ask = step("ask_human", raise, asked_text);
  std::string ask_text = co_await std::move(ask);
  auto raised = gateway::parse_raised(ask_text);
  auto request_id = raised.id;
  auto waiting = await_outcome(*this, services, "ask_human", std::move(raised),
                               agent::json_hash(asked));
  auto payload = co_await std::move(waiting);
  auto outcome = gateway::parse_outcome(payload);
  if (!outcome)
    throw fatal_error("run " + run_id() + ": the answer to request " + request_id
                      + " cannot be read: " + outcome.error().message);
  co_return outcome->text;
}

} // namespace endure
