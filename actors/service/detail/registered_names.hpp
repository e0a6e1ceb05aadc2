// The runtime's actors in the actor system's registry, by the names of
// service/protocol.hpp, so any actor (later: on any node) finds them
// without a reference from the runtime. Internal.
#pragma once

#include <caf/atom.hpp>
#include <caf/fwd.hpp>

namespace endure::service::detail {

/// Puts `a` under `name`, replacing what was there (a predecessor the
/// supervisor restarted).
void register_actor(caf::actor_system& sys, caf::atom_value name, const caf::actor& a);
/// Erases `name` if it still names `ours` (another runtime in the same
/// actor system may have taken the name over since).
void unregister_actor(caf::actor_system& sys, caf::atom_value name, const caf::actor& ours);

} // namespace endure::service::detail
