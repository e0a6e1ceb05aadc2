// A run's input from JSON (start_input.hpp), moved here from `endure run`.
#include "endure/net/console/start_input.hpp"

#include "endure/net/console/json_value.hpp"

namespace endure::console {

namespace {

/// What the user must pass, e.g. "a string (a JSON string, quoted: --input
/// '\"text\"')".
std::string expected_input(const workflow_input& in, std::string_view field) {
  if (in.type == "a string")
    return in.type + " (a JSON string, quoted: " + std::string(field) + " '\"text\"')";
  return in.type;
}

std::string shortened(const std::string& text) {
  return text.size() > 80 ? text.substr(0, 80) + "..." : text;
}

} // namespace

expected<std::string> start_input(const workflow_registry& workflows,
                                  const std::string& workflow,
                                  const std::optional<std::string>& json_text,
                                  std::string_view field) {
  const auto* in = workflows.input(workflow);
  std::string f(field);
  if (!in) {
    std::string known;
    for (auto& n : workflows.names())
      known += (known.empty() ? "" : ", ") + n;
    return make_error(errc::invalid_argument, "no workflow named '" + workflow +
                                                "' is registered; known workflows: " + known);
  }
  if (!json_text) {
    if (!in->default_value)
      return make_error(errc::invalid_argument,
                        "workflow " + workflow + " needs " + f + ": " + expected_input(*in, f));
    return *in->default_value;
  }
  auto bytes = json_to_msgpack(*json_text);
  if (!bytes)
    return make_error(errc::invalid_argument,
                      f + " for workflow " + workflow + " is " + bytes.error().message + ": " +
                        shortened(*json_text) + " (it takes " + expected_input(*in, f) + ")");
  if (!in->decodes(*bytes))
    return make_error(errc::invalid_argument, f + " for workflow " + workflow + " must be " +
                                                expected_input(*in, f) + "; got " +
                                                shortened(*json_text));
  return std::move(*bytes);
}

} // namespace endure::console
