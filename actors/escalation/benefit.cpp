// Hierarchical Beta-Bernoulli posterior means for benefit_model.
#include "endure/actors/escalation/benefit.hpp"

#include <algorithm>
#include <vector>

#include "endure/actors/escalation/task_type.hpp"

namespace endure::escalation {

void benefit_model::record(std::string_view task_type, double changed) {
  changed = std::clamp(changed, 0.0, 1.0);  // NaN stays NaN: refused below
  if (!(changed >= 0))
    return;
  for (auto type : task_type_chain(task_type)) {
    auto it = counts_.find(type);
    if (it == counts_.end())
      it = counts_.emplace(std::string{type}, counts{}).first;
    it->second.changed += changed;
    it->second.total += 1;
  }
}

double benefit_model::benefit(std::string_view task_type) const {
  auto at = [&](std::string_view type) {
    auto it = counts_.find(type);
    return it == counts_.end() ? counts{} : it->second;
  };
  // From the root down to the type.
  auto chain = task_type_chain(task_type);
  std::reverse(chain.begin(), chain.end());
  // Each level's prior is its parent's posterior *without the level's own
  // cases* (the parent's counts include them: counted twice otherwise);
  // the root's prior is Beta(1, 1).
  double mean = 0.5, strength = 2;
  for (std::size_t i = 0; i < chain.size(); ++i) {
    auto c = at(chain[i]);
    if (i + 1 < chain.size()) {
      auto child = at(chain[i + 1]);
      c.changed -= child.changed;
      c.total -= child.total;
    }
    mean = (c.changed + strength * mean) / (c.total + strength);
    strength = strength_;
  }
  return mean;
}

double benefit_model::cases(std::string_view task_type) const {
  auto it = counts_.find(task_type);
  return it == counts_.end() ? 0 : it->second.total;
}

} // namespace endure::escalation
