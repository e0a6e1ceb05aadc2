// Settings endure recommends for the CAF actor system a runtime lives in.
// The embedding program owns its actor_system_config; it may call this
// before creating the actor system (the `endure` CLI and bench/pipeline do).
#pragma once

#include <caf/fwd.hpp>

namespace endure {

/// Applies the recommended scheduler settings to `cfg`: the work-sharing
/// scheduler. A durable step is a chain of wake-ups across threads (activity
/// thread -> run actor -> journal writer -> run actor -> activity thread);
/// CAF's default work-stealing workers, once idle, poll in naps of 50 us and
/// are not woken by a message from a thread outside CAF, which adds up to
/// 50 us to each hop into an actor. Work-sharing workers sleep on a
/// condition variable that every enqueue signals. Measured with
/// bench/pipeline (nosync, one run at a time): per-step p50 162 -> 18.5 us.
void apply_recommended_settings(caf::actor_system_config& cfg);

} // namespace endure
