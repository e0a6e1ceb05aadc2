#include "endure/actors/agent/tool_error.hpp"

#include "endure/actors/agent/detail/schema_support.hpp"

namespace endure::agent {

std::string_view to_string(tool_error_kind kind) noexcept {
  switch (kind) {
    case tool_error_kind::unknown_tool: return "unknown_tool";
    case tool_error_kind::invalid_json: return "invalid_json";
    case tool_error_kind::invalid_arguments: return "invalid_arguments";
  }
  return "invalid_arguments";
}

nlohmann::json tool_error::to_json() const {
  auto listed = nlohmann::json::array();
  for (const auto& v : violations)
    listed.push_back({{"path", v.path}, {"message", v.message}});
  nlohmann::json out = {{"error", to_string(kind)},
                        {"tool", tool},
                        {"message", message},
                        {"violations", std::move(listed)}};
  if (!available_tools.empty())
    out["available_tools"] = available_tools;
  if (!parameters.is_null())
    out["parameters"] = parameters;
  return out;
}

tool_error unknown_tool_error(std::string_view name, std::vector<std::string> available) {
  tool_error e{tool_error_kind::unknown_tool, detail::excerpt(name, 80), {}, {}, {}, {}};
  std::string names;
  for (const auto& n : available)
    names += (names.empty() ? "" : ", ") + n;
  e.message = "there is no tool named '" + e.tool + "'; " +
              (names.empty() ? "no tools are available" : "call one of: " + names);
  e.available_tools = std::move(available);
  return e;
}

} // namespace endure::agent
