// run_agent's use of the escalation matrix (agent_spec::escalation): the
// proposal made of a tool call or a final answer, the assessing step, the
// question a person gets when the matrix escalates, and the outcome sent
// back. Steps, for proposal LABEL ("NAME/turn T/tool:TOOL" or
// "NAME/turn T/answer"):
//
//   escalate:LABEL [/sample I, /with samples]   the matrix's answer
//   ask_human, decision:ask_human               only when it escalated
//   outcome:LABEL                               what the person did
//
// A tool call is checked after its gate:TOOL step, and only when that step
// raised no request (run_agent decides from the journaled gate, so a policy
// changed under a live run does not change its steps).
//
// Internal: run actor's thread only.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "endure/actors/agent/run_agent.hpp"
#include "endure/actors/context.hpp"
#include "endure/actors/task.hpp"
#include "endure/net/chat_types.hpp"

namespace endure::agent::detail {

/// One model turn as the matrix sees it.
struct turn_view {
  const agent_spec* spec = nullptr;
  const std::string* input = nullptr;         ///< the agent's input
  const net::chat_request* request = nullptr; ///< the turn's prompt (for samples)
  const net::chat_response* reply = nullptr;  ///< what the model said
  std::uint32_t turn = 0;
};

/// Whether the call may go on to its gate: true unless the matrix escalated
/// and the person rejected it (then `rejection` is what the model reads).
task<bool> check_tool_call(context& ctx, turn_view view, const std::string& tool,
                           const nlohmann::json& arguments, bool irreversible,
                           agent_answer& answer, nlohmann::json& rejection);

/// The final answer the agent returns: the model's, or the person's
/// correction when the matrix escalated and they replied with one.
task<std::string> check_final_answer(context& ctx, turn_view view, agent_answer& answer);

} // namespace endure::agent::detail
