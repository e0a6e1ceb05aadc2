// gate_rule's names and JSON form.
#include "endure/actors/gateway/gate_rule.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace endure::gateway {

std::string_view to_string(deadline_outcome o) noexcept {
  switch (o) {
    case deadline_outcome::reject:
      return "reject";
    case deadline_outcome::escalate:
      return "escalate";
    case deadline_outcome::keep_waiting:
      return "keep_waiting";
  }
  return "unknown";
}

std::optional<deadline_outcome> parse_deadline_outcome(std::string_view name) noexcept {
  for (auto o : {deadline_outcome::reject, deadline_outcome::escalate,
                 deadline_outcome::keep_waiting})
    if (to_string(o) == name)
      return o;
  return std::nullopt;
}

bool gate_rule::allows(decision d) const noexcept {
  return std::find(allowed_decisions.begin(), allowed_decisions.end(), d)
         != allowed_decisions.end();
}

nlohmann::json to_json(const gate_rule& rule) {
  auto decisions = nlohmann::json::array();
  for (auto d : rule.allowed_decisions)
    decisions.push_back(std::string{to_string(d)});
  nlohmann::json deadline = nullptr;
  if (rule.deadline) {
    deadline = {{"after_seconds", rule.deadline->after.count()},
                {"outcome", std::string{to_string(rule.deadline->outcome)}}};
    if (rule.deadline->outcome == deadline_outcome::escalate)
      deadline["escalate_to"] = rule.deadline->escalate_to;
  }
  auto reminders = nlohmann::json::array();
  for (auto r : rule.reminders)
    reminders.push_back(r.count());
  return {{"tool", rule.tool},
          {"allowed_decisions", std::move(decisions)},
          {"description", rule.description},
          {"approvers",
           {{"principals", rule.approvers.principals}, {"groups", rule.approvers.groups}}},
          {"quorum", rule.quorum},
          {"deadline", std::move(deadline)},
          {"reminders_seconds", std::move(reminders)},
          {"condition", rule.condition},
          {"matched", rule.matched},
          {"policy_hash", rule.policy_hash}};
}

} // namespace endure::gateway
