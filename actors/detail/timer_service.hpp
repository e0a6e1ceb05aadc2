// The timer service: polls the journal's timer index and wakes each run
// whose timer is due, through the run supervisor (which spawns passivated
// runs again; active runs fire their own timers and ignore the wake).
// Rows of runs that ended or are quarantined are erased when found, so no
// number of them can crowd out live timers. Stateless between ticks: the
// journal is the timer wheel, so a restarted service loses nothing.
// Internal.
#pragma once

#include <chrono>

#include <caf/fwd.hpp>

namespace endure {
class journal;
}

namespace endure::detail {

struct timer_service_options {
  /// Poll period; a due timer fires at most this late (plus scheduling).
  std::chrono::milliseconds tick{50};
  /// Most due timers read per tick; the rest come on the next one.
  std::size_t max_per_tick = 10'000;
};

/// Spawns the service as a child of `parent`; it wakes runs through `runs`.
caf::actor spawn_timer_service(caf::local_actor& parent, journal& store,
                               caf::actor runs, timer_service_options opts);

} // namespace endure::detail
