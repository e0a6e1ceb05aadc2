// run_agent: the tool-calling loop as a function a workflow awaits.
//
//   auto answer = co_await endure::agent::run_agent(ctx, spec, "Write about durable agents");
//
// Each turn is one durable ctx.llm step (the tools' schemas offered), each
// tool call the model makes goes through ctx.tool (one durable step each),
// and the results go back to the model, until it answers without calling a
// tool or max_turns is reached. A kill -9 in the middle of a turn replays
// what was done and sends nothing again. What a model gets wrong (an
// unknown tool, arguments that are not JSON or break the schema) goes back
// to it as a structured tool error it can correct, and is counted; a tool
// that fails after its retries goes back as {"error": "tool_failed", ...}.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <msgpack.hpp>

#include "endure/actors/context.hpp"
#include "endure/actors/task.hpp"
#include "endure/net/chat_types.hpp"

namespace endure::agent {

struct agent_spec {
  /// Prefix of the agent's step names ("NAME/turn 3"); distinct per agent
  /// in one workflow. Default: "agent".
  std::string name = "agent";
  /// The system message. Default: none.
  std::string system_prompt;
  /// Names of the runtime's tools offered to the model; empty = all of them.
  std::vector<std::string> tools;
  /// Model calls at most; reaching it fails the run (fatal), naming the run
  /// and the last tool called. Default: 10.
  std::uint32_t max_turns = 10;
  /// Model settings for every turn (model, temperature, max_tokens, seed,
  /// timeout); its messages and tools are replaced. Confidence is always
  /// requested.
  net::chat_request settings;
};

struct agent_answer {
  std::string text;                  ///< the final answer
  std::optional<double> confidence;  ///< the model's, on its final turn
  std::uint32_t turns = 0;           ///< model calls
  std::uint32_t tool_calls = 0;      ///< tool calls that ran
  std::uint32_t tool_errors = 0;     ///< calls refused back to the model or failed
  std::vector<std::string> tools_called;  ///< in order, one entry per call that ran
  std::uint32_t rejected = 0;        ///< gated calls a person rejected (they did not run)

  MSGPACK_DEFINE_MAP(text, confidence, turns, tool_calls, tool_errors, tools_called, rejected);
};

/// Runs the loop in `ctx`'s run. Needs runtime_options::llm and ::tools.
task<agent_answer> run_agent(context& ctx, agent_spec spec, std::string input);

} // namespace endure::agent
