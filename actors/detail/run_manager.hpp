// The run manager: owns every run actor of the process. It spawns a run on
// start, signal, cancel or a due timer; keeps at most `max_active` running
// (others queue); resumes unfinished runs at startup at a bounded rate;
// wakes passivated runs whose timers are due; tells waiters when runs end;
// restarts a run actor that crashed, from its journal. Internal.
#pragma once

#include <chrono>
#include <cstddef>

#include <caf/fwd.hpp>

#include "actors/detail/run_env.hpp"

namespace endure::detail {

struct manager_options {
  /// Most run actors alive at once; 0 = no limit.
  std::size_t max_active = 0;
  /// Unfinished runs resumed per tick at startup.
  std::size_t recovery_batch = 1000;
  /// Period of the timer poll and recovery ticks.
  std::chrono::milliseconds tick{50};
  /// Restarts of a crashed run actor before its run is quarantined.
  std::uint32_t max_actor_restarts = 3;
};

caf::actor spawn_run_manager(caf::actor_system& sys, run_env env, manager_options opts);

} // namespace endure::detail
