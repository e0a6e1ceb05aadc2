// Hierarchical Beta-Bernoulli posterior means for benefit_model.
#include "endure/actors/escalation/benefit.hpp"

#include <algorithm>
#include <vector>

#include "endure/actors/escalation/calibration.hpp"  // parent_task_type

namespace endure::escalation {

void benefit_model::record(std::string_view task_type, double changed) {
  changed = std::clamp(changed, 0.0, 1.0);  // NaN stays NaN: refused below
  if (!(changed >= 0))
    return;
  for (auto type = task_type;; type = parent_task_type(type)) {
    auto it = counts_.find(type);
    if (it == counts_.end())
      it = counts_.emplace(std::string{type}, counts{}).first;
    it->second.changed += changed;
    it->second.total += 1;
    if (type.empty())
      break;
  }
}

double benefit_model::benefit(std::string_view task_type) const {
  // Root: Beta(1, 1) prior, mean 1/2.
  auto at = [&](std::string_view type) {
    auto it = counts_.find(type);
    return it == counts_.end() ? counts{} : it->second;
  };
  auto root = at("");
  double mean = (root.changed + 1) / (root.total + 2);
  if (task_type.empty())
    return mean;
  // Walk down from the broadest ancestor, each level's posterior the next
  // level's prior mean.
  std::vector<std::string_view> chain;
  for (auto type = task_type; !type.empty(); type = parent_task_type(type))
    chain.push_back(type);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    auto c = at(*it);
    mean = (c.changed + strength_ * mean) / (c.total + strength_);
  }
  return mean;
}

double benefit_model::cases(std::string_view task_type) const {
  auto it = counts_.find(task_type);
  return it == counts_.end() ? 0 : it->second.total;
}

} // namespace endure::escalation
