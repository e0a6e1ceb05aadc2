// context::tool: validate, pass the policy gate (waiting for a person when
// it says so), then one durable step that runs the tool and journals its
// result as JSON text.
#include "endure/actors/agent/tool_call.hpp"

#include "endure/actors/agent/canonical_json.hpp"
#include "endure/actors/agent/json_schema.hpp"
#include "endure/actors/detail/step_services.hpp"
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

} // namespace

task<std::string> context::decided_outcome(std::string request_id, std::string arguments_hash) {
  // The signal only wakes the run: the outcome is read from the request's
  // row, which only the human gateway writes, in a journaled step. A signal
  // sent under the same name by anyone else finds the request still
  // pending, and the run goes back to waiting.
  auto* services = host_->services();
  for (;;) {
    auto signal = gateway::decision_signal(request_id);
    auto woken = wait_signal<std::string>(std::move(signal));
    co_await std::move(woken);
    auto read = [services, arguments_hash](const std::string& id) {
      return gateway::stored_outcome(*services, id, arguments_hash);
    };
    auto check_name = "decision:" + request_id;
    auto check = step(std::move(check_name), read, request_id);
    auto payload = co_await std::move(check);
    if (!payload.empty())
      co_return payload;
  }
}

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
    // Always a gate step, policy or not, so turning a policy on or off under
    // live runs does not change their step sequence (a replay would see a
    // different step and quarantine the run).
    // The gate is a step: its answer (and the request it raised) is
    // journaled, so a replay neither asks the policy again nor raises twice.
    auto raise = [services, name, run = run_id()](const step_info& info, const std::string& text) {
      return gateway::raise_if_gated(*services, run, name, json::parse(text),
                                     info.idempotency_key);
    };
    auto gate_name = "gate:" + name;
    auto gate = step(std::move(gate_name), raise, canonical);
    std::string request_id = co_await std::move(gate);
    if (!request_id.empty()) {
      auto payload = co_await decided_outcome(request_id, agent::json_hash(args));
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
    return gateway::raise_question(*services, run, json::parse(text), info.idempotency_key);
  };
  auto asked_text = asked.dump();
  auto ask = step("ask_human", raise, asked_text);
  std::string request_id = co_await std::move(ask);
  auto payload = co_await decided_outcome(request_id, agent::json_hash(asked));
  auto outcome = gateway::parse_outcome(payload);
  if (!outcome)
    throw fatal_error("run " + run_id() + ": the answer to request " + request_id
                      + " cannot be read: " + outcome.error().message);
  co_return outcome->text;
}

} // namespace endure
