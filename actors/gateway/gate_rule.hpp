// What the policy says about one gated tool call: who may decide, how, by
// when, and why it was gated. A plain value: policy::gate() resolves it
// (defaults applied, the condition evaluated) and the human-gateway actor
// keeps it with the pending request. Any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "endure/actors/gateway/decision.hpp"

namespace endure::gateway {

/// Who may decide. Both empty: anyone with the approver role (the gateway
/// checks the role; the policy only narrows it).
struct approver_set {
  /// Sorted, distinct.
  std::vector<std::string> principals;
  /// Names of the policy's `groups`, sorted, distinct.
  std::vector<std::string> groups;

  bool anyone() const noexcept { return principals.empty() && groups.empty(); }
  friend bool operator==(const approver_set&, const approver_set&) = default;
};

/// What happens when nobody decided in time.
enum class deadline_outcome : std::uint8_t {
  /// The call is rejected, as if a reviewer had rejected it.
  reject,
  /// The request goes to the group `escalate_to` names.
  escalate,
  /// Nothing: the request keeps waiting (reminders still fire).
  keep_waiting,
};

/// "reject", "escalate", "keep_waiting".
std::string_view to_string(deadline_outcome o) noexcept;
std::optional<deadline_outcome> parse_deadline_outcome(std::string_view name) noexcept;

struct deadline_rule {
  /// Counted from when the request was made; positive, at most a year.
  std::chrono::seconds after{0};
  /// Default: reject.
  deadline_outcome outcome = deadline_outcome::reject;
  /// A group of the policy; set exactly when outcome is escalate.
  std::string escalate_to;

  friend bool operator==(const deadline_rule&, const deadline_rule&) = default;
};

struct gate_rule {
  /// The tool the rule is for.
  std::string tool;
  /// What a reviewer may answer, in all_decisions order; never empty.
  std::vector<decision> allowed_decisions;
  /// Shown to the reviewer; may be empty.
  std::string description;
  approver_set approvers;
  /// How many distinct principals must approve (>= 1).
  std::uint32_t quorum = 1;
  std::optional<deadline_rule> deadline;
  /// When to remind the approvers, ascending, each before the deadline.
  std::vector<std::chrono::seconds> reminders;
  /// The policy's `when` for this tool as one line; empty: every call gates.
  std::string condition;
  /// The parts of `when` that held for this call, with the argument values
  /// (`/amount gt 1000 (is 5000)`); empty when `condition` is.
  std::vector<std::string> matched;
  /// policy::hash() of the policy that produced this rule.
  std::string policy_hash;

  bool allows(decision d) const noexcept;
};

/// The rule as JSON, for the reviewer and for persisting a pending request:
/// {"tool", "allowed_decisions", "description", "approvers": {"principals",
/// "groups"}, "quorum", "deadline": null | {"after_seconds", "outcome",
/// "escalate_to"?}, "reminders_seconds", "condition", "matched",
/// "policy_hash"}.
nlohmann::json to_json(const gate_rule& rule);

} // namespace endure::gateway
