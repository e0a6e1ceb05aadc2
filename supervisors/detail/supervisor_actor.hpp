// The static supervisor actor (users spawn it through supervisor.hpp).
//
// Owns its child slots, the intensity window and the stop sequence; all
// state is touched on the actor's own thread only. Children are monitored,
// not linked: in CAF 0.17 a linked actor that receives exit_reason::kill
// from a dying child dies too, and the supervisor kills children after
// their shutdown timeout. So that children do not outlive a supervisor that
// is itself killed, on_exit() kills whatever is still running.
//
// Life cycle: start all -> running; a child exits -> decide_restart ->
// apply_intensity -> (stop siblings in reverse order -> wait backoff ->
// start in order) or escalate; an exit message -> stop all in reverse order
// -> quit. While a stop sequence runs, exits of children outside it are
// queued and decided afterwards, one at a time.
#pragma once

#include "endure/supervisors/child_spec.hpp"
#include "endure/supervisors/intensity_window.hpp"
#include "endure/supervisors/supervisor_flags.hpp"

#include <caf/event_based_actor.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <utility>
#include <vector>

namespace endure::detail {

class supervisor_actor : public caf::event_based_actor {
public:
  // -- constructors ----------------------------------------------------------

  /// `flags` and `children` must be valid (validate.hpp).
  supervisor_actor(caf::actor_config& cfg, supervisor_flags flags,
                   std::vector<child_spec> children);

  // -- overrides -------------------------------------------------------------

  caf::behavior make_behavior() override;
  void on_exit() override;

private:
  enum class slot_state : std::uint8_t {
    running,
    stopped,
    awaiting_restart,
    removed,
  };

  struct slot {
    child_spec spec;
    caf::actor handle;
    slot_state state = slot_state::stopped;
    caf::error last_reason;
  };

  // -- children --------------------------------------------------------------

  bool start_child(std::size_t i);
  std::optional<std::size_t> index_of(const caf::actor_addr& addr) const;
  void on_down(caf::down_msg& msg);
  void on_exit_msg(caf::exit_msg& msg);
  void handle_exit(std::size_t i, caf::error reason);

  // -- stopping and restarting -----------------------------------------------

  void begin_stopping(std::vector<std::size_t> reverse_order);
  void stop_next();
  void finish_stopping();
  void schedule_restart();
  void restart_waiting(std::uint64_t token);
  void shutdown(caf::error reason);
  void drain_pending();
  void on_kill_timer(std::uint64_t token);

  // -- member variables ------------------------------------------------------

  supervisor_flags flags_;
  std::vector<slot> slots_;
  intensity_window window_;
  std::minstd_rand rng_;

  /// Children still to stop in the running stop sequence.
  std::deque<std::size_t> stop_queue_;
  /// The child stopped right now, whose down message we wait for.
  std::optional<std::size_t> stopping_;
  bool stop_active_ = false;
  std::uint64_t kill_token_ = 0;
  /// Set when the sequence ends in quitting (shutdown or escalation).
  std::optional<caf::error> quit_reason_;
  /// Started again when the running stop sequence is over.
  std::vector<std::size_t> restart_after_stop_;
  std::uint64_t restart_token_ = 0;
  /// Exits that arrived while a stop sequence ran: (child, reason).
  std::deque<std::pair<std::size_t, caf::error>> pending_;
};

} // namespace endure::detail
