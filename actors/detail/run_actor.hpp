// Spawning a run actor. Internal: the run manager is the only caller.
#pragma once

#include <string>

#include <caf/fwd.hpp>

#include "endure/actors/detail/run_env.hpp"

namespace endure::detail {

/// Spawns the actor of run `run_id`, monitored by `parent`. It loads the
/// run from the journal (after a commit barrier if `barrier`) and resumes
/// it, or waits for a start request if the run does not exist yet.
caf::actor spawn_run_actor(caf::local_actor* parent, std::string run_id, run_env env,
                           bool barrier);

} // namespace endure::detail
