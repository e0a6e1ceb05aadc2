// The metrics of metrics.hpp. Each sorts a copy of its input; logs are
// thousands of cases, so clarity wins over sharing one sort.
#include "endure/actors/escalation/metrics.hpp"

#include <algorithm>
#include <cmath>

namespace endure::escalation {

namespace {

std::size_t count_positives(std::span<const scored> cases) {
  return static_cast<std::size_t>(
    std::count_if(cases.begin(), cases.end(), [](const scored& c) { return c.positive; }));
}

/// A copy sorted by score, highest first.
std::vector<scored> by_score_descending(std::span<const scored> cases) {
  std::vector<scored> out(cases.begin(), cases.end());
  std::stable_sort(out.begin(), out.end(),
                   [](const scored& a, const scored& b) { return a.score > b.score; });
  return out;
}

/// End of the run of cases tied with sorted[begin].
std::size_t tie_end(const std::vector<scored>& sorted, std::size_t begin) {
  auto end = begin + 1;
  while (end < sorted.size() && sorted[end].score == sorted[begin].score)
    ++end;
  return end;
}

/// NaN or infinite scores cannot be ranked (a sort on them is undefined).
bool all_finite(std::span<const scored> cases) {
  return std::all_of(cases.begin(), cases.end(),
                     [](const scored& c) { return std::isfinite(c.score); });
}

bool all_probabilities(std::span<const scored> cases) {
  return std::all_of(cases.begin(), cases.end(),
                     [](const scored& c) { return c.score >= 0 && c.score <= 1; });
}

/// The bin [b/B, (b+1)/B) holding `score` in [0, 1] (the last bin holds
/// 1). score * B alone can land one bin off at an edge (15/22 * 22 is
/// 14.999...), so the edges themselves decide.
std::size_t bin_of(double score, std::size_t bins) {
  auto n = static_cast<double>(bins);
  auto b = std::min(static_cast<std::size_t>(score * n), bins - 1);
  if (b + 1 < bins && score >= static_cast<double>(b + 1) / n)
    ++b;
  else if (b > 0 && score < static_cast<double>(b) / n)
    --b;
  return b;
}

} // namespace

std::optional<double> auroc(std::span<const scored> cases) {
  auto pos = count_positives(cases);
  auto neg = cases.size() - pos;
  if (pos == 0 || neg == 0 || !all_finite(cases))
    return std::nullopt;
  // Ranks 1..n ascending; descending order gives rank n - index.
  auto sorted = by_score_descending(cases);
  double rank_sum = 0;
  for (std::size_t i = 0; i < sorted.size();) {
    auto end = tie_end(sorted, i);
    // Average of ranks n-i .. n-end+1.
    double avg = static_cast<double>(sorted.size()) - (static_cast<double>(i + end) - 1) / 2.0;
    for (auto j = i; j < end; ++j)
      if (sorted[j].positive)
        rank_sum += avg;
    i = end;
  }
  double p = static_cast<double>(pos);
  double u = rank_sum - p * (p + 1) / 2;
  return u / (p * static_cast<double>(neg));
}

std::optional<double> auprc(std::span<const scored> cases) {
  auto pos = count_positives(cases);
  if (pos == 0 || !all_finite(cases))
    return std::nullopt;
  auto sorted = by_score_descending(cases);
  double ap = 0, recall_before = 0;
  std::size_t tp = 0;
  for (std::size_t i = 0; i < sorted.size();) {
    auto end = tie_end(sorted, i);
    for (auto j = i; j < end; ++j)
      tp += sorted[j].positive ? 1 : 0;
    double recall = static_cast<double>(tp) / static_cast<double>(pos);
    double precision = static_cast<double>(tp) / static_cast<double>(end);
    ap += (recall - recall_before) * precision;
    recall_before = recall;
    i = end;
  }
  return ap;
}

std::optional<double> expected_calibration_error(std::span<const scored> cases,
                                                 std::size_t bins) {
  if (cases.empty() || bins == 0 || !all_probabilities(cases))
    return std::nullopt;
  std::vector<double> score_sum(bins, 0), positives(bins, 0), count(bins, 0);
  for (auto& c : cases) {
    auto b = bin_of(c.score, bins);
    score_sum[b] += c.score;
    positives[b] += c.positive ? 1 : 0;
    count[b] += 1;
  }
  double ece = 0;
  for (std::size_t b = 0; b < bins; ++b)
    if (count[b] > 0)
      ece += count[b] / static_cast<double>(cases.size()) *
             std::abs(positives[b] / count[b] - score_sum[b] / count[b]);
  return ece;
}

std::optional<double> brier_score(std::span<const scored> cases) {
  if (cases.empty() || !all_probabilities(cases))
    return std::nullopt;
  double sum = 0;
  for (auto& c : cases) {
    double d = c.score - (c.positive ? 1.0 : 0.0);
    sum += d * d;
  }
  return sum / static_cast<double>(cases.size());
}

namespace {

/// caught_at on cases already sorted (by_score_descending) with `pos`
/// positives (at least one), for a rate in [0, 1].
double caught_in_sorted(const std::vector<scored>& sorted, std::size_t pos, double rate) {
  // The epsilon keeps 0.3 * 10 (2.9999999999999996) at 3 escalations.
  auto budget = static_cast<std::size_t>(std::floor(rate * static_cast<double>(sorted.size()) + 1e-9));
  double caught = 0;
  for (std::size_t i = 0; i < sorted.size() && i < budget;) {
    auto end = tie_end(sorted, i);
    double group_pos = 0;
    for (auto j = i; j < end; ++j)
      group_pos += sorted[j].positive ? 1 : 0;
    double taken = static_cast<double>(std::min(end, budget) - i);
    caught += group_pos * taken / static_cast<double>(end - i);
    i = end;
  }
  return caught / static_cast<double>(pos);
}

} // namespace

std::optional<double> caught_at(std::span<const scored> cases, double rate) {
  auto pos = count_positives(cases);
  if (pos == 0 || !all_finite(cases) || std::isnan(rate))
    return std::nullopt;
  return caught_in_sorted(by_score_descending(cases), pos, std::clamp(rate, 0.0, 1.0));
}

std::vector<curve_point> escalation_curve(std::span<const scored> cases, std::size_t steps) {
  std::vector<curve_point> out;
  auto pos = count_positives(cases);
  if (steps == 0 || pos == 0 || !all_finite(cases))
    return out;
  auto sorted = by_score_descending(cases);  // once, not once per point
  for (std::size_t k = 0; k <= steps; ++k) {
    double rate = static_cast<double>(k) / static_cast<double>(steps);
    out.push_back({rate, caught_in_sorted(sorted, pos, rate)});
  }
  return out;
}

} // namespace endure::escalation
