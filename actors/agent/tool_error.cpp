#include "endure/actors/agent/tool_error.hpp"

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

} // namespace endure::agent
