// Task types nest with "/": "refund/eu" is a kind of "refund", which is a
// kind of every task (""). Calibration and benefit back off along this
// chain when a type has few cases of its own. Pure.
#pragma once

#include <string_view>
#include <vector>

namespace endure::escalation {

/// "refund/eu" -> "refund" -> "" (the root); "" has no parent (returns "").
inline std::string_view parent_task_type(std::string_view task_type) {
  auto slash = task_type.rfind('/');
  return slash == std::string_view::npos ? std::string_view{} : task_type.substr(0, slash);
}

/// The type and its ancestors, most specific first, the root "" last:
/// "refund/eu" -> {"refund/eu", "refund", ""}; "" -> {""}.
inline std::vector<std::string_view> task_type_chain(std::string_view task_type) {
  std::vector<std::string_view> chain;
  for (auto type = task_type; !type.empty(); type = parent_task_type(type))
    chain.push_back(type);
  chain.push_back({});
  return chain;
}

} // namespace endure::escalation
