// The percentile bootstrap of bootstrap.hpp.
#include "endure/actors/escalation/bootstrap.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace endure::escalation {

namespace {

/// A uniform index in [0, n), n > 0, without modulo bias.
std::size_t draw_index(std::mt19937_64& gen, std::uint64_t n) {
  // 2^64 mod n, computed without 128-bit arithmetic.
  const std::uint64_t excess = (0 - n) % n;
  const std::uint64_t limit = std::uint64_t(0) - excess; // 2^64 - excess; 0 means 2^64
  for (;;) {
    std::uint64_t x = gen();
    if (excess == 0 || x < limit)
      return static_cast<std::size_t>(x % n);
  }
}

/// Quantile q in [0, 1] of sorted values, linear between order statistics.
double quantile(const std::vector<double>& sorted, double q) {
  double pos = q * static_cast<double>(sorted.size() - 1);
  auto lo = static_cast<std::size_t>(std::floor(pos));
  auto hi = std::min(lo + 1, sorted.size() - 1);
  double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

} // namespace

std::optional<interval> bootstrap_interval(std::span<const scored> cases,
                                           const case_metric& metric,
                                           const bootstrap_options& options) {
  if (cases.empty() || options.resamples == 0 || !(options.level > 0 && options.level < 1))
    return std::nullopt;
  std::mt19937_64 gen{options.seed};
  std::vector<scored> sample(cases.size());
  std::vector<double> values;
  values.reserve(options.resamples);
  for (std::size_t r = 0; r < options.resamples; ++r) {
    for (auto& c : sample)
      c = cases[draw_index(gen, cases.size())];
    if (auto v = metric(sample))
      values.push_back(*v);
  }
  if (values.empty())
    return std::nullopt;
  std::sort(values.begin(), values.end());
  double tail = (1 - options.level) / 2;
  return interval{quantile(values, tail), quantile(values, 1 - tail), values.size()};
}

} // namespace endure::escalation
