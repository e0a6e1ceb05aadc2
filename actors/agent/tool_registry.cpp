// The registry's two gates: add() refuses a tool the model could not call
// correctly or whose schema would not be enforced; prepare_call() refuses a
// call that does not fit its tool, with an answer the model can act on.
#include "endure/actors/agent/tool_registry.hpp"

#include "endure/actors/agent/ask_human_tool.hpp"
#include "endure/actors/agent/canonical_json.hpp"

#include <algorithm>

#include "endure/actors/agent/detail/schema_support.hpp"

namespace endure::agent {

namespace {

using nlohmann::json;

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64)
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
  });
}

/// True if `value` dumps as JSON, i.e. all its strings are UTF-8: a tool
/// that could not be sent in a chat request is refused when added.
bool serialisable(const json& value) {
  try {
    (void)value.dump();
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

/// Whether the arguments text nests arrays/objects deeper than `limit`,
/// counting brackets outside strings. Exact for JSON; for other text it
/// agrees with the parser up to the point where the parser gives up.
bool nests_deeper_than(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit)
        return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

bool blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}


tool_error argument_error(const tool& t, std::string message) {
  return {tool_error_kind::invalid_arguments, t.name, std::move(message), {}, {}, t.parameters};
}

} // namespace

expected<void> tool_registry::add(tool t) {
  auto refuse = [&](errc code, std::string why) {
    return make_error(code, "tool '" + detail::excerpt(t.name, 80) + "': " + std::move(why));
  };
  if (!valid_name(t.name))
    return refuse(errc::invalid_argument, "the name must be 1 to 64 of a-z, A-Z, 0-9, '_' and "
                                          "'-' (OpenAI's rule for function names)");
  if (t.name == ask_human_tool)
    return refuse(errc::invalid_argument, "the name is reserved for the built-in tool that asks "
                                          "a person (name \"ask_human\" in agent_spec::tools to "
                                          "offer it); choose another name");
  if (tools_.count(t.name))
    return refuse(errc::already_exists, "a tool of this name is already registered; choose "
                                        "another name");
  if (!t.function)
    return refuse(errc::invalid_argument, "no function to run it");
  if (!serialisable(json(t.description)) || !serialisable(t.parameters))
    return refuse(errc::invalid_argument, "its description or parameters hold text that is "
                                          "not valid UTF-8");
  const json* type = t.parameters.is_object() && t.parameters.contains("type")
                       ? &t.parameters["type"] : nullptr;
  if (!type || *type != "object")
    return refuse(errc::invalid_argument, "parameters must be an object schema: "
                                          "{\"type\": \"object\", \"properties\": {...}}");
  if (auto checked = check_schema(t.parameters); !checked)
    return refuse(errc::invalid_argument, "parameters: " + checked.error().message);
  auto name = t.name;
  tools_.emplace(std::move(name), std::move(t));
  return {};
}

const tool* tool_registry::find(std::string_view name) const {
  auto it = tools_.find(name);
  return it == tools_.end() ? nullptr : &it->second;
}

std::vector<const tool*> tool_registry::list() const {
  std::vector<const tool*> out;
  for (const auto& [_, t] : tools_)
    out.push_back(&t);
  return out;
}

std::vector<net::tool_definition> tool_registry::to_definitions() const {
  std::vector<net::tool_definition> out;
  for (const auto& [_, t] : tools_)
    out.push_back({t.name, t.description, t.parameters.dump()});
  return out;
}

call_preparation tool_registry::prepare_call(const net::tool_call& call) const {
  const tool* t = find(call.name);
  if (!t) {
    std::vector<std::string> names;
    for (const auto& [name, _] : tools_)
      names.push_back(name);
    return unknown_tool_error(call.name, std::move(names));
  }
  return prepare_arguments(*t, call.arguments_json);
}

call_preparation tool_registry::prepare_arguments(const tool& t, std::string_view text) const {
  if (text.size() > limits_.max_argument_bytes)
    return argument_error(t, "the arguments are " + std::to_string(text.size()) +
                                " bytes; the limit is " + std::to_string(limits_.max_argument_bytes));
  if (nests_deeper_than(text, limits_.max_argument_depth))
    return argument_error(t, "the arguments nest deeper than " +
                                std::to_string(limits_.max_argument_depth) + " levels; flatten them");
  json args = json::object();
  if (!blank(text)) {
    // Strict: a duplicate key would make the value checked here (the last)
    // differ from the one a reviewer reads first.
    auto parsed = parse_json_strict(text, limits_.max_argument_depth + 1);
    if (!parsed)
      return tool_error{tool_error_kind::invalid_json, t.name,
                        "the arguments are not valid JSON: " + detail::excerpt(parsed.error().message, 300) +
                          ". Send one JSON object that follows the parameters schema",
                        {}, {}, t.parameters};
    args = std::move(*parsed);
  }
  if (!args.is_object())
    return argument_error(t, "the arguments must be a JSON object, got " +
                                std::string{detail::type_name(args)});
  auto violations = validate(t.parameters, args);
  if (violations.empty())
    return prepared_call{&t, std::move(args)};
  auto total = violations.size();
  violations.resize(std::min(total, limits_.max_listed_violations));
  auto e = argument_error(t, std::to_string(total) + " violation(s) of the parameters schema" +
                                (total > violations.size() ? " (the first " +
                                  std::to_string(violations.size()) + " are listed)" : "") +
                                "; fix them and call again");
  e.violations = std::move(violations);
  return e;
}

} // namespace endure::agent
