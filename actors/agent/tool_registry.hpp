// The tools an agent may call, by name: what a chat request offers the model
// (to_definitions) and the gate every tool call the model makes passes
// before it runs (prepare_call). A call that cannot run becomes a tool_error
// the model can correct, never an exception. Build the registry first, then
// share it: the const members are safe from any number of threads, add() is
// not safe alongside anything.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "endure/actors/agent/json_schema.hpp"
#include "endure/actors/agent/tool.hpp"
#include "endure/actors/agent/tool_error.hpp"
#include "endure/net/chat_types.hpp"
#include "endure/persistence/error.hpp"

namespace endure::agent {

/// Bounds on what prepare_call accepts from a model.
struct call_limits {
  /// Longest arguments text parsed, in bytes. Default: 1 MiB.
  std::size_t max_argument_bytes = std::size_t{1} << 20;
  /// Deepest nesting of arrays and objects in the arguments, checked before
  /// parsing so a hostile text cannot exhaust the stack. Default: 64.
  std::size_t max_argument_depth = max_schema_depth;
  /// Violations listed in one tool_error. Default: 20.
  std::size_t max_listed_violations = 20;
};

/// A tool call ready to run.
struct prepared_call {
  /// The registry's tool; valid as long as the registry.
  const tool* target = nullptr;
  /// A JSON object that satisfies target->parameters.
  nlohmann::json arguments;

  /// Runs target->function on the arguments; throws what the tool throws.
  nlohmann::json invoke(const step_info& step) const { return target->function(step, arguments); }
};

/// A call ready to run, or the error to answer the model with.
using call_preparation = basic_expected<prepared_call, tool_error>;

class tool_registry {
public:
  explicit tool_registry(call_limits limits = {}) : limits_(limits) {}

  /// Registers `t`. Errors (the message names the tool and what to fix):
  /// errc::already_exists for a name taken; errc::invalid_argument for a
  /// name outside [a-zA-Z0-9_-]{1,64} or reserved ("ask_human", the
  /// built-in tool: ask_human_tool.hpp), a description that is not UTF-8, no
  /// function, parameters that are not an object schema ("type": "object")
  /// or that check_schema refuses.
  expected<void> add(tool t);

  /// The tool named `name`, or nullptr. The pointer stays valid as long as
  /// the registry, across later add() calls.
  const tool* find(std::string_view name) const;

  /// Every tool, sorted by name.
  std::vector<const tool*> list() const;

  /// Every tool as a chat request offers it, sorted by name: the order does
  /// not depend on the order of add() calls, so neither does the request
  /// (nor the hash a replay checks it by).
  std::vector<net::tool_definition> to_definitions() const;

  /// Resolves the model's call to a registered tool and its arguments
  /// parsed and validated; otherwise the tool_error to send back: an
  /// unknown name, arguments text that is not JSON, too long or too deep,
  /// not an object, or that breaks the schema. Empty or all-whitespace
  /// arguments text counts as {} (some servers send it for tools without
  /// parameters). Never throws except bad_alloc.
  call_preparation prepare_call(const net::tool_call& call) const;

  /// The checks of prepare_call after the name, for the tool `t` (which
  /// need not be registered: the built-in ask_human is checked this way):
  /// `arguments_json` parsed within the limits and validated against
  /// t.parameters. The prepared call points at `t`.
  call_preparation prepare_arguments(const tool& t, std::string_view arguments_json) const;

  const call_limits& limits() const noexcept { return limits_; }

private:
  call_limits limits_;
  std::map<std::string, tool, std::less<>> tools_;
};

} // namespace endure::agent
