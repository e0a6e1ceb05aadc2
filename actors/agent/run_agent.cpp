// The tool-calling loop: model turn -> tool calls -> results -> model turn.
// A turn's calls go through the phases of detail/tool_phases.hpp together:
// every gate first, then one wait for every decision, then every run, so a
// person sees all the turn's gated calls at once and none runs before all
// are decided (fail closed: a call whose decision cannot be read is
// rejected).
#include "endure/actors/agent/run_agent.hpp"

#include <algorithm>
#include <optional>

#include "endure/actors/agent/ask_human_tool.hpp"
#include "endure/actors/agent/detail/agent_escalation.hpp"
#include "endure/actors/agent/detail/tool_phases.hpp"
#include "endure/actors/agent/tool_call.hpp"
#include "endure/actors/workflow_errors.hpp"
#include "endure/net/token_estimate.hpp"
#include "endure/persistence/failure.hpp"

namespace endure::agent {

namespace {

using json = nlohmann::json;

bool named(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

/// What the model is offered: every registered tool sorted by name when
/// spec.tools names none (so the request does not depend on the order of
/// add() calls), else the tools it names in its order (ask_human is the
/// built-in one). A name neither registered nor built in is a mistake in the
/// workflow: the run fails naming it, rather than the model never seeing a
/// tool its author meant to give it.
struct offered_set {
  std::vector<net::tool_definition> definitions;
  std::vector<std::string> names;

  bool has(std::string_view name) const { return named(names, name); }
};

offered_set offered(const context& ctx, const agent_spec& spec, const tool_registry& registry) {
  offered_set out;
  if (spec.tools.empty()) {
    out.definitions = registry.to_definitions();
  } else {
    for (auto& name : spec.tools) {
      if (named(out.names, name))
        continue;
      const tool* t = name == ask_human_tool ? &ask_human_definition() : registry.find(name);
      if (!t)
        throw fatal_error("run " + ctx.run_id() + ", agent '" + spec.name + "': tool '" + name
                          + "' in agent_spec::tools is not registered (runtime_options::tools)");
      out.definitions.push_back({t->name, t->description, t->parameters.dump()});
      out.names.push_back(name);
    }
  }
  out.names.clear();
  for (auto& d : out.definitions)
    out.names.push_back(d.name);
  return out;
}

json tool_failed(const std::string& tool, const std::string& message) {
  return {{"error", "tool_failed"}, {"tool", tool}, {"message", message}};
}

/// One call of a turn on its way through the phases: either its result is
/// known already (an error to send back), or it waits in `gated`.
struct turn_call {
  net::tool_call call;
  std::optional<json> result;
  bool question = false;
};

/// Phase 1, in call order: each call checked against what was offered and
/// its schema, then its gate (or question) step. `gated` gets one entry per
/// call (settled at once for those with a result).
task<void> gate_all(context& ctx, const tool_registry& registry, const offered_set& offer,
                    const detail::turn_view& view, std::vector<turn_call>& calls,
                    std::vector<detail::gated_call>& gated, agent_answer& answer,
                    std::string& last_tool) {
  for (auto& c : calls) {
    gated.emplace_back().settled = true;
    c.question = c.call.name == ask_human_tool;
    auto prepared = !offer.has(c.call.name)
                      ? call_preparation{unknown_tool_error(c.call.name, offer.names)}
                    : c.question ? registry.prepare_arguments(ask_human_definition(),
                                                              c.call.arguments_json)
                                 : registry.prepare_call(c.call);
    if (!prepared) {
      ++answer.tool_errors;
      c.result = prepared.error().to_json();
      continue;
    }
    last_tool = c.call.name;
    try {
      if (c.question) {
        auto q = question_of(prepared->arguments);
        auto ask = detail::raise_question(ctx, std::move(q.question), std::move(q.choices),
                                          std::move(q.context));
        gated.back() = co_await std::move(ask);
      } else {
        auto gate = detail::pass_gate(ctx, c.call.name, prepared->arguments);
        gated.back() = co_await std::move(gate);
        // The matrix scores the call unless the gate put it before a person
        // anyway (asking twice about one call helps nobody). Read from the
        // journaled gate step, not the policy: a policy turned on or off
        // under a live run must not change its step sequence.
        if (view.spec->escalation && gated.back().raised.id.empty()) {
          json rejection;
          auto check = detail::check_tool_call(ctx, view, c.call.name, prepared->arguments,
                                               prepared->target->irreversible, answer, rejection);
          if (!co_await std::move(check)) {
            ++answer.rejected;
            c.result = std::move(rejection);
            continue;
          }
        }
      }
    } catch (const step_failed_error& e) {
      ++answer.tool_errors;
      c.result = tool_failed(c.call.name, e.what());
    }
  }
}

/// Phase 3 for one call whose decision (if any) is in: its result.
task<json> finish(context& ctx, turn_call& c, detail::gated_call gated, agent_answer& answer) {
  try {
    if (c.question) {
      auto text = detail::answer_of(gated);
      if (!text) {
        ++answer.tool_errors;
        co_return tool_failed(c.call.name, text.error().message);
      }
      ++answer.questions;
      co_return answer_result(*text);
    }
    auto run = detail::run_decided(ctx, std::move(gated));
    auto decided = co_await std::move(run);
    switch (decided.fate) {
      case detail::call_fate::rejected:  // a person said no: the tool did not run
        ++answer.rejected;
        break;
      case detail::call_fate::responded:  // a person's text in its place: it did not run
        ++answer.responded;
        break;
      case detail::call_fate::ran:
        ++answer.tool_calls;
        answer.tools_called.push_back(c.call.name);
        break;
    }
    co_return std::move(decided.result);
  } catch (const step_failed_error& e) {
    ++answer.tool_errors;
    co_return tool_failed(c.call.name, e.what());
  }
}

/// A model turn's calls through the three phases; their results in call order.
task<std::vector<json>> run_calls(context& ctx, const tool_registry& registry, const offered_set& offer,
                                  const detail::turn_view& view,
                                  std::vector<net::tool_call> tool_calls, agent_answer& answer,
                                  std::string& last_tool) {
  std::vector<turn_call> calls;
  for (auto& call : tool_calls)
    calls.push_back({std::move(call), std::nullopt, false});
  std::vector<detail::gated_call> gated;
  auto gates = gate_all(ctx, registry, offer, view, calls, gated, answer, last_tool);
  co_await std::move(gates);
  auto decided = detail::await_decisions(ctx, gated);
  co_await std::move(decided);
  std::vector<json> results;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].result) {
      results.push_back(std::move(*calls[i].result));
      continue;
    }
    auto done = finish(ctx, calls[i], std::move(gated[i]), answer);
    auto result = co_await std::move(done);
    results.push_back(std::move(result));
  }
  co_return results;
}

