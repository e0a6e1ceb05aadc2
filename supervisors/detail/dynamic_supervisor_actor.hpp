// The dynamic supervisor actor (users spawn it through
// dynamic_supervisor.hpp).
//
// Owns a map id -> child; every field is touched on the actor's own thread
// only. Children are monitored, not linked, for the reason given in
// supervisor_actor.hpp; on_exit() kills children still running if the
// supervisor itself is killed.
#pragma once

#include "endure/supervisors/dynamic_supervisor.hpp"
#include "endure/supervisors/intensity_window.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace endure::detail {

class dynamic_supervisor_actor : public caf::event_based_actor {
public:
  // -- constructors ----------------------------------------------------------

  /// `flags` and `child` must be valid (validate()).
  dynamic_supervisor_actor(caf::actor_config& cfg,
                           dynamic_supervisor_flags flags,
                           dynamic_child_template child);

  // -- overrides -------------------------------------------------------------

  caf::behavior make_behavior() override;
  void on_exit() override;

private:
  enum class child_state : std::uint8_t { running, awaiting_restart, stopping };

  struct child {
    caf::actor handle;
    intensity_window window;
    child_state state = child_state::running;
    /// Guards the restart and kill timers against stale deliveries.
    std::uint64_t token = 0;
    std::vector<caf::response_promise> stop_waiters;
  };

  using child_map = std::map<std::string, child>;

  // -- message handlers ------------------------------------------------------

  caf::result<caf::actor> start_child(const std::string& id);
  caf::response_promise stop_child(const std::string& id);
  caf::result<caf::actor> find_child(const std::string& id) const;
  void on_restart_timer(const std::string& id, std::uint64_t token);
  void on_kill_timer(const std::string& id, std::uint64_t token);
  void on_down(caf::down_msg& msg);
  void on_exit_msg(caf::exit_msg& msg);

  // -- helpers ---------------------------------------------------------------

  caf::expected<caf::actor> spawn_child(const std::string& id);
  void watch(child_map::iterator pos, caf::actor handle);
  void handle_exit(child_map::iterator pos, caf::error reason);
  void give_up(child_map::iterator pos, const caf::error& reason);
  void begin_stop(child_map::iterator pos);
  void erase(child_map::iterator pos);
  void shutdown(caf::error reason);

  // -- member variables ------------------------------------------------------

  dynamic_supervisor_flags flags_;
  dynamic_child_template template_;
  child_map children_;
  /// actor id -> child id, to route down messages.
  std::unordered_map<std::uint64_t, std::string> by_actor_;
  std::minstd_rand rng_;
  std::uint64_t next_token_ = 0;
  bool shutting_down_ = false;
  caf::error quit_reason_;
};

} // namespace endure::detail
