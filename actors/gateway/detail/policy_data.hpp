// What a loaded policy holds (internal to actors/gateway: the loader fills
// it, policy reads it). Immutable once make_policy has hashed it.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "endure/actors/gateway/condition.hpp"
#include "endure/actors/gateway/gate_rule.hpp"
#include "endure/actors/gateway/policy.hpp"

namespace endure::gateway::detail {

/// A gated tool: its rule with every default applied (gate_rule::matched
/// empty, condition = when->describe()), and its condition if any.
struct tool_policy {
  gate_rule rule;
  std::optional<gateway::condition> when;
};

struct policy_data {
  std::string source;
  std::map<std::string, tool_policy, std::less<>> gated;
  /// Tools listed `false`, sorted: shown by describe(), not hashed.
  std::vector<std::string> ungated;
  /// Group name -> members, sorted and distinct.
  std::map<std::string, std::vector<std::string>, std::less<>> groups;
  std::string hash;
};

/// Computes the hash (and stamps it into every rule) and wraps the data.
policy make_policy(policy_data data);

} // namespace endure::gateway::detail
