// Dynamic supervisors: validation, then spawn.
#include "endure/supervisors/dynamic_supervisor.hpp"

#include "endure/supervisors/detail/dynamic_supervisor_actor.hpp"
#include "endure/supervisors/validate.hpp"

#include <caf/actor_system.hpp>
#include <caf/local_actor.hpp>

namespace endure {

expected<void> validate(const dynamic_supervisor_flags& flags,
                        const dynamic_child_template& child) {
  if (flags.intensity < 0)
    return make_error(errc::invalid_argument,
                      "flags.intensity: must not be negative");
  if (flags.period.count() <= 0)
    return make_error(errc::invalid_argument, "flags.period: must be positive");
  if (auto ok = validate(flags.backoff, "flags.backoff"); !ok)
    return ok;
  if (!child.start)
    return make_error(errc::invalid_argument,
                      "child.start: missing start function");
  return validate(child.shutdown, "child.shutdown");
}

expected<caf::actor> spawn_dynamic_supervisor(caf::actor_system& sys,
                                              dynamic_supervisor_flags flags,
                                              dynamic_child_template child) {
  if (auto ok = validate(flags, child); !ok)
    return ok.error();
  return sys.spawn<detail::dynamic_supervisor_actor>(std::move(flags),
                                                     std::move(child));
}

expected<child_spec> dynamic_supervisor_child(std::string id,
                                              dynamic_supervisor_flags flags,
                                              dynamic_child_template child) {
  if (auto ok = validate(flags, child); !ok)
    return ok.error();
  child_spec spec;
  spec.id = std::move(id);
  spec.type = child_type::supervisor;
  spec.shutdown = shutdown_policy::infinity();
  spec.start = [flags = std::move(flags),
                child = std::move(child)](caf::local_actor& sup) {
    return sup.spawn<detail::dynamic_supervisor_actor>(flags, child);
  };
  return spec;
}

} // namespace endure
