// What the model is told when its tool call cannot run: a structured error
// it can act on (which tool names exist, which argument broke which rule, the
// schema to follow), sent back as the call's result instead of failing the
// run. Value type; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "endure/actors/agent/json_schema.hpp"

namespace endure::agent {

enum class tool_error_kind : std::uint8_t {
  /// No tool of that name is registered.
  unknown_tool,
  /// The arguments text does not parse as JSON.
  invalid_json,
  /// The arguments are JSON but break the tool's schema (not an object,
  /// wrong types, missing or extra properties), or exceed the call limits.
  invalid_arguments,
};

/// "unknown_tool", "invalid_json", "invalid_arguments".
std::string_view to_string(tool_error_kind kind) noexcept;

struct tool_error {
  tool_error_kind kind = tool_error_kind::invalid_arguments;
  /// The tool name as the model wrote it (UTF-8 repaired, shortened).
  std::string tool;
  /// One sentence: what is wrong and what to do.
  std::string message;
  /// invalid_arguments: the violations listed (at most
  /// call_limits::max_listed_violations; the message counts all).
  std::vector<schema_violation> violations;
  /// unknown_tool: the names the model may call, sorted.
  std::vector<std::string> available_tools;
  /// invalid_json, invalid_arguments: the tool's parameters schema, so the
  /// model can rewrite the call. Null otherwise.
  nlohmann::json parameters;

  /// {"error": kind, "tool", "message", "violations": [{"path", "message"}],
  /// plus "available_tools" or "parameters" where set}: the tool result to
  /// send back. Every string is valid UTF-8, so dump() does not throw.
  nlohmann::json to_json() const;
};

/// The error for a call of a tool that is not offered: `name` as the model
/// wrote it (shortened, UTF-8 repaired) and the names it may call instead,
/// in the order given.
tool_error unknown_tool_error(std::string_view name, std::vector<std::string> available);

} // namespace endure::agent
