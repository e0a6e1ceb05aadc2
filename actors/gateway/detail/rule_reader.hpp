// Reading the fields of a tool's rule from a policy file (internal to
// actors/gateway). Each reader checks everything the format says about its
// field and throws policy_error at the field when something is wrong.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "endure/actors/gateway/condition.hpp"
#include "endure/actors/gateway/decision.hpp"
#include "endure/actors/gateway/detail/yaml_reader.hpp"
#include "endure/actors/gateway/gate_rule.hpp"

namespace endure::gateway::detail {

/// The policy's groups: name -> members, sorted and distinct.
using group_map = std::map<std::string, std::vector<std::string>, std::less<>>;

/// Tool and group names: [a-zA-Z0-9_-]{1,64}, as tool-calling APIs allow.
bool valid_name(std::string_view name);

/// `groups:`: valid names, non-empty lists of principals, no repeats.
group_map read_groups(const yaml_field& f);

/// `approvers: {principals, groups}`; the groups must be in `groups`.
approver_set read_approvers(const yaml_field& f, const group_map& groups);

/// `deadline: {after, outcome, escalate_to}`; escalate_to exactly with escalate.
deadline_rule read_deadline(const yaml_field& f, const group_map& groups);

/// `allowed_decisions`: non-empty, known, no repeats; in all_decisions order.
std::vector<decision> read_decisions(const yaml_field& f);

/// `reminders`: durations, no repeats, each before `deadline` (named as the
/// default's when `default_deadline`); ascending.
std::vector<std::chrono::seconds> read_reminders(const yaml_field& f,
                                                 const std::optional<deadline_rule>& deadline,
                                                 bool default_deadline);

/// `quorum`: 1 to 1000 and at most the distinct principals `approvers` name.
std::uint32_t read_quorum(const yaml_field& f, const approver_set& approvers,
                          const group_map& groups);

/// `when`: a condition, nested at most 16 levels (`depth` counts from 1).
condition read_condition(const yaml_field& f, int depth);

} // namespace endure::gateway::detail
