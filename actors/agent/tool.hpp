// A tool the model may call: its name, description and argument schema (what
// the model sees), the function that runs it, and whether its effect can be
// undone (what the policy gate reads). Value types; a tool_function runs on
// whichever thread executes the step.
#pragma once

#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include "endure/actors/step_info.hpp"

namespace endure::agent {

/// Runs a tool on arguments that passed its schema and returns the result
/// the model reads. Built from either `json(const json& args)` or, for a
/// tool that needs the attempt's idempotency key,
/// `json(const endure::step_info&, const json& args)`. It may throw, as any
/// step may: endure::fatal_error is never retried, anything else is retried
/// per the step's retry policy.
class tool_function {
public:
  using json = nlohmann::json;

  tool_function() = default;

  template <class F>
    requires std::is_invocable_r_v<json, F&, const step_info&, const json&>
  tool_function(F f) : fn_(std::move(f)) {}

  template <class F>
    requires(!std::is_invocable_r_v<json, F&, const step_info&, const json&> &&
             std::is_invocable_r_v<json, F&, const json&>)
  tool_function(F f)
    : fn_([f = std::move(f)](const step_info&, const json& args) mutable { return f(args); }) {}

  /// Precondition: *this holds a function.
  json operator()(const step_info& step, const json& args) const { return fn_(step, args); }

  explicit operator bool() const noexcept { return static_cast<bool>(fn_); }

private:
  std::function<json(const step_info&, const json&)> fn_;
};

struct tool {
  /// [a-zA-Z0-9_-]{1,64} (OpenAI's rule for function names), unique within
  /// a registry.
  std::string name;
  /// What the tool does and when to use it; the model reads it. UTF-8.
  /// Default: empty.
  std::string description;
  /// JSON Schema of the arguments: "type": "object" at the root, keywords
  /// from the subset json_schema.hpp supports. Default: an object with no
  /// properties.
  nlohmann::json parameters = {{"type", "object"}, {"properties", nlohmann::json::object()}};
  /// Runs the tool. Required.
  tool_function function;
  /// The effect cannot be undone (money sent, mail delivered): the policy
  /// gate may hold such a call for a person. Default: false.
  bool irreversible = false;
};

} // namespace endure::agent
