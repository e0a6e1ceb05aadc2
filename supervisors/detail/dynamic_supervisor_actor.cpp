// The dynamic supervisor actor: per-child restart counting, give-up reports.
#include "endure/supervisors/detail/dynamic_supervisor_actor.hpp"

#include "endure/supervisors/atoms.hpp"
#include "endure/supervisors/backoff.hpp"
#include "endure/supervisors/detail/stop_child.hpp"
#include "endure/supervisors/exit_reasons.hpp"
#include "endure/supervisors/restart_decision.hpp"

#include <caf/all.hpp>

#include <exception>

namespace endure::detail {

dynamic_supervisor_actor::dynamic_supervisor_actor(
  caf::actor_config& cfg, dynamic_supervisor_flags flags,
  dynamic_child_template child)
  : caf::event_based_actor(cfg),
    flags_(std::move(flags)),
    template_(std::move(child)),
    rng_(std::random_device{}()) {
}

caf::behavior dynamic_supervisor_actor::make_behavior() {
  set_down_handler([this](caf::down_msg& msg) { on_down(msg); });
  set_exit_handler([this](caf::exit_msg& msg) { on_exit_msg(msg); });
  return {
    [this](start_child_atom, const std::string& id) { return start_child(id); },
    [this](stop_child_atom, const std::string& id) { return stop_child(id); },
    [this](count_atom) { return static_cast<std::uint64_t>(children_.size()); },
    [this](find_child_atom, const std::string& id) { return find_child(id); },
    [this](restart_atom, const std::string& id, std::uint64_t token) {
      on_restart_timer(id, token);
    },
    [this](kill_atom, const std::string& id, std::uint64_t token) {
      on_kill_timer(id, token);
    },
  };
}

void dynamic_supervisor_actor::on_exit() {
  // Children still here mean this actor was killed: do not orphan them.
  for (auto& [id, c] : children_)
    if (c.handle)
      caf::anon_send_exit(c.handle, caf::exit_reason::kill);
  children_.clear();
  by_actor_.clear();
  flags_.on_give_up = nullptr; // drops whatever the callback captured
}

// -- message handlers --------------------------------------------------------

caf::result<caf::actor>
dynamic_supervisor_actor::start_child(const std::string& id) {
  if (shutting_down_)
    return caf::make_error(sup_errc::shutting_down, id);
  if (children_.count(id) > 0)
    return caf::make_error(sup_errc::duplicate_child, id);
  auto handle = spawn_child(id);
  if (!handle)
    return std::move(handle.error()); // never started: nothing to count
  child fresh{{}, intensity_window{flags_.intensity, flags_.period}, {}, 0, {}};
  auto pos = children_.emplace(id, std::move(fresh)).first;
  watch(pos, *handle);
  return *handle;
}

caf::response_promise dynamic_supervisor_actor::stop_child(const std::string& id) {
  auto rp = make_response_promise();
  auto pos = children_.find(id);
  if (pos == children_.end()) {
    rp.deliver(caf::make_error(sup_errc::unknown_child, id));
    return rp;
  }
  if (pos->second.state == child_state::awaiting_restart) {
    erase(pos);
    rp.deliver(caf::unit);
    return rp;
  }
  pos->second.stop_waiters.push_back(rp);
  if (pos->second.state == child_state::running)
    begin_stop(pos);
  return rp;
}

caf::result<caf::actor>
dynamic_supervisor_actor::find_child(const std::string& id) const {
  auto pos = children_.find(id);
  if (pos == children_.end() || !pos->second.handle)
    return caf::make_error(sup_errc::unknown_child, id);
  return pos->second.handle;
}

void dynamic_supervisor_actor::on_restart_timer(const std::string& id,
                                                std::uint64_t token) {
  auto pos = children_.find(id);
  if (pos == children_.end() || pos->second.token != token
      || pos->second.state != child_state::awaiting_restart)
    return; // stopped or shut down meanwhile
  auto handle = spawn_child(id);
  if (!handle) {
    handle_exit(pos, std::move(handle.error())); // counts like a crash
    return;
  }
  watch(pos, *handle);
}

void dynamic_supervisor_actor::on_kill_timer(const std::string& id,
                                             std::uint64_t token) {
  auto pos = children_.find(id);
  if (pos != children_.end() && pos->second.token == token
      && pos->second.state == child_state::stopping && pos->second.handle)
    send_exit(pos->second.handle, caf::exit_reason::kill);
}

void dynamic_supervisor_actor::on_down(caf::down_msg& msg) {
  auto by = by_actor_.find(msg.source.id());
  if (by == by_actor_.end())
    return;
  auto pos = children_.find(by->second);
  by_actor_.erase(by);
  if (pos == children_.end())
    return;
  pos->second.handle = nullptr;
  if (pos->second.state == child_state::stopping) {
    erase(pos);
    return;
  }
  handle_exit(pos, std::move(msg.reason));
}

void dynamic_supervisor_actor::on_exit_msg(caf::exit_msg& msg) {
  // Exits sent to the supervisor itself arrive here too (PITFALLS); a child
  // that linked itself to us is handled by its down message.
  if (by_actor_.count(msg.source.id()) > 0)
    return;
  if (!msg.reason || msg.reason == caf::exit_reason::normal)
    return;
  shutdown(std::move(msg.reason));
}

// -- helpers -----------------------------------------------------------------

caf::expected<caf::actor>
dynamic_supervisor_actor::spawn_child(const std::string& id) {
  try {
    if (auto handle = template_.start(*this, id))
      return handle;
    return caf::make_error(sup_errc::start_failed, id,
                           std::string{"start function returned no actor"});
  } catch (const std::exception& ex) {
    return caf::make_error(sup_errc::start_failed, id, std::string{ex.what()});
  }
}

void dynamic_supervisor_actor::watch(child_map::iterator pos, caf::actor handle) {
  monitor(handle);
  by_actor_[handle.id()] = pos->first;
  pos->second.handle = std::move(handle);
  pos->second.state = child_state::running;
}

void dynamic_supervisor_actor::handle_exit(child_map::iterator pos,
                                           caf::error reason) {
  auto& c = pos->second;
  if (shutting_down_ || !should_restart(template_.restart, classify(reason))) {
    erase(pos);
    return;
  }
  auto now = clock().now();
  if (c.window.record(now)) {
    give_up(pos, reason);
    return;
  }
  c.state = child_state::awaiting_restart;
  c.token = ++next_token_;
  auto attempt = c.window.count(now) - 1; // record() just added one
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  auto delay = backoff_delay(flags_.backoff, attempt, unit(rng_));
  if (delay.count() == 0)
    send(this, restart_atom::value, pos->first, c.token);
  else
    delayed_send(this, delay, restart_atom::value, pos->first, c.token);
}

void dynamic_supervisor_actor::give_up(child_map::iterator pos,
                                       const caf::error& reason) {
  give_up_report report{pos->first, reason, describe(reason),
                        pos->second.window.count(clock().now())};
  erase(pos);
  if (flags_.on_give_up)
    flags_.on_give_up(report);
}

void dynamic_supervisor_actor::begin_stop(child_map::iterator pos) {
  auto& c = pos->second;
  c.state = child_state::stopping;
  c.token = ++next_token_;
  if (send_stop(*this, c.handle, template_.shutdown))
    delayed_send(this, template_.shutdown.timeout, kill_atom::value,
                 pos->first, c.token);
}

void dynamic_supervisor_actor::erase(child_map::iterator pos) {
  auto waiters = std::move(pos->second.stop_waiters);
  if (pos->second.handle)
    by_actor_.erase(pos->second.handle.id());
  children_.erase(pos);
  for (auto& rp : waiters)
    rp.deliver(caf::unit);
  if (shutting_down_ && children_.empty())
    quit(quit_reason_);
}

void dynamic_supervisor_actor::shutdown(caf::error reason) {
  if (shutting_down_)
    return;
  shutting_down_ = true;
  quit_reason_ = std::move(reason);
  if (children_.empty()) {
    quit(quit_reason_);
    return;
  }
  // Stop all at once, as OTP does for simple_one_for_one: a thousand runs
  // must not shut down one timeout after another.
  for (auto pos = children_.begin(); pos != children_.end();) {
    auto next = std::next(pos);
    if (pos->second.state == child_state::awaiting_restart)
      erase(pos);
    else if (pos->second.state == child_state::running)
      begin_stop(pos);
    pos = next;
  }
}

} // namespace endure::detail
