// The offline evaluator of the escalation matrix: how well the logged score,
// and each of its inputs alone, finds the silently wrong actions of a
// decision log, how calibrated the score is, and whether weights fitted on
// the past still rank the future. Pure, no CAF, any thread; the numbers are
// defined in metrics.hpp, bootstrap.hpp and logistic_fit.hpp.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "endure/actors/escalation/bootstrap.hpp"
#include "endure/actors/escalation/decision_log.hpp"
#include "endure/actors/escalation/logistic_fit.hpp"
#include "endure/actors/escalation/metrics.hpp"
#include "endure/persistence/error.hpp"

namespace endure::escalation {

struct evaluation_options {
  /// Equal-width bins of the ECE. Default: 10.
  std::size_t ece_bins = 10;
  /// Resamples, level and seed of every confidence interval.
  bootstrap_options bootstrap;
  /// Escalation rates to report the caught-error rate at. Default: 10/20/30%.
  std::vector<double> budgets{0.1, 0.2, 0.3};
  /// Steps of the escalation curve (100: every whole percent). Default: 100.
  std::size_t curve_steps = 100;
  /// Share of records, in t order, that are the "past" the weights are
  /// fitted on; the rest is the "future" they are judged on. Default: 0.7.
  double past_fraction = 0.7;
  /// The fit on the past.
  logistic_options fit;
};

/// A metric's value on all records and its bootstrap interval; either is
/// empty where the metric has no meaning (no error in the log, ...).
struct estimate {
  std::optional<double> value;
  std::optional<interval> ci;
};

/// The caught-error rate at one escalation rate.
struct caught_point {
  double escalation_rate = 0;
  std::optional<double> caught_rate;
};

/// How one score ranks the errors.
struct ranking_report {
  std::string name; ///< "score", "uncertainty", "novelty" or "benefit"
  estimate auroc;
  estimate auprc;
  std::vector<caught_point> caught; ///< at options.budgets, in order
  std::vector<curve_point> curve;   ///< empty without an error
};

/// Fit on the past, score the future.
struct temporal_report {
  std::size_t past_records = 0;
  std::size_t future_records = 0;
  double split_t = 0;                 ///< t of the first future record
  /// The cut is moved to where t changes, so past and future share no
  /// moment; true only when no such place exists (every record has one t).
  bool ties_at_split = false;
  logistic_model model;               ///< fitted on the past
  std::optional<double> refit_auroc;  ///< the model's P(error), on the future
  std::optional<double> refit_auprc;
  std::optional<double> logged_auroc; ///< the logged score, on the same future
  std::optional<double> logged_auprc;
};

struct evaluation_report {
  std::size_t records = 0;
  std::size_t errors = 0;    ///< records whose outcome was an error
  std::size_t escalated = 0; ///< records the matrix escalated
  /// The logged score first, then uncertainty, novelty, benefit alone.
  std::vector<ranking_report> rankings;
  std::optional<double> ece;   ///< of the logged score (empty outside [0, 1])
  std::optional<double> brier; ///< of the logged score (empty outside [0, 1])
  temporal_report temporal;
};

/// Evaluates `records` (in any order; the temporal split sorts a copy by t,
/// ties in input order, and the past is the first floor(past_fraction * n)
/// of them, the cut moved to the nearest change of t, later first). errc::invalid_argument, naming the
/// option, for: fewer than 2 records, past_fraction leaving the past or the
/// future empty, ece_bins, curve_steps or bootstrap.resamples 0,
/// bootstrap.level outside (0, 1), fit.ridge not > 0, a budget outside
/// [0, 1].
expected<evaluation_report> evaluate(std::span<const decision_record> records,
                                     const evaluation_options& options = {});

/// The report as pretty-printed JSON (`indent` spaces; -1 for one line),
/// empty values as null. Keys follow the structs' field names.
std::string to_json(const evaluation_report& report, int indent = 2);

} // namespace endure::escalation
