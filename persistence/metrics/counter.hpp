// A monotonic counter for /metrics: one relaxed atomic add on the hot path,
// read at scrape time from any thread. Relaxed is enough: a scrape wants a
// recent value, not an ordering with other memory. Lives in persistence/
// because it is the bottom layer every other one may include; no
// dependencies. Any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace endure::metrics {

class counter {
public:
  counter() noexcept = default;
  counter(const counter&) = delete;
  counter& operator=(const counter&) = delete;

  void add(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> value_{0};
};

} // namespace endure::metrics
