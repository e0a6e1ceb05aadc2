// The small logistic regression of error on (U, N, B): what the evaluator's
// "fit on the past, score the future" fits and what the escalation matrix
// refits its weights with. Newton's method (IRLS) on the L2-penalised,
// optionally weighted log-loss (detail/newton_logistic.hpp), deterministic
// and with no library behind it. Pure, no CAF, any thread.
#pragma once

#include <array>
#include <cstddef>
#include <span>

#include "endure/actors/escalation/decision_log.hpp"

namespace endure::escalation {

struct logistic_options {
  /// Weight of the penalty (ridge / 2) * |w|^2 on all four coefficients,
  /// intercept included; must be > 0. Keeps the fit finite when the past has one class
  /// only or separates perfectly. Default: 0.01.
  double ridge = 0.01;
  /// Newton steps at most. Default: 100.
  std::size_t max_iterations = 100;
  /// Stop when no coefficient moves by more than this. Default: 1e-10.
  double tolerance = 1e-10;
};

/// P(error) = 1 / (1 + exp(-(w0 + w1*U + w2*N + w3*B))).
struct logistic_model {
  std::array<double, 4> weights{}; ///< intercept, uncertainty, novelty, benefit
  std::size_t iterations = 0;      ///< Newton steps taken
  bool converged = false;          ///< the last step moved less than tolerance

  double predict(const features& f) const;
};

/// One labelled case for a weighted fit. `weight` > 0 counts the case that
/// many times: the matrix gives a case labelled by its exploration slice
/// 1 / propensity, so the fit sees the whole population, not only what the
/// score chose to escalate.
struct labelled_case {
  escalation::features features;
  bool error = false;
  double weight = 1;
};

/// Minimises sum_i weight_i * logloss(error_i, predict(x_i)) + ridge/2 * |w|^2,
/// as below.
logistic_model fit_logistic(std::span<const labelled_case> cases,
                            const logistic_options& options = {});

/// Minimises sum_i logloss(error_i, predict(x_i)) + ridge/2 * |w|^2 from
/// w = 0. With ridge > 0 the objective is strictly convex: one minimum,
/// whatever the data. A Newton step that would raise the objective is
/// halved (at most 30 times). Records with no error and no records at all
/// give a finite model (all weights pulled toward "no error").
logistic_model fit_logistic(std::span<const decision_record> records,
                            const logistic_options& options = {});

} // namespace endure::escalation
