// Percentile bootstrap confidence intervals of any metric over the scored
// cases of a decision log (metrics.hpp: a score and whether it was an
// error; resampling them, not whole records, copies two fields a draw). Deterministic given the seed, on every standard
// library: indices are drawn from std::mt19937_64 by rejection sampling
// written out here (std::uniform_int_distribution's algorithm differs
// between libstdc++ and libc++). Pure, no CAF, any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "endure/actors/escalation/metrics.hpp"

namespace endure::escalation {

struct bootstrap_options {
  /// Resamples drawn, each n cases with replacement. Default: 1000.
  std::size_t resamples = 1000;
  /// Coverage of the interval, in (0, 1). Default: 0.95.
  double level = 0.95;
  /// Seed of the std::mt19937_64 that draws the indices. Default: 1.
  std::uint64_t seed = 1;
};

/// A confidence interval and how many resamples it rests on.
struct interval {
  double low = 0;
  double high = 0;
  /// Resamples where the metric was defined (e.g. a resample without a
  /// positive has no AUROC and is left out).
  std::size_t resamples_used = 0;
};

/// A metric of a set of cases, empty where it has no meaning (auroc, ...).
using case_metric = std::function<std::optional<double>(std::span<const scored>)>;

/// The (1-level)/2 and (1+level)/2 quantiles (linear interpolation between
/// order statistics, numpy's default) of `metric` over the resamples where
/// it is defined. Resample r, for r = 0..resamples-1, takes its n indices as
/// consecutive draws of one generator seeded once with `seed`; index =
/// x mod n for the first draw x below 2^64 - (2^64 mod n). Empty for no
/// cases, resamples == 0, a level outside (0, 1), or a metric defined on
/// no resample.
std::optional<interval> bootstrap_interval(std::span<const scored> cases,
                                           const case_metric& metric,
                                           const bootstrap_options& options = {});

} // namespace endure::escalation
