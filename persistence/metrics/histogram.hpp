// A histogram for /metrics with fixed bucket bounds (Prometheus' shape: a
// count per bucket "value <= bound", a +Inf bucket, a sum). Observing is a
// binary search over at most max_bounds doubles, one relaxed atomic add on
// the bucket and one on the sum: no lock, no allocation. The bounds are set
// at construction and never change. snapshot() reads each atomic once, so a
// snapshot taken during observations may hold a sum a few observations
// apart from its counts; its count is the sum of its buckets, so the +Inf
// bucket and _count always agree. Any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace endure::metrics {

/// A histogram's values at one moment: plain values.
struct histogram_snapshot {
  /// Upper bounds, increasing (the +Inf bucket is implied).
  std::vector<double> bounds;
  /// Observations per bucket, not cumulative: counts[i] for
  /// bounds[i-1] < v <= bounds[i]; counts.back() (one past the bounds) for
  /// v above the last bound. Size: bounds.size() + 1.
  std::vector<std::uint64_t> counts;
  /// Sum of all observed values.
  double sum = 0;

  /// Observations in all.
  std::uint64_t count() const noexcept;
};

class histogram {
public:
  static constexpr std::size_t max_bounds = 24;

  /// `bounds` must be finite and strictly increasing, at most max_bounds of
  /// them; otherwise std::invalid_argument (bounds are constants of the
  /// code, so this is a programming error found by the first test).
  explicit histogram(std::initializer_list<double> bounds);
  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

  /// Counts `v` in the first bucket whose bound is >= v (or +Inf). NaN is
  /// ignored (it has no bucket).
  void observe(double v) noexcept;

  histogram_snapshot snapshot() const;

private:
  std::array<double, max_bounds> bounds_{};
  std::size_t size_ = 0;
  std::array<std::atomic<std::uint64_t>, max_bounds + 1> counts_{};
  std::atomic<double> sum_{0};
};

} // namespace endure::metrics
