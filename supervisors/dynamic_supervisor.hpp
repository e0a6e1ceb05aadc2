// Dynamic supervisor (OTP's simple_one_for_one): any number of children of
// one template, started on demand with an id (e.g. a run id).
//
// Each child has its own restart counting: its own intensity window and
// backoff. When one child exceeds its intensity, the dynamic supervisor
// drops that child and reports it through `on_give_up`; it does NOT exit,
// and its other children go on. That is how a run whose actor keeps
// crashing is quarantined while every other run continues.
//
// Protocol (atoms.hpp): (start_child_atom, id) -> caf::actor,
// (stop_child_atom, id) -> caf::unit once the child is gone,
// (count_atom) -> std::uint64_t, (find_child_atom, id) -> caf::actor.
// An exit message other than normal (e.g. user_shutdown from its parent)
// stops every child in parallel, each honouring the template's shutdown
// policy, then the supervisor exits with that reason.
#pragma once

#include "endure/persistence/error.hpp"
#include "endure/supervisors/child_spec.hpp"
#include "endure/supervisors/supervisor_flags.hpp"

#include <caf/actor.hpp>
#include <caf/error.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace endure {

/// What the dynamic supervisor says when it gives up on a child.
struct give_up_report {
  /// The id the child was started with.
  std::string id;
  /// Its last exit reason (e.g. sup_errc::child_exception with the text).
  caf::error last_reason;
  /// describe(last_reason), ready to show to people.
  std::string message;
  /// Restarts inside the intensity window when it gave up.
  std::size_t restarts = 0;
};

/// Starts one child for `id`; runs on the supervisor's thread. Return an
/// invalid handle or throw to report a failed start.
using dynamic_start_function =
  std::function<caf::actor(caf::local_actor& sup, const std::string& id)>;

/// The one spec all children of a dynamic supervisor share.
struct dynamic_child_template {
  /// Required.
  dynamic_start_function start;
  /// Default: transient (a child that finishes normally is done; a crash is
  /// restarted).
  restart_type restart = restart_type::transient;
  /// Default: 5 s timeout.
  shutdown_policy shutdown;
};

struct dynamic_supervisor_flags {
  /// Most restarts of ONE child inside `period`. Must be >= 0. Default: 3.
  int intensity = 3;
  /// Must be > 0. Default: 5 s.
  std::chrono::milliseconds period{5000};
  /// Per child. Default: see backoff_policy.
  backoff_policy backoff;
  /// Called on the supervisor's thread when a child is given up on; must
  /// not block or throw (send a message from it). Optional.
  std::function<void(const give_up_report&)> on_give_up;
};

/// Checks the flags and the template; errors name the field.
expected<void> validate(const dynamic_supervisor_flags& flags,
                        const dynamic_child_template& child);

/// Validates and spawns a dynamic supervisor with no children.
expected<caf::actor> spawn_dynamic_supervisor(caf::actor_system& sys,
                                              dynamic_supervisor_flags flags,
                                              dynamic_child_template child);

/// A validated child spec that starts a dynamic supervisor under a static
/// one: type supervisor, permanent, shutdown infinity.
expected<child_spec> dynamic_supervisor_child(std::string id,
                                              dynamic_supervisor_flags flags,
                                              dynamic_child_template child);

} // namespace endure
