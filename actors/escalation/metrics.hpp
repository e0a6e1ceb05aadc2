// How well a score ranks and predicts the errors of a decision log: AUROC,
// AUPRC, calibration (ECE, Brier) and the escalation-rate vs caught-error
// curve. Pure functions over (score, label) pairs, no CAF, any thread.
//
// A label is true for a positive: an action that was silently wrong. A
// metric that has no meaning for the input (no positives, no negatives, no
// pairs, a probability outside [0, 1]) is an empty std::optional, never a
// made-up 0 or 0.5.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

namespace endure::escalation {

/// One case: what the score said and what turned out.
struct scored {
  double score = 0;
  bool positive = false;
};

/// Area under the ROC curve: the chance that a random positive scores above
/// a random negative, a tie counting one half (Mann-Whitney U over average
/// ranks). Empty without at least one positive and one negative.
std::optional<double> auroc(std::span<const scored> cases);

/// Average precision, step-wise as sklearn's average_precision_score: over
/// the distinct scores t from high to low, sum (R(t) - R(previous t)) * P(t),
/// where P and R are precision and recall of "score >= t" (tied cases enter
/// together). Empty without a positive.
std::optional<double> auprc(std::span<const scored> cases);

/// Expected calibration error with `bins` equal-width bins over [0, 1]
/// (bin i holds [i/B, (i+1)/B), the last one also 1.0): the sum over
/// non-empty bins of (cases in bin / all cases) * |error rate - mean score|.
/// Empty for no cases, bins == 0 or a score outside [0, 1].
std::optional<double> expected_calibration_error(std::span<const scored> cases,
                                                 std::size_t bins = 10);

/// Mean of (score - label)^2, label 1 for a positive. Empty for no cases or
/// a score outside [0, 1].
std::optional<double> brier_score(std::span<const scored> cases);

/// The share of positives caught when the top floor(rate * n) cases by score
/// are escalated (rate in [0, 1], clamped). Where the cut falls inside a
/// group of tied scores, the group's slots are filled at random: the value
/// is that draw's expectation (escalated slots in the group * the group's
/// positive share), so it does not depend on the order of the input. Empty
/// without a positive.
std::optional<double> caught_at(std::span<const scored> cases, double rate);

/// One point of the escalation curve.
struct curve_point {
  double escalation_rate = 0; ///< share of cases escalated, 0..1
  double caught_rate = 0;     ///< share of all positives among them (recall), 0..1
};

/// caught_at for rates 0, 1/steps, ..., 1 (steps + 1 points; 100 steps: every
/// whole percent). Empty without a positive or for steps == 0.
std::vector<curve_point> escalation_curve(std::span<const scored> cases,
                                          std::size_t steps = 100);

} // namespace endure::escalation
