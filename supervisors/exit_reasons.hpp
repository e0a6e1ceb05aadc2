// Exit reasons the supervisors produce and read, as caf::error values.
//
// Category "endure_sup" (registered with CAF_ERROR_CODE_ENUM). The context
// of each error carries strings, so the reason survives a trip across nodes
// and `describe()` can show it without a registered renderer:
//   child_exception    (what)            an exception ended a child actor
//   intensity_exceeded (child id, last)  a supervisor gave up; `last` is the
//                                        description of the child's last exit
//   start_failed       (child id, what)  a start function threw or returned
//                                        an invalid handle
//   duplicate_child / unknown_child / shutting_down (id): replies of the
//                                        dynamic supervisor
// Call `exit_on_exception(self)` first thing in a child actor so an
// exception becomes a child_exception reason instead of CAF's message-less
// unhandled_exception. The actor still ends (CAF always ends it); the
// supervisor decides what happens next.
#pragma once

#include "endure/supervisors/restart_decision.hpp"

// CAF_ERROR_CODE_ENUM's factory needs make_message in scope.
#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/make_message.hpp>

#include <cstdint>
#include <string>

namespace endure {

enum class sup_errc : std::uint8_t {
  child_exception = 1,
  intensity_exceeded,
  start_failed,
  duplicate_child,
  unknown_child,
  shutting_down,
};

} // namespace endure

CAF_ERROR_CODE_ENUM(endure::sup_errc, "endure_sup")

namespace endure {

/// Installs an exception handler on `self` that turns any exception into
/// the exit reason (child_exception, what()). Call from the actor's own
/// thread (in its behavior factory).
void exit_on_exception(caf::scheduled_actor* self);

/// The exit reason for an exception, from its what() text.
caf::error exception_reason(const std::string& what);

/// One line for people: "normal", "exit_reason(user_shutdown)",
/// "child_exception: boom", "intensity_exceeded: child \"w\" ...".
std::string describe(const caf::error& reason);

/// How an exit counts for restarting (see exit_kind).
exit_kind classify(const caf::error& reason);

/// True for errors of the endure_sup category with this code.
bool is(const caf::error& reason, sup_errc code);

} // namespace endure
