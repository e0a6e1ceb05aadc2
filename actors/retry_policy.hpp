// Retry policy of a step: a documented value type with defaults, read by the
// run actor when an attempt fails (Temporal's shape).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "endure/persistence/failure.hpp"

namespace endure {

struct retry_policy {
  /// Attempts in all, the first included; 1 means never retry. Default: 5.
  std::uint32_t max_attempts = 5;
  /// Backoff before the second attempt. Default: 100 ms.
  std::chrono::milliseconds initial_interval{100};
  /// Each further backoff is the previous one times this. Default: 2.0.
  double multiplier = 2.0;
  /// Cap on one backoff. Default: 30 s.
  std::chrono::milliseconds max_interval{30'000};
  /// Full jitter: wait a uniform random time in [0, backoff]. Default: true.
  bool jitter = true;
  /// Give up once this much time passed since the first attempt started;
  /// zero means no limit. Default: 0.
  std::chrono::milliseconds max_elapsed{0};
  /// An attempt running longer is abandoned and counted as a retryable
  /// timeout; zero means the operation's default: no limit for ctx.step,
  /// the call's deadline + 2 s for ctx.llm / ctx.http. Default: 0.
  std::chrono::milliseconds attempt_timeout{0};
};

/// What to do after attempt `attempt` (1-based) failed with `f`.
struct retry_decision {
  bool retry = false;
  std::chrono::milliseconds delay{0};  ///< wait before the next attempt
};

/// Pure: fatal and context-length failures are never retried; otherwise
/// retry while attempts and elapsed time allow. Rate-limited failures wait
/// at least their retry-after. `unit_random` in [0,1) draws the jitter.
retry_decision decide_retry(const retry_policy& p, const failure& f,
                            std::uint32_t attempt, std::chrono::milliseconds elapsed,
                            double unit_random);

} // namespace endure
