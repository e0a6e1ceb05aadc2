// The runtime's actors in the actor system's registry, by the names of
// service/protocol.hpp, so any actor (later: on any node) finds them
// without a reference from the runtime. Internal.
#pragma once

#include <caf/actor.hpp>
#include <caf/atom.hpp>

namespace endure::service::detail {

/// Puts `a` under `name` if the name is free or names `predecessor` (the
/// incarnation a supervisor restarted); else leaves it to its holder (a
/// runtime opened earlier in the same actor system) and returns false.
bool register_actor(caf::actor_system& sys, caf::atom_value name, const caf::actor& a,
                    const caf::actor& predecessor = {});
/// Erases `name` if it still names `ours` (another runtime in the same
/// actor system may have taken the name over since).
void unregister_actor(caf::actor_system& sys, caf::atom_value name, const caf::actor& ours);

} // namespace endure::service::detail
