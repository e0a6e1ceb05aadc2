// Settings endure recommends for the CAF actor system a runtime lives in.
// The embedding program owns its actor_system_config; it may call this
// before creating the actor system (the `endure` CLI and bench/pipeline do).
#pragma once

#include <caf/fwd.hpp>

#include <chrono>

namespace endure {

/// Applies the recommended scheduler to `cfg`: work sharing (one central
/// queue) where one idle worker polls for `scheduler_spin` before sleeping.
/// A durable step is a chain of hand-offs between threads (run actor ->
/// journal writer -> run actor); CAF's default work-stealing workers, once
/// idle, nap 50 us at a time and are not woken by a message from outside
/// CAF, and plain work-sharing workers sleep and need a wake-up (~20-30 us
/// on a VM) for every reply from the writer. With the poller, the reply to
/// a commit finds a worker awake. Cost: at most one core busy for
/// `scheduler_spin` after each burst of work; zero turns polling off.
/// Also one worker per core unless `cfg` already sets
/// scheduler.max-threads (CAF's default is at least 4).
/// Measured with bench/pipeline: see bench/README.md.
void apply_recommended_settings(caf::actor_system_config& cfg,
                                std::chrono::microseconds scheduler_spin
                                = std::chrono::microseconds{300});

} // namespace endure
