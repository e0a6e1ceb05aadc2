// Uncertainty from a model's stated confidence, calibrated per task type
// from outcomes (Platt scaling). A model that says 0.9 and is wrong a third
// of the time on "refund" tasks gets 0.9 mapped to a 1/3 error chance
// there. Pure, no CAF; a calibrator is a value, copy it between threads.
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace endure::escalation {

/// P(correct | stated confidence c) = sigmoid(a * logit(c) + b). The
/// identity (a = 1, b = 0) believes the model: P(correct) = c.
struct platt_scaling {
  double a = 1;
  double b = 0;
  /// Outcomes the fit saw (0 for the identity).
  std::size_t cases = 0;

  /// 1 - P(correct | c), c clamped to [1e-4, 1 - 1e-4]; a c that is not a
  /// number reads as 0.5.
  double error_probability(double confidence) const;
};

/// One labelled outcome of a stated confidence.
struct confidence_outcome {
  double confidence = 0;
  bool correct = true;
  double weight = 1;  ///< 1 / propensity of the case being labelled
};

/// Fits a and b by weighted logistic regression of `correct` on logit(c),
/// penalised (ridge) toward the identity, so a handful of outcomes moves
/// the map a little and many move it all the way.
platt_scaling fit_platt(std::span<const confidence_outcome> outcomes, double ridge = 10.0);

/// Per task type calibration with back-off (task_type.hpp): a type with
/// fewer than `min_cases` outcomes uses its parent's ("refund/eu" ->
/// "refund" -> all types), the root with too few uses the identity.
class confidence_calibrator {
public:
  explicit confidence_calibrator(std::size_t min_cases = 20) : min_cases_(min_cases) {}

  /// Keeps the outcome for the next refit(), under its type and every
  /// ancestor of it.
  void record(std::string_view task_type, const confidence_outcome& outcome);
  /// Refits every type that has min_cases outcomes.
  void refit();
  /// The map refit() chose for `task_type` (after back-off).
  const platt_scaling& scaling_for(std::string_view task_type) const;
  double error_probability(std::string_view task_type, double confidence) const {
    return scaling_for(task_type).error_probability(confidence);
  }
  /// Every fitted map by type ("" the root); what a journaled refit keeps.
  const std::map<std::string, platt_scaling, std::less<>>& fitted() const { return fitted_; }
  /// Restores maps a journaled refit kept (outcomes recorded since refit
  /// in record() are kept too).
  void restore(std::map<std::string, platt_scaling, std::less<>> fitted) {
    fitted_ = std::move(fitted);
  }

private:
  std::size_t min_cases_;
  std::map<std::string, std::vector<confidence_outcome>, std::less<>> outcomes_;
  std::map<std::string, platt_scaling, std::less<>> fitted_;
};

} // namespace endure::escalation
