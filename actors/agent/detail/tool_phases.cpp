// The phases of a gated call: gate, wait for the decisions, run. See the
// header for the steps each journals. For one call their names and order
// are those ctx.tool always journaled, so a ctx.tool call, or a run_agent
// turn with one tool call, recorded before the phases were split replays
// unchanged. A turn with two or more calls does not: it used to journal
// gate, tool, gate, tool and now journals gate, gate, tool, tool, so an
// unfinished run that an earlier build took into such a turn replays a
// changed step and is quarantined (actors/agent/README.md, "Upgrading").
#include "endure/actors/agent/detail/tool_phases.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

#include "endure/actors/agent/canonical_json.hpp"
#include "endure/actors/agent/json_msgpack.hpp"
#include "endure/actors/agent/json_schema.hpp"
#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/detail/clock.hpp"
#include "endure/actors/detail/step_services.hpp"
#include "endure/actors/gateway/deadline.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/persistence/failure.hpp"

namespace endure::agent::detail {

namespace {

using json = nlohmann::json;
using services_ptr = ::endure::detail::step_services*;

std::string describe(const std::vector<schema_violation>& violations) {
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
    return canonical_json(args);
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

/// The registered tool `name`, or fatal_error naming run and tool.
const tool& registered(context& ctx, const std::string& name, const std::string& where) {
  auto* tools = ctx.tools();
  if (!tools)
    throw fatal_error(where + ": no tools are configured (runtime_options::tools)");
  const tool* t = tools->find(name);
  if (!t)
    throw fatal_error(where + ": no such tool is registered");
  return *t;
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
  return std::chrono::milliseconds{std::max<std::int64_t>(1, due_ms - ::endure::detail::now_ms())};
}

/// The step label of a call's decision and deadline steps.
const std::string& label_of(const gated_call& c) { return c.tool; }

/// The earliest deadline among the calls still waiting (0: none has one).
/// A pure function of journaled values, so every replay draws the same.
std::int64_t earliest_due(const std::vector<gated_call>& calls) {
  std::int64_t due = 0;
  for (auto& c : calls)
    if (!c.settled && c.raised.due_ms > 0 && (due == 0 || c.raised.due_ms < due))
      due = c.raised.due_ms;
  return due;
}

/// The call was woken by its decision signal. The gateway's own signal
/// (journaled under the request id it gives every delivery) carries the
/// outcome of the request's row: the call is settled with no step of its
/// own, so the wait's end and the tool's start share one commit. A signal
/// someone else sent under that name only wakes the run: the outcome is
/// read from the row (written only by the human gateway) in a journaled
/// step, which finds the request pending, and the call waits on. So does a
/// run that an earlier build journaled that step for (its replay must
/// meet the same steps).
task<void> take_decision(context& ctx, services_ptr services, gated_call& c,
                         std::string payload) {
  auto check_name = "decision:" + label_of(c);
  if (!payload.empty()
      && !context_access::next_journaled_step_is(ctx, check_name, c.raised.id)) {
    c.outcome = std::move(payload);
    c.settled = true;
    co_return;
  }
  auto read = [services, hash = json_hash(c.arguments)](const std::string& id) {
    return gateway::stored_outcome(*services, id, hash);
  };
  auto check = ctx.step(std::move(check_name), read, c.raised.id);
  auto stored = co_await std::move(check);
  if (stored.empty())
    co_return;
  c.outcome = std::move(stored);
  c.settled = true;
}

/// The call's deadline passed first. The run does not decide alone (a
/// person may be deciding at that moment): a journaled step asks the
/// gateway, which serialises decisions and deadlines, for the outcome a
/// decision reached meanwhile, the expiry's rejection, or a new deadline
/// (escalated; 0: keep waiting without one).
task<void> apply_deadline(context& ctx, services_ptr services, gated_call& c) {
  auto ask = [services](const std::string& id) {
    auto answer = services->deadline_passed(id);
    if (!answer)  // the gateway restarting, a write that failed: ask again
      throw retryable_error(answer.error().to_string());
    return std::move(*answer);
  };
  auto step_name = "deadline:" + label_of(c);
  auto at_deadline = ctx.step(std::move(step_name), ask, c.raised.id);
  auto answer_text = co_await std::move(at_deadline);
  auto answer = gateway::parse_deadline_answer(answer_text);
  if (!answer) {  // unreadable: the call fails closed
    c.settled = true;
    co_return;
  }
  if (answer->outcome) {
    c.outcome = std::move(*answer->outcome);
    c.settled = true;
    co_return;
  }
  c.raised.due_ms = answer->due_ms;
}

/// One round: every call still waiting waits for its decision signal, all
/// at once, until each is woken or the earliest deadline passes; then, in
/// call order, the woken ones read their row and those whose own deadline
/// passed ask the gateway.
task<void> wait_round(context& ctx, services_ptr services, std::vector<gated_call>& calls) {
  auto due = earliest_due(calls);
  auto timeout = left_until(due);
  std::vector<std::size_t> open;
  std::vector<op_awaiter<std::optional<std::string>>> waits;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].settled)
      continue;
    open.push_back(i);
    auto& id = calls[i].raised.id;
    waits.push_back(context_access::wait_signal_from(ctx, gateway::decision_signal(id),
                                                     gateway::delivery_id(id), timeout));
  }
  auto all = ctx.all(std::move(waits));
  auto woken = co_await std::move(all);
  for (std::size_t k = 0; k < open.size(); ++k) {
    auto& c = calls[open[k]];
    try {
      if (woken[k]) {
        auto take = take_decision(ctx, services, c, std::move(*woken[k]));
        co_await std::move(take);
      } else if (c.raised.due_ms > 0 && c.raised.due_ms == due) {
        auto at_deadline = apply_deadline(ctx, services, c);
        co_await std::move(at_deadline);
      }  // else woken by another call's deadline: wait again
    } catch (const step_failed_error&) {
      c.failed = std::current_exception();
      c.settled = true;
    }
  }
}

