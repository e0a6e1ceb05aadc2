// Supervisor flags: the strategy, restart intensity and restart backoff.
//
// Plain data, validated together with the child specs before anything starts
// (validate.hpp). Read by the supervisor actor on its own thread only.
#pragma once

#include <chrono>
#include <cstdint>

namespace endure {

/// Which children a supervisor restarts when one of them has to be.
enum class restart_strategy : std::uint8_t {
  /// Only the child that exited.
  one_for_one,
  /// All children: the others are stopped (reverse start order), then all
  /// are started again in start order.
  one_for_all,
  /// The child that exited and every child started after it.
  rest_for_one,
};

/// Delay before a restart: initial * multiplier^(n-1) for the n-th restart
/// inside the intensity window, capped at `max`, minus up to `jitter` of it
/// chosen at random so that siblings restarting together spread out.
struct backoff_policy {
  /// Zero restarts at once. Default: 100 ms.
  std::chrono::milliseconds initial{100};
  /// Must be >= initial. Default: 10 s.
  std::chrono::milliseconds max{10'000};
  /// Must be >= 1. Default: 2.
  double multiplier = 2.0;
  /// Fraction in [0, 1] of the delay that may be taken off at random; 1 is
  /// "full jitter". Default: 0.2.
  double jitter = 0.2;
};

struct supervisor_flags {
  /// Default: one_for_one.
  restart_strategy strategy = restart_strategy::one_for_one;
  /// Most restarts allowed inside `period`; one more and the supervisor gives
  /// up: it stops its children and exits so that its parent decides.
  /// Must be >= 0. Default: 3.
  int intensity = 3;
  /// The sliding window the intensity counts in. Must be > 0. Default: 5 s.
  std::chrono::milliseconds period{5000};
  /// Default: see backoff_policy.
  backoff_policy backoff;
};

} // namespace endure
