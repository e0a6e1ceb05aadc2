// The restart decision. Mirrors OTP's supervisor.erl: a child that is not
// to be restarted (temporary, or transient that ended cleanly) touches no
// sibling; otherwise the strategy picks the scope, siblings in scope are
// stopped in reverse order and all non-temporary ones in scope restart.
#include "endure/supervisors/restart_decision.hpp"

#include "endure/supervisors/intensity_window.hpp"

namespace endure {

bool should_restart(restart_type type, exit_kind kind) noexcept {
  switch (type) {
    case restart_type::permanent:
      return true;
    case restart_type::transient:
      return kind == exit_kind::abnormal;
    case restart_type::temporary:
      return false;
  }
  return false;
}

restart_plan decide_restart(restart_strategy strategy,
                            std::span<const restart_type> types,
                            std::size_t exited, exit_kind kind) {
  restart_plan plan;
  plan.remove_exited = types[exited] == restart_type::temporary;
  if (!should_restart(types[exited], kind))
    return plan;
  plan.action = restart_action::restart;
  // The scope is [first, types.size()) for one_for_all and rest_for_one.
  std::size_t first = exited;
  switch (strategy) {
    case restart_strategy::one_for_one:
      plan.to_restart.push_back(exited);
      return plan;
    case restart_strategy::one_for_all:
      first = 0;
      break;
    case restart_strategy::rest_for_one:
      break;
  }
  for (std::size_t i = types.size(); i-- > first;)
    if (i != exited)
      plan.to_stop.push_back(i);
  for (std::size_t i = first; i < types.size(); ++i)
    if (i == exited || types[i] != restart_type::temporary)
      plan.to_restart.push_back(i);
  return plan;
}

restart_plan apply_intensity(restart_plan plan, intensity_window& window,
                             std::chrono::steady_clock::time_point now) {
  if (plan.action != restart_action::restart)
    return plan;
  if (window.record(now))
    plan.action = restart_action::escalate;
  return plan;
}

} // namespace endure
