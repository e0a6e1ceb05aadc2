// The run manager, the runtime's run supervisor: owns every run actor of the
// process. It spawns a run on start, signal, cancel or wake (the timer
// service wakes runs whose timers are due); keeps at most `max_active`
// running (others queue); resumes unfinished runs at startup at a bounded
// rate; tells waiters when runs end. A run actor that dies abnormally is
// restarted from its journal after a backoff; more crashes than the
// intensity allows within the period quarantine the run, with the reason in
// its status, while every other run goes on. On shutdown it stops every run
// actor and exits once all are gone. Internal.
#pragma once

#include <chrono>
#include <cstddef>

#include <caf/fwd.hpp>

#include "endure/actors/detail/run_env.hpp"
#include "endure/supervisors/supervisor_flags.hpp"

namespace endure::detail {

struct manager_options {
  /// Most run actors alive at once; 0 = no limit.
  std::size_t max_active = 0;
  /// Unfinished runs resumed per tick at startup.
  std::size_t recovery_batch = 1000;
  /// Period of the recovery ticks.
  std::chrono::milliseconds tick{50};
  /// Crashes of one run's actor allowed within `restart_period`; one more
  /// quarantines the run.
  int restart_intensity = 3;
  std::chrono::milliseconds restart_period{60'000};
  /// Delay before restarting a crashed run actor.
  backoff_policy restart_backoff;
  /// Resume every unfinished run once started.
  bool recover = false;
  /// Once this many run actors stopped since the last time, the freed heap
  /// is returned to the OS (release_free_heap, on an activity thread)
  /// `trim_interval` later; 0 = never.
  std::size_t trim_after_stops = 1000;
  std::chrono::milliseconds trim_interval{1000};
  /// Start every run actor behind a commit barrier: set when this manager
  /// replaces one that died, whose run actors may still have commits queued.
  bool barrier_all = false;
};

/// Spawns the run manager as a child of `parent` (a supervisor).
caf::actor spawn_run_manager(caf::local_actor& parent, run_env env, manager_options opts);

} // namespace endure::detail
