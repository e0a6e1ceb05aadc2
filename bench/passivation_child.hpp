// The scale scenarios of bench/pipeline --scale, run in the child process
// (see pipeline_child.hpp): many runs parked on a signal, passivated, then
// woken after a restart. Each prints one result line on stdout.
#pragma once

#include "endure/actors/endure.hpp"

namespace endure::bench {

struct child_args;

/// Registers "wait_for_go": waits for signal "go" (no timeout), then ends.
void register_wait_for_go(workflow_registry& registry);

/// "passivate": starts `runs` wait_for_go runs, waits until no run actor
/// is left, prints "passivate seconds S pss_kib K live N".
int passivate_runs(runtime& rt, const child_args& a);

/// "wake": (after a restart) signals every run from 32 threads and waits
/// for all results; prints "wake seconds S bad N", seconds from the
/// runtime's open (recovery included) to the last result.
int wake_runs(runtime& rt, const child_args& a, std::chrono::steady_clock::time_point opened);

} // namespace endure::bench