/// Why a run whose host has no services cannot wait for `c`'s request: a
/// host without them (not a runtime's run) replaying a gate that a
/// runtime's run raised; nobody could deliver the decision.
std::string no_gateway(const std::string& run_id, const gated_call& c) {
  return "run " + run_id + ": tool '" + c.tool + "' waits for a person's decision on request "
         + c.raised.id + ", but the run is executed outside an endure runtime, so no human "
         "gateway can deliver that decision; execute the run in a runtime (runtime::open, "
         "`endure run` or `endure serve`) and decide the request there (runtime::decide, or "
         "`endure approve|reject|answer " + c.raised.id + "`)";
}

} // namespace

::endure::detail::step_services* context_access::services(context& ctx) {
  return ctx.host_->services();
}

op_awaiter<std::optional<std::string>> context_access::wait_signal_from(
  context& ctx, std::string name, std::string sender, std::chrono::milliseconds timeout) {
  auto req = context::signal_request(std::move(name), timeout);
  req.trusted_sender = std::move(sender);
  req.foreign_result = to_bytes(std::string{});
  return op_awaiter<std::optional<std::string>>{*ctx.host_, std::move(req)};
}

bool context_access::next_journaled_step_is(context& ctx, const std::string& name,
                                            const std::string& id) {
  return ctx.host_->next_journaled_step_is(name, context::input_hash(name, id));
}

void context_access::uses_gateway(context& ctx) { ctx.host_->uses_gateway(); }

task<gated_call> pass_gate(context& ctx, std::string name, json args) {
  auto where = "run " + ctx.run_id() + ", tool '" + name + "'";
  const tool& t = registered(ctx, name, where);
  if (auto violations = validate(t.parameters, args); !violations.empty())
    throw fatal_error(where + ": the arguments break the tool's schema: " + describe(violations));
  auto canonical = canonical_or_fail(args, where);
  gated_call out;
  out.tool = name;
  out.arguments = std::move(args);
  out.settled = true;
  auto* services = context_access::services(ctx);
  if (!services)
    co_return out;
  context_access::uses_gateway(ctx);
  // The gate is a step: its answer (and the request it raised) is
  // journaled, so a replay neither asks the policy again nor raises twice.
  // Always a gate step, policy or not, so turning a policy on or off under
  // live runs does not change their step sequence.
  auto raise = [services, name, run = ctx.run_id()](const step_info& info, const std::string& text) {
    return gateway::raised_text(gateway::raise_if_gated(*services, run, name, json::parse(text),
                                                        info.idempotency_key));
  };
  auto gate_name = "gate:" + name;
  auto gate = ctx.step(std::move(gate_name), raise, std::move(canonical));
  std::string gate_text = co_await std::move(gate);
  out.raised = gateway::parse_raised(gate_text);
  out.settled = out.raised.id.empty();
  co_return out;
}

