// evaluate(): checks the options, then puts the metrics, intervals and the
// temporal split of evaluation.hpp together.
#include "endure/actors/escalation/evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace endure::escalation {

namespace {

using score_of = double (*)(const decision_record&);

struct named_score {
  const char* name;
  score_of get;
};

constexpr named_score named_scores[] = {
  {"score", [](const decision_record& r) { return r.score; }},
  {"uncertainty", [](const decision_record& r) { return r.features.uncertainty; }},
  {"novelty", [](const decision_record& r) { return r.features.novelty; }},
  {"benefit", [](const decision_record& r) { return r.features.benefit; }},
};

std::vector<scored> cases_of(std::span<const decision_record> records, score_of get) {
  std::vector<scored> out;
  out.reserve(records.size());
  for (auto& r : records)
    out.push_back({get(r), r.error});
  return out;
}

estimate estimate_of(std::span<const scored> cases, const case_metric& m,
                     const bootstrap_options& boot) {
  return {m(cases), bootstrap_interval(cases, m, boot)};
}

ranking_report rank(std::span<const decision_record> records, named_score s,
                    const evaluation_options& options) {
  auto cases = cases_of(records, s.get);
  ranking_report out;
  out.name = s.name;
  out.auroc = estimate_of(cases, auroc, options.bootstrap);
  out.auprc = estimate_of(cases, auprc, options.bootstrap);
  for (double rate : options.budgets)
    out.caught.push_back({rate, caught_at(cases, rate)});
  out.curve = escalation_curve(cases, options.curve_steps);
  return out;
}

/// A number for a message: 1e+300, not 300 digits.
std::string shown(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", x);
  return text;
}

std::size_t past_size(std::size_t n, double fraction) {
  return static_cast<std::size_t>(std::floor(fraction * static_cast<double>(n) + 1e-9));
}

struct time_cut {
  std::size_t index;
  bool ties;  ///< records of one t fall on both sides (no other cut was possible)
};

/// `wanted`, moved to the nearest place where t changes (later first,
/// then earlier), so the past and the future never share a moment.
time_cut cut_between_times(const std::vector<decision_record>& ordered, std::size_t wanted) {
  auto boundary = [&](std::size_t i) { return ordered[i - 1].t != ordered[i].t; };
  for (auto i = wanted; i < ordered.size(); ++i)
    if (boundary(i))
      return {i, false};
  for (auto i = wanted; i > 1; --i)
    if (boundary(i - 1))
      return {i - 1, false};
  return {wanted, true};
}

temporal_report split_in_time(std::span<const decision_record> records,
                              const evaluation_options& options) {
  std::vector<decision_record> ordered(records.begin(), records.end());
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const decision_record& a, const decision_record& b) { return a.t < b.t; });
  auto cut = cut_between_times(ordered, past_size(ordered.size(), options.past_fraction));
  std::span<const decision_record> past{ordered.data(), cut.index};
  std::span<const decision_record> future{ordered.data() + cut.index, ordered.size() - cut.index};
  temporal_report out;
  out.ties_at_split = cut.ties;
  out.past_records = past.size();
  out.future_records = future.size();
  out.split_t = future.front().t;
  out.model = fit_logistic(past, options.fit);
  std::vector<scored> refit, logged;
  for (auto& r : future) {
    refit.push_back({out.model.predict(r.features), r.error});
    logged.push_back({r.score, r.error});
  }
  out.refit_auroc = auroc(refit);
  out.refit_auprc = auprc(refit);
  out.logged_auroc = auroc(logged);
  out.logged_auprc = auprc(logged);
  return out;
}

expected<void> check(std::size_t n, const evaluation_options& o) {
  auto bad = [](std::string what) {
    return make_error(errc::invalid_argument, "escalation evaluation: " + std::move(what));
  };
  if (n < 2)
    return bad("needs at least 2 records (a past and a future), got " + std::to_string(n));
  // Checked before it is multiplied and cast (a NaN or 1e300 cast to an
  // integer is undefined).
  if (!(o.past_fraction > 0 && o.past_fraction < 1) || past_size(n, o.past_fraction) == 0 ||
      past_size(n, o.past_fraction) == n)
    return bad("past_fraction " + shown(o.past_fraction) + " leaves the past or the " +
               "future of " + std::to_string(n) + " records empty (give a share in (0, 1))");
  if (o.ece_bins == 0 || o.curve_steps == 0 || o.bootstrap.resamples == 0)
    return bad("ece_bins, curve_steps and bootstrap.resamples must be at least 1");
  if (!(o.bootstrap.level > 0 && o.bootstrap.level < 1))
    return bad("bootstrap.level must be in (0, 1), got " + shown(o.bootstrap.level));
  if (!(o.fit.ridge > 0))
    return bad("fit.ridge must be > 0, got " + shown(o.fit.ridge));
  for (double b : o.budgets)
    if (!(b >= 0 && b <= 1))
      return bad("budget " + shown(b) + " is not an escalation rate in [0, 1]");
  return {};
}

} // namespace

expected<evaluation_report> evaluate(std::span<const decision_record> records,
                                     const evaluation_options& options) {
  if (auto ok = check(records.size(), options); !ok)
    return ok.error();
  evaluation_report out;
  out.records = records.size();
  for (auto& r : records) {
    out.errors += r.error ? 1 : 0;
    out.escalated += r.decision == decision::escalate ? 1 : 0;
  }
  for (auto& s : named_scores)
    out.rankings.push_back(rank(records, s, options));
  auto logged = cases_of(records, named_scores[0].get);
  out.ece = expected_calibration_error(logged, options.ece_bins);
  out.brier = brier_score(logged);
  out.temporal = split_in_time(records, options);
  return out;
}

} // namespace endure::escalation
