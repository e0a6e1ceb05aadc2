// The recommended actor system settings (see system_settings.hpp).
#include "endure/actors/system_settings.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/scheduler/coordinator.hpp>

#include <algorithm>
#include <thread>

#include "endure/actors/detail/spinning_sharing.hpp"

namespace endure {

void apply_recommended_settings(caf::actor_system_config& cfg,
                                std::chrono::microseconds scheduler_spin) {
  cfg.set("scheduler.policy", caf::atom("sharing"));
  // One worker per core (CAF's default is at least 4): run actors never
  // block (blocking steps go to the activity pool), so more workers than
  // cores only preempt each other and the journal writer. A count the
  // program set itself is kept.
  if (!caf::get_if<size_t>(&cfg, "scheduler.max-threads"))
    cfg.set("scheduler.max-threads",
            static_cast<size_t>(std::max(1u, std::thread::hardware_concurrency())));
  // CAF uses a scheduler module given by a factory instead of its own.
  cfg.module_factories.push_back(
    [scheduler_spin](caf::actor_system& sys) -> caf::actor_system::module* {
      auto* scheduler = new caf::scheduler::coordinator<detail::spinning_sharing>(sys);
      scheduler->data().spin = scheduler_spin;
      return scheduler;
    });
}

} // namespace endure
