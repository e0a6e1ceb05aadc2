// Platt scaling per task type, fitted with the shared Newton solver.
#include "endure/actors/escalation/calibration.hpp"

#include <algorithm>
#include <cmath>

#include "endure/actors/escalation/detail/newton_logistic.hpp"
#include "endure/actors/escalation/task_type.hpp"

namespace endure::escalation {

namespace {

double logit(double c) {
  if (!std::isfinite(c))
    c = 0.5;
  c = std::clamp(c, 1e-4, 1 - 1e-4);
  return std::log(c / (1 - c));
}

} // namespace

double platt_scaling::error_probability(double confidence) const {
  return 1 - detail::sigmoid(a * logit(confidence) + b);
}

platt_scaling fit_platt(std::span<const confidence_outcome> outcomes, double ridge) {
  // Shrink toward the identity: z = logit(c) + (a - 1) * logit(c) + b, so
  // the fitted w = (b, a - 1) starts and is penalised at zero.
  std::vector<detail::logistic_row<2>> rows;
  rows.reserve(outcomes.size());
  for (auto& o : outcomes) {
    double z = logit(o.confidence);
    rows.push_back({{1.0, z}, z, o.weight, o.correct});
  }
  auto fit = detail::fit_newton<2>(rows, ridge, 100, 1e-10);
  platt_scaling p;
  if (std::isfinite(fit.w[0]) && std::isfinite(fit.w[1])) {
    p.b = fit.w[0];
    p.a = 1 + fit.w[1];
  }
  p.cases = outcomes.size();
  return p;
}

void confidence_calibrator::record(std::string_view task_type,
                                   const confidence_outcome& outcome) {
  for (auto type : task_type_chain(task_type)) {
    auto it = outcomes_.find(type);
    if (it == outcomes_.end())
      it = outcomes_.emplace(std::string{type}, std::vector<confidence_outcome>{}).first;
    it->second.push_back(outcome);
  }
}

void confidence_calibrator::refit() {
  for (auto& [type, outcomes] : outcomes_)
    if (outcomes.size() >= min_cases_)
      fitted_[type] = fit_platt(outcomes);
}

const platt_scaling& confidence_calibrator::scaling_for(std::string_view task_type) const {
  static const platt_scaling identity{};
  for (auto type : task_type_chain(task_type))
    if (auto it = fitted_.find(type); it != fitted_.end())
      return it->second;
  return identity;
}

} // namespace endure::escalation