const tool_registry& registry_of(const context& ctx, const agent_spec& spec) {
  const tool_registry* registry = ctx.tools();
  if (!registry)
    throw fatal_error("run " + ctx.run_id() + ", agent '" + spec.name
                      + "': no tools are configured (runtime_options::tools)");
  return *registry;
}

} // namespace

std::vector<net::tool_definition> offered_tools(const context& ctx, const agent_spec& spec) {
  return offered(ctx, spec, registry_of(ctx, spec)).definitions;
}

task<agent_answer> run_agent(context& ctx, agent_spec spec, std::string input) {
  const tool_registry* registry = &registry_of(ctx, spec);
  std::vector<net::chat_message> messages;
  if (!spec.system_prompt.empty())
    messages.push_back(net::chat_message::system(spec.system_prompt));
  messages.push_back(net::chat_message::user(input));
  auto tools = offered(ctx, spec, *registry);
  agent_answer answer;
  std::string last_tool = "none";
  while (answer.turns < spec.max_turns) {
    net::chat_request request = spec.settings;
    request.messages = messages;
    request.tools = tools.definitions;
    request.request_confidence = true;
    answer.context_tokens = net::estimate_prompt_tokens(request);
    if (spec.context_budget_tokens > 0 && answer.context_tokens > spec.context_budget_tokens) {
      // Deterministic (a function of the journaled conversation), so a
      // replay stops at the same turn.
      answer.out_of_context = true;
      co_return answer;
    }
    ++answer.turns;
    auto step_name = spec.name + "/turn " + std::to_string(answer.turns);
    auto turn = ctx.llm(std::move(step_name), request);
    net::chat_response reply = co_await std::move(turn);
    answer.confidence = reply.confidence;
    detail::turn_view view{&spec, &input, &request, &reply, answer.turns};
    if (reply.tool_calls.empty()) {
      if (!spec.escalation) {
        answer.text = std::move(reply.content);
        co_return answer;
      }
      auto check = detail::check_final_answer(ctx, view, answer);
      answer.text = co_await std::move(check);
      co_return answer;
    }
    answer.text = reply.content;
    net::chat_message said = net::chat_message::assistant(reply.content);
    said.tool_calls = reply.tool_calls;
    messages.push_back(std::move(said));
    auto calls = run_calls(ctx, *registry, tools, view, reply.tool_calls, answer, last_tool);
    auto results = co_await std::move(calls);
    for (std::size_t i = 0; i < results.size(); ++i)
      messages.push_back(net::chat_message::tool_result(
        reply.tool_calls[i].id,
        results[i].dump(-1, ' ', false, json::error_handler_t::replace)));
  }
  throw fatal_error("run " + ctx.run_id() + ", agent '" + spec.name + "': no final answer within "
                    + std::to_string(spec.max_turns) + " turns (max_turns); last tool called: "
                    + last_tool);
}

} // namespace endure::agent
