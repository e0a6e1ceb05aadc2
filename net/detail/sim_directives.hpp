// Steering the sim from the prompt: `[sim: ...]` directives in system and
// user messages script what the sim model does (which tools, in which
// order, bad arguments, an unknown tool, parallel calls, a fixed
// confidence), so tests and demos need no server script. The grammar is in
// net/README.md ("Steering the sim from the prompt"). Parsing is total:
// anything it does not understand is ignored, never an error. Pure; any
// thread; internal to the sim.
#pragma once

#include "endure/net/chat_types.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace endure::net::detail {

struct sim_directives {
  /// `call a, b, c`: exactly these tools, in this order (the last such
  /// directive wins). Default: none (the tools in the order offered).
  std::optional<std::vector<std::string>> call;
  /// `no tools`: answer without calling any tool.
  bool no_tools = false;
  /// `bad_args a, b`: the first call of each gets arguments that fail the
  /// tool's schema (accumulates over directives).
  std::vector<std::string> bad_args;
  /// `unknown_tool`: the first tool-calling turn calls a tool not offered.
  bool unknown_tool = false;
  /// `parallel N` (N >= 1): up to N tool calls in one assistant message.
  std::optional<std::size_t> parallel;
  /// `confidence X` (X in [0,1]): the confidence of every turn.
  std::optional<double> confidence;
};

/// Reads every `[sim: ...]` block of `text`, applying them over `into`
/// (later blocks override earlier scalars).
void read_sim_directives(std::string_view text, sim_directives& into);

/// The directives of a conversation: its system and user messages, in
/// order. Tool results and assistant text never steer the sim.
sim_directives sim_directives_of(const chat_request& request);

/// `text` without its `[sim: ...]` blocks, so they do not feed the sim's
/// keywords.
std::string strip_sim_directives(std::string_view text);

} // namespace endure::net::detail