task<gated_call> raise_question(context& ctx, std::string question,
                                std::vector<std::string> choices, std::string about) {
  auto* services = context_access::services(ctx);
  if (!services || !services->store())
    throw fatal_error("run " + ctx.run_id() + ": ask_human needs a runtime");
  context_access::uses_gateway(ctx);
  gated_call out;
  out.tool = "ask_human";
  out.arguments = {{"question", std::move(question)}, {"choices", std::move(choices)},
                   {"context", std::move(about)}};
  auto raise = [services, run = ctx.run_id()](const step_info& info, const std::string& text) {
    return gateway::raised_text(gateway::raise_question(*services, run, json::parse(text),
                                                        info.idempotency_key));
  };
  auto asked_text = out.arguments.dump();
  auto ask = ctx.step("ask_human", raise, std::move(asked_text));
  std::string ask_text = co_await std::move(ask);
  out.raised = gateway::parse_raised(ask_text);
  out.settled = out.raised.id.empty();  // never: a question always raises its row
  co_return out;
}

task<void> await_decisions(context& ctx, std::vector<gated_call>& calls) {
  auto* services = context_access::services(ctx);
  auto first_waiting = [&] {
    return std::find_if(calls.begin(), calls.end(), [](const gated_call& c) { return !c.settled; });
  };
  if (auto c = first_waiting(); c != calls.end() && !services)
    throw fatal_error(no_gateway(ctx.run_id(), *c));
  while (first_waiting() != calls.end()) {
    auto round = wait_round(ctx, services, calls);
    co_await std::move(round);
  }
}

task<decided_call> run_decided(context& ctx, gated_call call) {
  if (call.failed)
    std::rethrow_exception(call.failed);
  auto where = "run " + ctx.run_id() + ", tool '" + call.tool + "'";
  const tool& t = registered(ctx, call.tool, where);
  auto canonical = canonical_or_fail(call.arguments, where);
  if (!call.raised.id.empty()) {
    auto outcome = gateway::parse_outcome(call.outcome);
    if (!outcome)
      co_return decided_call{rejection(call.tool, outcome.error().message, {}),
                             call_fate::rejected};
    switch (outcome->what) {
      case gateway::decision::reject:
        co_return decided_call{rejection(call.tool, outcome->text, outcome->principals),
                               call_fate::rejected};
      case gateway::decision::respond:
        co_return decided_call{json{{"response", outcome->text}, {"by", outcome->principals}},
                               call_fate::responded};
      case gateway::decision::edit:
        // Checked against the tool's schema by the gateway when decided
        // (not again here: a replay must not depend on today's schema);
        // run only what the decision's hash binds.
        if (json_hash(outcome->edited_arguments) != outcome->edited_hash)
          co_return decided_call{rejection(call.tool,
                                           "the edited arguments do not match their hash",
                                           outcome->principals),
                                 call_fate::rejected};
        canonical = canonical_or_fail(outcome->edited_arguments, where);
        break;
      case gateway::decision::approve:
        break;  // exactly the arguments the request bound by their hash
    }
  }
  auto run = [target = &t](const step_info& info, const std::string& text) {
    return result_text(target->function(info, json::parse(text)));
  };
  retry_policy policy;
  if (t.irreversible)  // a retried attempt could repeat an effect that took
    policy.max_attempts = 1;
  auto step_name = "tool:" + call.tool;
  auto step = ctx.step(std::move(step_name), run, std::move(canonical)).retry(policy);
  auto text = co_await std::move(step);
  co_return decided_call{json::parse(text), call_fate::ran};
}

expected<std::string> answer_of(const gated_call& question) {
  if (question.failed)
    std::rethrow_exception(question.failed);
  auto outcome = gateway::parse_outcome(question.outcome);
  if (!outcome)
    return make_error(errc::corrupt_record, "the answer to request " + question.raised.id
                                              + " cannot be read: " + outcome.error().message);
  return std::move(outcome->text);
}

} // namespace endure::agent::detail
