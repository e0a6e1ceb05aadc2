// Registry names (service/detail/registered_names.hpp) and the tree's
// children registering themselves as they start (runtime_services).
#include "endure/actors/service/detail/registered_names.hpp"

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>

#include "endure/actors/detail/runtime_services.hpp"
#include "endure/actors/service/protocol.hpp"

namespace endure::service::detail {

bool register_actor(caf::actor_system& sys, caf::atom_value name, const caf::actor& a,
                    const caf::actor& predecessor) {
  if (!a)
    return false;
  auto& registry = sys.registry();
  auto held = registry.get(name);
  if (held && held != caf::actor_cast<caf::strong_actor_ptr>(predecessor))
    return false;
  // CAF 0.17's put() keeps an existing entry (it emplaces), also one whose
  // actor is dead; its own clean-up at the actor's death does not erase it
  // either. A stale entry would name a stopped incarnation and, for a
  // detached actor, keep its thread (and ~actor_system) waiting forever.
  registry.erase(name);
  registry.put(name, caf::actor_cast<caf::strong_actor_ptr>(a));
  return true;
}

void unregister_actor(caf::actor_system& sys, caf::atom_value name, const caf::actor& ours) {
  if (!ours)
    return;
  auto& registry = sys.registry();
  if (registry.get(name) == caf::actor_cast<caf::strong_actor_ptr>(ours))
    registry.erase(name);
}

} // namespace endure::service::detail

namespace endure::detail {

caf::atom_value runtime_services::gateway_name() { return service::gateway_name; }
caf::atom_value runtime_services::escalation_name() { return service::escalation_name; }

void runtime_services::register_name(caf::atom_value name, const caf::actor& a,
                                     const caf::actor& predecessor) {
  if (registry_of)
    service::detail::register_actor(*registry_of, name, a, predecessor);
}

void runtime_services::unregister_names() {
  if (!registry_of)
    return;
  service::detail::unregister_actor(*registry_of, gateway_name(), gateway_actor());
  service::detail::unregister_actor(*registry_of, escalation_name(), escalation_actor());
}

} // namespace endure::detail
