// Static supervisors: spawn one from validated specs.
//
// A supervisor is a CAF event-based actor (detail/supervisor_actor.hpp)
// that owns its children: it starts them in order, monitors them, applies
// its strategy when one exits, restarts after the backoff (a delayed
// message, never blocking), and stops them in reverse start order when it is
// asked to exit (any exit message other than normal, e.g. user_shutdown) or
// when its intensity is exceeded. In the latter case it exits with
// sup_errc::intensity_exceeded naming the child and its last exit reason,
// so that its parent (which monitors it) decides: escalation up the tree.
//
// Messages it answers besides exits: (count_atom) -> running children,
// (find_child_atom, id) -> caf::actor of a running child (atoms.hpp).
#pragma once

#include "endure/persistence/error.hpp"
#include "endure/supervisors/child_spec.hpp"
#include "endure/supervisors/supervisor_flags.hpp"

#include <caf/actor.hpp>

#include <string>
#include <vector>

namespace endure {

/// Validates flags and children (validate.hpp) and spawns the supervisor;
/// its children start right away, in order. A child whose start fails makes
/// the supervisor stop the ones already started and exit with
/// sup_errc::start_failed. Monitor the result to learn how it ended.
expected<caf::actor> spawn_supervisor(caf::actor_system& sys,
                                      supervisor_flags flags,
                                      std::vector<child_spec> children);

/// The same, spawned by `parent` (e.g. inside a start function).
expected<caf::actor> spawn_supervisor(caf::local_actor& parent,
                                      supervisor_flags flags,
                                      std::vector<child_spec> children);

/// A validated child spec that starts a nested supervisor: type supervisor,
/// restart permanent, shutdown infinity (a supervisor needs the time to stop
/// its own children in order). Change the fields afterwards if needed.
expected<child_spec> supervisor_child(std::string id, supervisor_flags flags,
                                      std::vector<child_spec> children);

} // namespace endure
