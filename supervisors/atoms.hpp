// The supervisors' CAF 0.17 message vocabulary, kept in this one file so a
// move to a newer CAF touches only here (and exit_reasons.hpp).
//
// Dynamic supervisor protocol (request/response, any sender):
//   (start_child_atom, std::string id) -> caf::actor  | error duplicate_child
//                                                      | error shutting_down
//                                                      | error start_failed
//   (stop_child_atom, std::string id)  -> caf::unit once the child is gone
//                                                      | error unknown_child
//   (count_atom)                       -> std::uint64_t children (running or
//                                         waiting for a restart)
//   (find_child_atom, std::string id)  -> caf::actor  | error unknown_child
// The other atoms are internal timers of the supervisors.
#pragma once

#include <caf/atom.hpp>

namespace endure {

using start_child_atom = caf::atom_constant<caf::atom("sup_start")>;
using stop_child_atom = caf::atom_constant<caf::atom("sup_stop")>;
using count_atom = caf::atom_constant<caf::atom("sup_count")>;
using find_child_atom = caf::atom_constant<caf::atom("sup_find")>;

namespace detail {

/// Delayed message: the restart backoff is over.
using restart_atom = caf::atom_constant<caf::atom("sup_rstrt")>;
/// Delayed message: a child's shutdown timeout expired; kill it.
using kill_atom = caf::atom_constant<caf::atom("sup_kill")>;

} // namespace detail

} // namespace endure
