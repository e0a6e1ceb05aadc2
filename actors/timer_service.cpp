// The timer service (see detail/timer_service.hpp).
#include "endure/actors/detail/timer_service.hpp"

#include <caf/all.hpp>

#include "endure/actors/atoms.hpp"
#include "endure/actors/detail/clock.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/log.hpp"
#include "endure/supervisors/exit_reasons.hpp"

namespace endure::detail {

namespace {

struct timer_state {
  /// Consecutive ticks whose read failed (logged at the first and then
  /// at powers of two, so a broken disk does not flood the log).
  std::uint64_t failed_ticks = 0;
};

/// Wakes the runs of due timers; erases the rows of runs that ended or are
/// quarantined (left behind by a crash-loop quarantine or an older
/// version), so they cannot crowd out live timers.
void fire(caf::stateful_actor<timer_state>* self, journal* store, const caf::actor& runs,
          const std::vector<timer_entry>& due) {
  write_batch stale;
  for (auto& t : due) {
    auto meta = store->run(t.run_id);
    bool ended = !meta ? meta.error().code == errc::not_found
                       : is_terminal(meta->status) || meta->status == run_status::quarantined;
    if (ended)
      stale.erase_timer_if_ended(t);  // re-checked inside the commit
    else if (meta)
      self->send(runs, atoms::wake::value, t.run_id);
  }
  if (!stale.empty())
    store->commit(std::move(stale), [](const expected<void>& r) {
      if (!r)
        log::warn("timer service: cannot erase timers of ended runs: " + r.error().to_string()
                  + "; trying again at the next tick");
    });
}

caf::behavior timer_service(caf::stateful_actor<timer_state>* self, journal* store,
                            caf::actor runs, timer_service_options opts) {
  exit_on_exception(self);
  self->send(self, atoms::tick::value);
  return {
    [=](atoms::tick) {
      auto due = store->due_timers(now_ms(), opts.max_per_tick);
      if (due) {
        self->state.failed_ticks = 0;
        fire(self, store, runs, *due);
      } else if (auto n = ++self->state.failed_ticks; (n & (n - 1)) == 0) {
        log::error("timer service: cannot read due timers (" + due.error().to_string()
                   + "); no timer fires until this is fixed (failed " + std::to_string(n)
                   + " times in a row)");
      }
      self->delayed_send(self, opts.tick, atoms::tick::value);
    },
  };
}

} // namespace

caf::actor spawn_timer_service(caf::local_actor& parent, journal& store, caf::actor runs,
                               timer_service_options opts) {
  return parent.spawn(timer_service, &store, std::move(runs), opts);
}

} // namespace endure::detail
