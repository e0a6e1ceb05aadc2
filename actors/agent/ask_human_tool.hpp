// ask_human as a tool the model calls (layer 2 of durable autonomy): the
// model asks a person a question, optionally with the choices it may pick
// from and the context the person needs, and reads the answer as the tool's
// result. run_agent offers it when agent_spec::tools names it; a valid call
// runs ctx.ask_human (the run waits durably, passivated) and the model
// reads {"answer": TEXT}. The name is reserved: tool_registry::add refuses
// a tool of its own called "ask_human". Value types; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "endure/actors/agent/tool.hpp"

namespace endure::agent {

/// The built-in tool's name.
inline constexpr std::string_view ask_human_tool = "ask_human";

/// The tool as the model is offered it: its name, when to use it, and its
/// parameters schema
///   {"question": string of 1 to 2000 code points (required),
///    "choices": at most 20 strings of at most 200 code points (optional),
///    "context": string of at most 4000 code points (optional)},
///   additionalProperties false. A call beyond a limit goes back to the
///   model as invalid_arguments; nobody is asked.
/// It has no function: its calls are run by run_agent through
/// ctx.ask_human, never by tool::function.
const tool& ask_human_definition();

/// What a call asks: its arguments, once they passed the schema.
struct human_question {
  std::string question;
  std::vector<std::string> choices;  ///< empty: any answer
  std::string context;
};

/// The question in `arguments` (which passed ask_human_definition()'s
/// schema; a missing choices or context is empty).
human_question question_of(const nlohmann::json& arguments);

/// The tool result the model reads for `answer`: {"answer": answer}.
nlohmann::json answer_result(const std::string& answer);

} // namespace endure::agent
