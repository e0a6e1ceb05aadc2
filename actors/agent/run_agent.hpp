// run_agent: the tool-calling loop as a function a workflow awaits.
//
//   auto answer = co_await endure::agent::run_agent(ctx, spec, "Write about durable agents");
//
// Each turn is one durable ctx.llm step (the tools' schemas offered); the
// tool calls the model makes in it go through the phases of ctx.tool (one
// durable step each): first every call's policy gate, in call order, so
// several gated calls of one turn are each in a person's inbox at once;
// then the wait until every request of the turn is decided (none runs
// before); then the calls, in call order, and all results back to the
// model, until it answers without calling a tool or max_turns is reached.
// The built-in ask_human tool (ask_human_tool.hpp), when spec.tools names
// it, asks a person through ctx.ask_human in the same phases. A kill -9 in
// the middle of a turn replays what was done and sends and raises nothing
// again. What a model gets wrong (a tool not offered, arguments that are
// not JSON or break the schema) goes back to it as a structured tool error
// it can correct, and is counted; a tool that fails after its retries goes
// back as {"error": "tool_failed", ...}.
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

/// The escalation matrix in the loop (stage 4 of durable autonomy; needs
/// runtime_options::escalation). Before each tool call and before the final
/// answer is accepted, the runtime's escalation actor scores the proposal
/// (task type TYPE/tool:NAME or TYPE/answer, the agent's input, the
/// model's confidence and text) in a journaled step. On escalate a person
/// is asked (ctx.ask_human, the breakdown in the question): a tool call is
/// approved or rejected (rejected: the model reads {"error": "rejected",
/// ...} and the tool does not run); a final answer is accepted ("accept")
/// or replaced by the person's reply. Their answer goes back to the actor as
/// the outcome it learns from (changed 0 or 1). Calls the policy gate asks
/// a person about anyway are not scored; ask_human calls neither.
struct escalation_spec {
  std::string task_type;    ///< e.g. "support/refund"; "/" nests types
  std::size_t samples = 3;  ///< samples of the turn drawn in the grey zone (< 2: none)
  /// Embed inputs with the runtime's model (`/v1/embeddings`, a journaled
  /// step) instead of the built-in hashed n-grams; its width must be the
  /// matrix's novelty.dim. Default: false.
  bool model_embeddings = false;
};

struct agent_spec {
  /// Prefix of the agent's step names ("NAME/turn 3"); distinct per agent
  /// in one workflow. Default: "agent".
  std::string name = "agent";
  /// The system message. Default: none.
  std::string system_prompt;
  /// Names of the runtime's tools offered to the model, in this order;
  /// empty = all of them, sorted by name. The built-in "ask_human"
  /// (ask_human_tool.hpp) is offered only when named here. A name that is
  /// neither registered nor built in fails the run (fatal, naming it). A
  /// call of a tool not offered is refused back to the model as
  /// unknown_tool.
  std::vector<std::string> tools;
  /// Model calls at most; reaching it fails the run (fatal), naming the run
  /// and the last tool called. Default: 10.
  std::uint32_t max_turns = 10;
  /// Model settings for every turn (model, temperature, max_tokens, seed,
  /// timeout); its messages and tools are replaced. Confidence is always
  /// requested.
  net::chat_request settings;
  /// Score proposals with the escalation matrix. Default: none.
  std::optional<escalation_spec> escalation;
  /// Most prompt tokens a turn may send (estimated as the sim and the
  /// context assembler do: characters / 4, messages and tool schemas).
  /// A turn that would send more is not sent: the loop returns with
  /// agent_answer::out_of_context set, and the caller starts afresh from
  /// its state (run_long_task ends the session). 0: no budget. Default: 0.
  std::size_t context_budget_tokens = 0;
};

struct agent_answer {
  std::string text;                  ///< the final answer
  std::optional<double> confidence;  ///< the model's, on its final turn
  std::uint32_t turns = 0;           ///< model calls
  std::uint32_t tool_calls = 0;      ///< tool calls that ran
  std::uint32_t tool_errors = 0;     ///< calls refused back to the model or failed
  std::vector<std::string> tools_called;  ///< in order, one entry per call that ran
  std::uint32_t rejected = 0;        ///< gated calls a person rejected (they did not run)
  /// ask_human calls a person answered (not counted in tool_calls). An
  /// answer journaled before this field existed reads as 0.
  std::uint32_t questions = 0;
  /// Gated calls a person answered in the tool's place (the `respond`
  /// decision: the text is the call's result, the tool did not run; not in
  /// tool_calls nor tools_called). An answer journaled before this field
  /// existed reads as 0 (its responses were counted in tool_calls then).
  std::uint32_t responded = 0;
  /// Proposals the escalation matrix sent to a person (agent_spec::escalation),
  /// and of them those the person changed (rejected the call, rewrote the
  /// answer). Not counted in questions. 0 in answers journaled before.
  std::uint32_t escalated = 0;
  std::uint32_t corrected = 0;
  /// The loop stopped before a final answer because the next turn would
  /// have exceeded agent_spec::context_budget_tokens (text is then the last
  /// note the model wrote beside its tool calls). False in older answers.
  bool out_of_context = false;
  /// The estimated prompt tokens of the last turn sent (or refused).
  std::uint64_t context_tokens = 0;

  MSGPACK_DEFINE_MAP(text, confidence, turns, tool_calls, tool_errors, tools_called, rejected,
                     questions, responded, escalated, corrected, out_of_context, context_tokens);
};

/// Runs the loop in `ctx`'s run. Needs runtime_options::llm and ::tools.
task<agent_answer> run_agent(context& ctx, agent_spec spec, std::string input);

/// The tools run_agent offers the model for `spec`, as every turn sends
/// them (for a caller that budgets a prompt before the loop starts, as
/// run_long_task does). Throws fatal_error, as run_agent does, for no tools
/// configured or a name neither registered nor built in.
std::vector<net::tool_definition> offered_tools(const context& ctx, const agent_spec& spec);

} // namespace endure::agent
