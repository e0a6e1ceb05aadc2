// Restart backoff: how long a supervisor waits before a restart.
//
// A pure function of the policy, the attempt number and a random number the
// caller draws, so it is tested without clocks or seeds.
#pragma once

#include "endure/supervisors/supervisor_flags.hpp"

#include <chrono>
#include <cstddef>

namespace endure {

/// Delay before restart number `attempt` (0 for the first restart inside the
/// intensity window): min(max, initial * multiplier^attempt), then reduced by
/// jitter * unit_random of itself. `unit_random` must be in [0, 1].
std::chrono::milliseconds backoff_delay(const backoff_policy& policy,
                                        std::size_t attempt,
                                        double unit_random) noexcept;

} // namespace endure
