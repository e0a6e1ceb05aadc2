// The intervention-benefit input B of the escalation score: the posterior
// rate at which a person's answer changed the output, per task type, from
// the outcomes of past escalations. Beta-Bernoulli with hierarchical
// back-off: a type's prior is its parent's posterior from the parent's
// other cases ("refund/eu" leans on the rest of "refund", which leans on
// the other types, which start at Beta(1, 1)), so a
// type with few cases reads mostly as the broader type and moves toward
// its own rate as cases accumulate. Pure; one owner.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace endure::escalation {

class benefit_model {
public:
  /// `prior_strength`: how many cases a parent's rate counts as in a child
  /// type's prior (> 0). Default 4.
  explicit benefit_model(double prior_strength = 4) : strength_(prior_strength) {}

  /// One answered escalation of `task_type`: `changed` in [0, 1], how much
  /// the person changed the output (1 rewrote or rejected it, 0 approved it
  /// as it was; a value between counts fractionally). Counted under the
  /// type and every ancestor.
  void record(std::string_view task_type, double changed);

  /// Posterior mean of the change rate of `task_type`, in (0, 1).
  double benefit(std::string_view task_type) const;

  /// Cases recorded under `task_type` itself (its descendants included).
  double cases(std::string_view task_type) const;

private:
  struct counts {
    double changed = 0;
    double total = 0;
  };
  double strength_;
  std::map<std::string, counts, std::less<>> counts_;
};

} // namespace endure::escalation
