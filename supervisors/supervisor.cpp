// Static supervisors: validation, then spawn.
#include "endure/supervisors/supervisor.hpp"

#include "endure/supervisors/detail/supervisor_actor.hpp"
#include "endure/supervisors/validate.hpp"

#include <caf/actor_system.hpp>
#include <caf/local_actor.hpp>

namespace endure {

expected<caf::actor> spawn_supervisor(caf::actor_system& sys,
                                      supervisor_flags flags,
                                      std::vector<child_spec> children) {
  if (auto ok = validate(flags, children); !ok)
    return ok.error();
  return sys.spawn<detail::supervisor_actor>(flags, std::move(children));
}

expected<caf::actor> spawn_supervisor(caf::local_actor& parent,
                                      supervisor_flags flags,
                                      std::vector<child_spec> children) {
  if (auto ok = validate(flags, children); !ok)
    return ok.error();
  return parent.spawn<detail::supervisor_actor>(flags, std::move(children));
}

expected<child_spec> supervisor_child(std::string id, supervisor_flags flags,
                                      std::vector<child_spec> children) {
  if (auto ok = validate(flags, children); !ok)
    return ok.error();
  child_spec spec;
  spec.id = std::move(id);
  spec.type = child_type::supervisor;
  spec.shutdown = shutdown_policy::infinity();
  spec.start = [flags, children = std::move(children)](caf::local_actor& sup) {
    return sup.spawn<detail::supervisor_actor>(flags, children);
  };
  return spec;
}

} // namespace endure
