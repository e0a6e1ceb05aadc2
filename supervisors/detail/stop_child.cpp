// Sends a child the first stop signal of its shutdown policy.
#include "endure/supervisors/detail/stop_child.hpp"

#include <caf/actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/local_actor.hpp>

namespace endure::detail {

bool send_stop(caf::local_actor& self, const caf::actor& child,
               const shutdown_policy& policy) {
  if (policy.how == shutdown_policy::mode::brutal_kill) {
    self.send_exit(child, caf::exit_reason::kill);
    return false;
  }
  self.send_exit(child, caf::exit_reason::user_shutdown);
  return policy.how == shutdown_policy::mode::timeout;
}

} // namespace endure::detail
