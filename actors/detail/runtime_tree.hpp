// The runtime's supervision tree:
//
//   endure.root (rest_for_one)
//     activity_workers  the threads that run blocking step bodies
//     runs              the run supervisor (run_manager.hpp): every run actor
//     timer_service     wakes passivated runs whose timers are due
//
// rest_for_one because each child needs the ones before it: runs submit to
// the activity workers, the timer service wakes runs. A crash restarts the
// child and everything after it; everything durable is in the journal, so a
// restarted run supervisor resumes every unfinished run from there.
// Shutdown stops them in reverse order: no new timers fire, every run actor
// stops, then the workers finish the step bodies in flight. The journal is
// not a child: it is opened before the tree and closed after it, since no
// restart can repair a disk. Internal.
#pragma once

#include <caf/fwd.hpp>

#include "endure/persistence/error.hpp"

namespace endure::detail {

struct runtime_services;

/// Spawns the root supervisor and its children. `services` must outlive it.
expected<caf::actor> spawn_runtime_tree(caf::actor_system& sys, runtime_services& services);

} // namespace endure::detail
