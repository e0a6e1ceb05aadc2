// Sends a child the first stop signal of its shutdown policy.
//
// Shared by the static and the dynamic supervisor; runs on the
// supervisor's thread. The caller arms the kill timer (its own message
// type) when this returns true.
#pragma once

#include "endure/supervisors/child_spec.hpp"

#include <caf/fwd.hpp>

namespace endure::detail {

/// brutal_kill: sends exit_reason::kill and returns false. timeout and
/// infinity: send exit_reason::user_shutdown; returns true for timeout, so
/// the caller schedules a kill after policy.timeout.
bool send_stop(caf::local_actor& self, const caf::actor& child,
               const shutdown_policy& policy);

} // namespace endure::detail
