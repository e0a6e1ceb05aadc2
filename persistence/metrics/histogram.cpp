// histogram: bucket search and snapshot (histogram.hpp).
#include "endure/persistence/metrics/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace endure::metrics {

std::uint64_t histogram_snapshot::count() const noexcept {
  return std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
}

histogram::histogram(std::initializer_list<double> bounds) {
  if (bounds.size() > max_bounds)
    throw std::invalid_argument("histogram: more than 24 bucket bounds");
  double previous = -INFINITY;
  for (double b : bounds) {
    if (!std::isfinite(b) || b <= previous)
      throw std::invalid_argument("histogram: bucket bounds must be finite and increasing");
    previous = b;
    bounds_[size_++] = b;
  }
}

void histogram::observe(double v) noexcept {
  if (std::isnan(v))
    return;
  auto end = bounds_.begin() + static_cast<std::ptrdiff_t>(size_);
  auto i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), end, v) - bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

histogram_snapshot histogram::snapshot() const {
  histogram_snapshot s;
  s.bounds.assign(bounds_.begin(), bounds_.begin() + static_cast<std::ptrdiff_t>(size_));
  s.counts.reserve(size_ + 1);
  for (std::size_t i = 0; i <= size_; ++i)
    s.counts.push_back(counts_[i].load(std::memory_order_relaxed));
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

} // namespace endure::metrics
