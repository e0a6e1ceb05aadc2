// policy: the gate's answers, the canonical form and its hash, and the
// lines `endure policy check` prints. Reads only immutable data.
#include "endure/actors/gateway/policy.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "endure/actors/agent/canonical_json.hpp"
#include "endure/actors/gateway/detail/policy_data.hpp"
#include "endure/actors/gateway/duration.hpp"

namespace endure::gateway {

using nlohmann::json;

namespace {

/// The canonical form of one tool's rule (what the hash covers).
json tool_json(const detail::tool_policy& t) {
  auto rule = to_json(t.rule);
  json out;
  for (auto key : {"allowed_decisions", "approvers", "deadline", "description", "quorum",
                   "reminders_seconds"})
    out[key] = rule[key];
  out["when"] = t.when ? t.when->to_json() : json(nullptr);
  return out;
}

json data_json(const detail::policy_data& d) {
  json groups = json::object();
  for (auto& [name, members] : d.groups)
    groups[name] = members;
  json tools = json::object();
  for (auto& [name, t] : d.gated)
    tools[name] = tool_json(t);
  return {{"groups", std::move(groups)}, {"interrupt_on", std::move(tools)}};
}

std::string joined(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (auto& i : items)
    out += (out.empty() ? "" : std::string{sep}) + i;
  return out;
}

std::string deciders(const detail::policy_data& d, const approver_set& a) {
  if (a.anyone())
    return "anyone with the approver role";
  std::vector<std::string> who = a.principals;
  for (auto& g : a.groups) {
    auto it = d.groups.find(g);
    who.push_back("group " + g + " ("
                  + (it == d.groups.end() ? std::string{"undefined"} : joined(it->second)) + ")");
  }
  return joined(who, " or ");
}

std::string deadline_text(const std::optional<deadline_rule>& dl) {
  if (!dl)
    return "no deadline";
  auto out = "deadline " + format_duration(dl->after) + ", then ";
  switch (dl->outcome) {
    case deadline_outcome::reject:
      return out + "reject";
    case deadline_outcome::escalate:
      return out + "escalate to group " + dl->escalate_to;
    case deadline_outcome::keep_waiting:
      return out + "keep waiting";
  }
  return out;
}

std::string describe_tool(const detail::policy_data& d, const detail::tool_policy& t) {
  auto& r = t.rule;
  std::string line = r.tool + ": gated " + (t.when ? "when " + r.condition : "on every call");
  std::vector<std::string> decisions;
  for (auto dec : r.allowed_decisions)
    decisions.emplace_back(to_string(dec));
  line += "; decisions " + joined(decisions) + "; decided by " + deciders(d, r.approvers)
          + "; quorum " + std::to_string(r.quorum) + "; " + deadline_text(r.deadline);
  if (!r.reminders.empty()) {
    std::vector<std::string> at;
    for (auto s : r.reminders)
      at.push_back(format_duration(s));
    line += "; reminders at " + joined(at);
  }
  if (!r.description.empty())
    line += "; description: " + json(r.description).dump();
  return line;
}

} // namespace

namespace detail {

policy make_policy(policy_data data) {
  data.hash = agent::json_hash(data_json(data));
  for (auto& [name, t] : data.gated)
    t.rule.policy_hash = data.hash;
  return policy{std::make_shared<const policy_data>(std::move(data))};
}

} // namespace detail

std::optional<gate_rule> policy::gate(std::string_view tool, const json& args) const {
  auto it = data_->gated.find(tool);
  if (it == data_->gated.end())
    return std::nullopt;
  auto& t = it->second;
  std::vector<std::string> matched;
  if (t.when && !t.when->holds(args, &matched))
    return std::nullopt;
  auto rule = t.rule;
  rule.matched = std::move(matched);
  return rule;
}

bool policy::may_decide(const gate_rule& rule, std::string_view principal) const {
  if (principal.empty())
    return false;
  if (rule.approvers.anyone())
    return true;
  auto& named = rule.approvers.principals;
  if (std::find(named.begin(), named.end(), principal) != named.end())
    return true;
  for (auto& g : rule.approvers.groups) {
    auto it = data_->groups.find(g);
    if (it != data_->groups.end()
        && std::find(it->second.begin(), it->second.end(), principal) != it->second.end())
      return true;
  }
  return false;
}

std::vector<std::string> policy::group_members(std::string_view name) const {
  auto it = data_->groups.find(name);
  return it == data_->groups.end() ? std::vector<std::string>{} : it->second;
}

const std::string& policy::hash() const noexcept {
  return data_->hash;
}

json policy::to_json() const {
  return data_json(*data_);
}

std::vector<std::string> policy::describe() const {
  std::vector<std::pair<std::string, std::string>> lines;
  for (auto& [name, t] : data_->gated)
    lines.emplace_back(name, describe_tool(*data_, t));
  for (auto& name : data_->ungated)
    lines.emplace_back(name, name + ": not gated (listed false)");
  std::sort(lines.begin(), lines.end());
  std::vector<std::string> out;
  for (auto& [name, line] : lines)
    out.push_back(std::move(line));
  return out;
}

const std::string& policy::source() const noexcept {
  return data_->source;
}

std::vector<std::string> policy::gated_tools() const {
  std::vector<std::string> out;
  for (auto& [name, t] : data_->gated)
    out.push_back(name);
  return out;
}

} // namespace endure::gateway
