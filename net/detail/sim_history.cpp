// Reading tool calls and their results back from a conversation. A result
// is parsed leniently: anything that is not a JSON object with an "error"
// is a plain result, whatever its text.
#include "endure/net/detail/sim_history.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <unordered_map>

namespace endure::net::detail {

namespace {

using json = nlohmann::json;

/// Reason for a rejection, as quoted in the final answer.
constexpr std::size_t max_reason = 160;

std::string string_at(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

} // namespace

const tool_record* history::find(std::string_view name) const {
  for (const auto& t : tools)
    if (t.name == name)
      return &t;
  return nullptr;
}

std::size_t history::calls_of(std::string_view name) const {
  const auto* t = find(name);
  return t ? t->calls.size() : 0;
}

call_state read_tool_result(const std::string& content) {
  auto j = json::parse(content, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("error") || j["error"].is_null() ||
      j["error"] == false)
    return {outcome::ok, content};
  const json& e = j["error"];
  std::string code = e.is_string() ? e.get<std::string>() : string_at(e, "code");
  if (code.empty())
    code = string_at(e, "type");
  if (code.empty())
    code = "error";
  if (code == "rejected") {
    std::string reason = string_at(j, "reason");
    for (const char* key : {"message", "detail"})
      if (reason.empty())
        reason = string_at(j, key);
    if (reason.empty())
      reason = string_at(e, "message");
    return {outcome::rejected, reason.substr(0, max_reason)};
  }
  if (code == "invalid_arguments" || code == "unknown_tool")
    return {outcome::retry, code};
  return {outcome::failed, code};
}

history read_history(const chat_request& req) {
  history h;
  std::unordered_map<std::string, std::pair<std::size_t, std::size_t>> by_id; // -> (tool, call)
  for (const auto& m : req.messages) {
    if (m.role == chat_role::assistant) {
      for (const auto& c : m.tool_calls) {
        auto it = std::find_if(h.tools.begin(), h.tools.end(),
                               [&](const tool_record& t) { return t.name == c.name; });
        if (it == h.tools.end())
          it = h.tools.insert(h.tools.end(), tool_record{c.name, {}});
        by_id[c.id] = {static_cast<std::size_t>(it - h.tools.begin()), it->calls.size()};
        it->calls.emplace_back();
        h.ids.insert(c.id);
      }
    } else if (m.role == chat_role::tool) {
      auto it = by_id.find(m.tool_call_id);
      if (it == by_id.end()) // a result for no call is ignored, as a model would
        continue;
      auto& state = h.tools[it->second.first].calls[it->second.second];
      state = read_tool_result(m.content);
      if (state.result == outcome::ok)
        h.results.push_back(m.content);
    }
  }
  return h;
}

} // namespace endure::net::detail
