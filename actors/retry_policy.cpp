// decide_retry: exponential backoff with full jitter, capped.
#include "endure/actors/retry_policy.hpp"

#include <algorithm>
#include <cmath>

namespace endure {

retry_decision decide_retry(const retry_policy& p, const failure& f,
                            std::uint32_t attempt, std::chrono::milliseconds elapsed,
                            double unit_random) {
  if (f.cls == failure_class::fatal || f.cls == failure_class::context_length_exceeded)
    return {};
  if (attempt >= p.max_attempts)
    return {};
  auto backoff = static_cast<double>(p.initial_interval.count())
                 * std::pow(p.multiplier, static_cast<double>(attempt - 1));
  backoff = std::min(backoff, static_cast<double>(p.max_interval.count()));
  if (p.jitter)
    backoff *= std::clamp(unit_random, 0.0, 1.0);
  auto delay = std::chrono::milliseconds{static_cast<std::int64_t>(backoff)};
  if (f.retry_after)
    delay = std::max(delay, *f.retry_after);
  if (p.max_elapsed.count() > 0 && elapsed + delay > p.max_elapsed)
    return {};
  return {true, delay};
}

} // namespace endure
