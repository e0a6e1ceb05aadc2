// The escalation matrix of matrix.hpp: assess, learn, refit.
#include "endure/actors/escalation/matrix.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "endure/actors/escalation/embedder.hpp"

#include <xxhash.h>

namespace endure::escalation {

namespace {

std::string format_reason(const assessment& a) {
  char buf[200];
  if (a.wants_samples)
    std::snprintf(buf, sizeof buf, "score %.3f is within the grey zone of threshold %.3f: "
                                   "draw samples and ask again", a.score, a.threshold);
  else if (a.explored)
    std::snprintf(buf, sizeof buf, "score %.3f < threshold %.3f, escalated by the exploration "
                                   "slice (propensity %.3f)", a.score, a.threshold, a.propensity);
  else
    std::snprintf(buf, sizeof buf, "score %.3f %s threshold %.3f (U %.2f, N %.2f, B %.2f)",
                  a.score, a.decision == decision::escalate ? ">=" : "<", a.threshold,
                  a.features.uncertainty, a.features.novelty, a.features.benefit);
  return buf;
}

/// A uniform draw in [0, 1) that is a function of the seed and the input's
/// id alone: a restarted actor does not replay the seed's first draws.
double exploration_draw(std::uint64_t seed, std::uint64_t input_id) {
  std::uint64_t key[2] = {seed, input_id};
  return static_cast<double>(XXH64(key, sizeof key, 0) >> 11) * 0x1.0p-53;
}

/// Each feature in [0, 1], as every assessment makes them; false for NaN.
/// A finite value far outside (an outcome not built from an assessment)
/// would overflow the Hessian of every later fit.
bool in_range(const features& f) {
  auto unit = [](double x) { return x >= 0 && x <= 1; };
  return unit(f.uncertainty) && unit(f.novelty) && unit(f.benefit);
}

bool has_both_outcomes(const std::vector<labelled_case>& cases) {
  bool error = false, fine = false;
  for (auto& c : cases)
    (c.error ? error : fine) = true;
  return error && fine;
}

} // namespace

matrix::matrix(matrix_options options)
  : opts_(options),
    calibration_(options.calibration_min_cases),
    benefit_(options.benefit_prior_strength),
    novelty_(options.novelty),
    threshold_(budget_for_score(options)) {}

threshold_options matrix::budget_for_score(const matrix_options& o) {
  // The exploration slice escalates e of what the score lets through, so
  // the score's own share r must satisfy r + e (1 - r) = max_rate.
  auto t = o.threshold;
  double e = std::isfinite(o.exploration) ? std::clamp(o.exploration, 0.0, 1.0) : 0.0;
  if (t.mode == threshold_options::kind::budget)
    t.max_rate = e < 1 ? std::max(0.0, (t.max_rate - e) / (1 - e)) : 0.0;
  return t;
}

std::vector<float> matrix::embedding_of(const proposal& p) const {
  if (p.embedding.empty())
    return hashed_ngram_embedding(p.input, opts_.novelty.dim);
  auto v = p.embedding;
  normalize(v);  // an all-zero embedding stays zero: novelty 1
  return v;
}

double matrix::score_of(const features& f) const {
  if (model_)
    return model_->predict(f);
  return (f.uncertainty + f.novelty + f.benefit) / 3;
}

expected<features> matrix::features_of(const proposal& p, std::span<const float> unit,
                                       uncertainty_parts& parts) const {
  std::optional<double> calibrated;
  if (p.confidence)
    calibrated = calibration_.error_probability(p.task_type, *p.confidence);
  parts = combine_uncertainty(p.confidence, calibrated, sample_disagreement(p.samples),
                              hedging_score(p.reasoning), opts_.uncertainty);
  auto n = novelty_.novelty(p.task_type, unit);
  if (!n)
    return n.error();
  return features{parts.value, *n, benefit_.benefit(p.task_type)};
}

expected<assessment> matrix::assess(const proposal& p, std::vector<float>* stored_unit) {
  assessment a;
  auto unit = embedding_of(p);
  auto f = features_of(p, unit, a.uncertainty);
  if (!f)
    return f.error();
  a.features = *f;
  a.fitted = model_.has_value();
  a.weights = model_ ? model_->weights : std::array<double, 4>{0, 1.0 / 3, 1.0 / 3, 1.0 / 3};
  a.score = score_of(a.features);
  a.threshold = threshold_.current();
  if (p.irreversible && std::isfinite(opts_.irreversible_threshold))
    a.threshold = std::min(a.threshold, opts_.irreversible_threshold);
  a.model_version = version_;
  if (!std::isfinite(a.score) || !std::isfinite(a.threshold)) {
    // Never let a number that is not one wave an action through.
    a.decision = decision::escalate;
    a.reason = "the score or threshold is not a number: escalated to be safe";
    return a;
  }
  if (opts_.grey_zone > 0 && opts_.samples > 1 && p.samples.empty() && !p.samples_unavailable &&
      std::abs(a.score - a.threshold) < opts_.grey_zone) {
    a.wants_samples = true;
    a.reason = format_reason(a);
    return a;
  }
  if (a.score >= a.threshold) {
    a.decision = decision::escalate;
    a.propensity = 1;
  } else if (exploration_draw(opts_.seed, next_input_id()) < opts_.exploration) {
    a.decision = decision::escalate;
    a.explored = true;
    a.propensity = opts_.exploration;
  } else {
    a.decision = decision::proceed;
    a.propensity = 1 - opts_.exploration;
  }
  a.input_id = next_input_id();
  if (auto added = novelty_.add(p.task_type, unit, a.input_id); !added)
    return added.error();
  remember_in_window(a.features);
  a.reason = format_reason(a);
  if (stored_unit)
    *stored_unit = std::move(unit);
  return a;
}

void matrix::remember_in_window(const features& f) {
  threshold_.observe(score_of(f));
  recent_.push_back(f);
  while (recent_.size() > std::max<std::size_t>(1, opts_.threshold.window))
    recent_.pop_front();
}

expected<void> matrix::restore_input(std::string_view task_type, std::span<const float> unit,
                                     std::uint64_t id, const features& f) {
  if (id > novelty_.max_id())
    if (auto added = novelty_.add(task_type, unit, id); !added)
      return added;
  remember_in_window(f);
  return {};
}

void matrix::learn(const outcome& o) {
  if (!in_range(o.features))
    return;  // one bad outcome must not poison every later fit
  double changed = std::clamp(std::isfinite(o.changed) ? o.changed : 0.0, 0.0, 1.0);
  bool error = changed >= 0.5;
  double weight = o.propensity > 0 ? 1 / o.propensity : 1;
  labelled_.push_back({o.features, error, weight});
  if (o.decision == decision::escalate)
    benefit_.record(o.task_type, changed);
  if (o.confidence)
    calibration_.record(o.task_type, {*o.confidence, !error, weight});
}

std::optional<refit_record> matrix::record(const outcome& o) {
  learn(o);
  if (labelled_.size() < opts_.min_labels ||
      labelled_.size() - labels_at_refit_ < std::max<std::size_t>(1, opts_.refit_every) ||
      !has_both_outcomes(labelled_))
    return std::nullopt;
  return refit();
}

std::optional<refit_record> matrix::refit() {
  auto fitted = fit_logistic(std::span<const labelled_case>{labelled_}, opts_.fit);
  // A fit that failed keeps the model that worked and leaves the count of
  // the last refit alone, so the next label tries again, exactly as a
  // matrix restored from the journal (which holds only refits) would.
  if (!fitted.converged ||
      !std::all_of(fitted.weights.begin(), fitted.weights.end(), [](double w) { return std::isfinite(w); }))
    return std::nullopt;
  labels_at_refit_ = labelled_.size();
  model_ = fitted;
  calibration_.refit();
  rescore_window();
  refit_record r;
  r.version = ++version_;
  r.labels = labelled_.size();
  r.weights = model_->weights;
  r.calibration = calibration_.fitted();
  return r;
}

void matrix::rescore_window() {
  // The budget window must hold scores of the model now in use: the
  // equal-weight means and each refit's probabilities are other scales.
  threshold_ = threshold(budget_for_score(opts_));
  for (auto& f : recent_)
    threshold_.observe(score_of(f));
}

void matrix::restore_refit(const refit_record& r) {
  logistic_model m;
  m.weights = r.weights;
  m.converged = true;
  model_ = m;
  calibration_.restore(r.calibration);
  version_ = r.version;
  labels_at_refit_ = std::min<std::size_t>(r.labels, labelled_.size());
  rescore_window();
}

} // namespace endure::escalation
