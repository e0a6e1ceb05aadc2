// The restart decision: OTP's supervisor rules as one pure function.
//
// Given the strategy, the restart types of all children (start order), the
// child that exited and how it exited, it says which children to stop and
// which to start again. It knows nothing of actors or time, so every
// strategy x restart type x exit kind is unit-tested directly. Whether the
// restart is allowed at all (intensity) is decided next, by
// apply_intensity(); a plan may then become "escalate".
#pragma once

#include "endure/supervisors/child_spec.hpp"
#include "endure/supervisors/supervisor_flags.hpp"

#include <cstddef>
#include <span>
#include <vector>

namespace endure {

class intensity_window;

/// How a child ended, as far as restarting goes.
enum class exit_kind : std::uint8_t {
  /// Finished its work (exit_reason::normal or no error).
  normal,
  /// Asked to stop (exit_reason::user_shutdown); not a failure either.
  shutdown,
  /// Anything else: an exception, kill, a custom error, a failed start.
  abnormal,
};

enum class restart_action : std::uint8_t {
  /// Leave the others alone; the exited child stays stopped (transient) or
  /// is removed (temporary, see remove_exited).
  none,
  /// Stop `to_stop`, then start `to_restart`.
  restart,
  /// Intensity exceeded: stop every child and exit so the parent decides.
  escalate,
};

struct restart_plan {
  restart_action action = restart_action::none;
  /// Running siblings to stop, in reverse start order. Never the exited child.
  std::vector<std::size_t> to_stop;
  /// Children to start again, in start order; the exited child included,
  /// temporary children never.
  std::vector<std::size_t> to_restart;
  /// True when the exited child is temporary: drop it for good.
  bool remove_exited = false;
};

/// Decides what an exit of child `exited` means. `types[i]` is the restart
/// type of child i; `exited` must be < types.size().
restart_plan decide_restart(restart_strategy strategy,
                            std::span<const restart_type> types,
                            std::size_t exited, exit_kind kind);

/// Charges a restart to `window` at `now` when `plan` restarts anything and
/// turns the plan into escalate when that exceeds the intensity.
restart_plan apply_intensity(restart_plan plan, intensity_window& window,
                             std::chrono::steady_clock::time_point now);

/// Whether a child with this restart type is started again after `kind`.
bool should_restart(restart_type type, exit_kind kind) noexcept;

} // namespace endure
