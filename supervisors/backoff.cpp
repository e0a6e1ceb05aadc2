// Restart backoff.
#include "endure/supervisors/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace endure {

std::chrono::milliseconds backoff_delay(const backoff_policy& policy,
                                        std::size_t attempt,
                                        double unit_random) noexcept {
  auto initial = static_cast<double>(policy.initial.count());
  auto cap = static_cast<double>(policy.max.count());
  // pow may overflow to inf for large attempts; min() then yields the cap.
  auto base = std::min(cap, initial * std::pow(policy.multiplier,
                                               static_cast<double>(attempt)));
  auto u = std::clamp(unit_random, 0.0, 1.0);
  auto delay = base * (1.0 - policy.jitter * u);
  return std::chrono::milliseconds{static_cast<long long>(std::max(0.0, delay))};
}

} // namespace endure
