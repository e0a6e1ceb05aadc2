// The timer service (see detail/timer_service.hpp).
#include "actors/detail/timer_service.hpp"

#include <caf/all.hpp>

#include "actors/atoms.hpp"
#include "actors/detail/clock.hpp"
#include "persistence/journal.hpp"
#include "supervisors/exit_reasons.hpp"

namespace endure::detail {

namespace {

caf::behavior timer_service(caf::event_based_actor* self, const journal* store, caf::actor runs,
                            timer_service_options opts) {
  exit_on_exception(self);
  self->send(self, atoms::tick::value);
  return {
    [=](atoms::tick) {
      if (auto due = store->due_timers(now_ms(), opts.max_per_tick))
        for (auto& t : *due)
          self->send(runs, atoms::wake::value, t.run_id);
      self->delayed_send(self, opts.tick, atoms::tick::value);
    },
  };
}

} // namespace

caf::actor spawn_timer_service(caf::local_actor& parent, const journal& store, caf::actor runs,
                               timer_service_options opts) {
  return parent.spawn(timer_service, &store, std::move(runs), opts);
}

} // namespace endure::detail
