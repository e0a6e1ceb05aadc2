// What a conversation says about the tools it called: for each tool, in
// the order first called, its calls and how each ended (a result, a
// structured error worth a retry, another error, a rejection, or no result
// yet), and the results in conversation order. The sim's plan
// (sim_turn.cpp) decides from it. Pure; any thread; internal to the sim.
#pragma once

#include "endure/net/chat_types.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace endure::net::detail {

/// How a tool call ended, as its result says.
enum class outcome : std::uint8_t {
  pending,  ///< no result in the conversation
  ok,       ///< anything but a structured error
  retry,    ///< {"error": "invalid_arguments" | "unknown_tool"}: one corrected retry
  failed,   ///< another structured error: go on without the tool
  rejected, ///< {"error": "rejected"}: never call it again, and say so
};

struct call_state {
  outcome result = outcome::pending;
  /// The result text (ok), the error code (retry, failed) or the reason
  /// (rejected, at most 160 bytes).
  std::string detail;
};

/// What the conversation says about one tool.
struct tool_record {
  std::string name;
  std::vector<call_state> calls; ///< never empty
};

struct history {
  std::vector<tool_record> tools; ///< in first-call order
  std::unordered_set<std::string> ids; ///< every call id used so far
  /// The text of every result that is not a structured error, in the
  /// order the conversation gives them: what later calls may pass along.
  std::vector<std::string> results;

  const tool_record* find(std::string_view name) const;
  std::size_t calls_of(std::string_view name) const;
};

/// How a tool's result `content` ends its call. A JSON object with an
/// "error" that is not null or false is a structured error; its code is
/// the "error" string, or the error object's "code" or "type".
call_state read_tool_result(const std::string& content);

/// The calls of the assistant messages and the results of the tool
/// messages that answer them (a result quoting no call is ignored).
history read_history(const chat_request& request);

} // namespace endure::net::detail
