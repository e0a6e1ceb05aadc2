// The escalation matrix of matrix.hpp: assess, learn, refit.
#include "endure/actors/escalation/matrix.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "endure/actors/escalation/embedder.hpp"

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
    threshold_(options.threshold),
    rng_(options.seed) {}

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

expected<features> matrix::features_of(const proposal& p, uncertainty_parts* parts) const {
  std::optional<double> calibrated;
  if (p.confidence)
    calibrated = calibration_.error_probability(p.task_type, *p.confidence);
  auto u = combine_uncertainty(p.confidence, calibrated, sample_disagreement(p.samples),
                               hedging_score(p.reasoning), opts_.uncertainty);
  auto n = novelty_.novelty(p.task_type, embedding_of(p));
  if (!n)
    return n.error();
  if (parts)
    *parts = u;
  return features{u.value, *n, benefit_.benefit(p.task_type)};
}

expected<assessment> matrix::assess(const proposal& p) {
  assessment a;
  auto unit = embedding_of(p);
  auto f = features_of(p, &a.uncertainty);
  if (!f)
    return f.error();
  a.features = *f;
  a.fitted = model_.has_value();
  a.weights = model_ ? model_->weights : std::array<double, 4>{0, 1.0 / 3, 1.0 / 3, 1.0 / 3};
  a.score = score_of(a.features);
  a.threshold = threshold_.current();
  if (p.irreversible)
    a.threshold = std::min(a.threshold, opts_.irreversible_threshold);
  a.model_version = version_;
  // One draw per assessment whatever it decides: the stream of decisions is
  // a function of the seed and the proposals alone.
  double draw = std::uniform_real_distribution<double>(0, 1)(rng_);
  if (opts_.grey_zone > 0 && opts_.samples > 1 && p.samples.empty() &&
      std::abs(a.score - a.threshold) < opts_.grey_zone) {
    a.wants_samples = true;
    a.reason = format_reason(a);
    return a;
  }
  if (a.score >= a.threshold) {
    a.decision = decision::escalate;
    a.propensity = 1;
  } else if (draw < opts_.exploration) {
    a.decision = decision::escalate;
    a.explored = true;
    a.propensity = opts_.exploration;
  } else {
    a.decision = decision::proceed;
    a.propensity = 1 - opts_.exploration;
  }
  a.input_id = next_input_id_;
  if (auto added = restore_input(p.task_type, unit, next_input_id_); !added)
    return added.error();
  threshold_.observe(a.score);
  a.reason = format_reason(a);
  return a;
}

expected<void> matrix::restore_input(std::string_view task_type, std::span<const float> unit,
                                     std::uint64_t id) {
  if (auto ok = novelty_.add(task_type, unit, id); !ok)
    return ok;
  next_input_id_ = std::max(next_input_id_, id + 1);
  return {};
}

void matrix::learn(const outcome& o) {
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

refit_record matrix::refit() {
  model_ = fit_logistic(std::span<const labelled_case>{labelled_}, opts_.fit);
  calibration_.refit();
  labels_at_refit_ = labelled_.size();
  refit_record r;
  r.version = ++version_;
  r.labels = labelled_.size();
  r.weights = model_->weights;
  r.calibration = calibration_.fitted();
  return r;
}

void matrix::restore_refit(const refit_record& r) {
  logistic_model m;
  m.weights = r.weights;
  m.converged = true;
  model_ = m;
  calibration_.restore(r.calibration);
  version_ = r.version;
  labels_at_refit_ = std::min<std::size_t>(r.labels, labelled_.size());
}

} // namespace endure::escalation
