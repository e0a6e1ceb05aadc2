// See sim_data_flow.hpp. Results are parsed once per call; each property
// looks through them from the most recent back, and the first field of its
// name that fits is taken.
#include "endure/net/detail/sim_data_flow.hpp"

#include "endure/net/detail/json_answer.hpp"
#include "endure/net/detail/sim_fit.hpp"

#include <nlohmann/json.hpp>

#include <string_view>

namespace endure::net::detail {

namespace {

using json = nlohmann::json;

/// Whether replacing one property's value keeps the whole object valid
/// once the new value fits that property's schema: true when the top
/// level has no keyword that looks at several properties, or at a
/// property through anything but `properties`.
bool properties_independent(const json& schema) {
  if (!schema.is_object() || !schema.contains("properties") || !schema["properties"].is_object())
    return false;
  for (const auto& [key, _] : schema.items()) {
    static constexpr std::string_view known[] = {
      "type", "properties", "required", "additionalProperties", "minProperties", "maxProperties",
      "description", "title", "default", "examples", "$comment", "$schema", "$id"};
    bool ok = false;
    for (auto k : known)
      ok = ok || key == k;
    if (!ok)
      return false;
  }
  return true;
}

/// The results that are JSON objects, most recent first.
std::vector<json> objects_of(const std::vector<std::string>& results) {
  std::vector<json> out;
  for (auto it = results.rbegin(); it != results.rend(); ++it) {
    auto j = json::parse(*it, nullptr, false);
    if (!j.is_discarded() && j.is_object())
      out.push_back(std::move(j));
  }
  return out;
}

} // namespace

std::string sim_pass_results(std::string_view schema_json, std::string arguments_json,
                             const std::vector<std::string>& results) {
  if (results.empty())
    return arguments_json;
  auto schema = json::parse(schema_json, nullptr, false);
  auto args = json::parse(arguments_json, nullptr, false);
  if (schema.is_discarded() || !args.is_object() || !properties_independent(schema))
    return arguments_json;
  auto sources = objects_of(results);
  const auto& props = schema["properties"];
  bool taken = false;
  for (auto& [name, value] : args.items()) {
    if (!props.contains(name))
      continue;
    for (const auto& source : sources) {
      auto field = source.find(name);
      if (field != source.end() && sim_fits(props[name], *field)) {
        value = *field;
        taken = true;
        break;
      }
    }
  }
  return taken ? dump_text(args) : arguments_json;
}

} // namespace endure::net::detail
