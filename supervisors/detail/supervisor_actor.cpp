// The static supervisor actor: see supervisor_actor.hpp for the life cycle.
#include "endure/supervisors/detail/supervisor_actor.hpp"

#include "endure/supervisors/atoms.hpp"
#include "endure/supervisors/backoff.hpp"
#include "endure/supervisors/detail/stop_child.hpp"
#include "endure/supervisors/exit_reasons.hpp"
#include "endure/supervisors/restart_decision.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <exception>

namespace endure::detail {

supervisor_actor::supervisor_actor(caf::actor_config& cfg,
                                   supervisor_flags flags,
                                   std::vector<child_spec> children)
  : caf::event_based_actor(cfg),
    flags_(flags),
    window_(flags.intensity, flags.period),
    rng_(std::random_device{}()) {
  slots_.reserve(children.size());
  for (auto& spec : children)
    slots_.push_back(slot{std::move(spec), {}, slot_state::stopped, {}});
}

caf::behavior supervisor_actor::make_behavior() {
  set_down_handler([this](caf::down_msg& msg) { on_down(msg); });
  set_exit_handler([this](caf::exit_msg& msg) { on_exit_msg(msg); });
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (!start_child(i)) {
      // A failed initial start is not restarted: the spec is broken or a
      // dependency is missing, and the parent has to hear about it now.
      shutdown(slots_[i].last_reason);
      break;
    }
  }
  return {
    [this](restart_atom, std::uint64_t token) { restart_waiting(token); },
    [this](kill_atom, std::uint64_t token) { on_kill_timer(token); },
    [this](count_atom) {
      auto n = std::count_if(slots_.begin(), slots_.end(), [](const slot& s) {
        return s.state == slot_state::running;
      });
      return static_cast<std::uint64_t>(n);
    },
    [this](find_child_atom, const std::string& id) -> caf::result<caf::actor> {
      for (auto& s : slots_)
        if (s.spec.id == id && s.state == slot_state::running)
          return s.handle;
      return caf::make_error(sup_errc::unknown_child, id);
    },
  };
}

void supervisor_actor::on_exit() {
  // Reached with children still running only when this actor was killed or
  // failed outside the stop sequence: take them along rather than orphan them.
  for (auto& s : slots_)
    if (s.handle)
      caf::anon_send_exit(s.handle, caf::exit_reason::kill);
  slots_.clear();
}

// -- children ----------------------------------------------------------------

bool supervisor_actor::start_child(std::size_t i) {
  auto& s = slots_[i];
  caf::actor child;
  try {
    child = s.spec.start(*this);
  } catch (const std::exception& ex) {
    s.last_reason = caf::make_error(sup_errc::start_failed, s.spec.id,
                                    std::string{ex.what()});
    return false;
  }
  if (!child) {
    s.last_reason = caf::make_error(sup_errc::start_failed, s.spec.id,
                                    std::string{"start function returned no actor"});
    return false;
  }
  monitor(child);
  s.handle = std::move(child);
  s.state = slot_state::running;
  return true;
}

std::optional<std::size_t>
supervisor_actor::index_of(const caf::actor_addr& addr) const {
  for (std::size_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].handle && slots_[i].handle.address() == addr)
      return i;
  return std::nullopt;
}

void supervisor_actor::on_down(caf::down_msg& msg) {
  auto i = index_of(msg.source);
  if (!i)
    return; // a child we already forgot, or someone else's monitor
  auto& s = slots_[*i];
  s.handle = nullptr;
  s.state = slot_state::stopped;
  s.last_reason = msg.reason;
  if (!stop_active_) {
    handle_exit(*i, std::move(msg.reason));
    return;
  }
  if (stopping_ == *i) {
    stopping_.reset();
    stop_next();
    return;
  }
  bool in_sequence = quit_reason_
                     || std::find(stop_queue_.begin(), stop_queue_.end(), *i)
                          != stop_queue_.end();
  if (!in_sequence)
    pending_.emplace_back(*i, std::move(msg.reason));
}

void supervisor_actor::on_exit_msg(caf::exit_msg& msg) {
  // Exits sent to the supervisor itself arrive here too (PITFALLS). A child
  // that linked itself to us is reported by its down message instead.
  if (index_of(msg.source))
    return;
  if (!msg.reason || msg.reason == caf::exit_reason::normal)
    return;
  shutdown(std::move(msg.reason));
}

void supervisor_actor::handle_exit(std::size_t i, caf::error reason) {
  std::vector<restart_type> types;
  types.reserve(slots_.size());
  for (auto& s : slots_)
    types.push_back(s.spec.restart);
  auto plan = apply_intensity(
    decide_restart(flags_.strategy, types, i, classify(reason)), window_,
    clock().now());
  if (plan.remove_exited)
    slots_[i].state = slot_state::removed;
  switch (plan.action) {
    case restart_action::none:
      return;
    case restart_action::escalate:
      shutdown(caf::make_error(sup_errc::intensity_exceeded, slots_[i].spec.id,
                               describe(reason)));
      return;
    case restart_action::restart:
      restart_after_stop_ = std::move(plan.to_restart);
      begin_stopping(std::move(plan.to_stop));
      return;
  }
}

// -- stopping and restarting -------------------------------------------------

void supervisor_actor::begin_stopping(std::vector<std::size_t> reverse_order) {
  stop_queue_.assign(reverse_order.begin(), reverse_order.end());
  stop_active_ = true;
  stop_next();
}

void supervisor_actor::stop_next() {
  while (!stop_queue_.empty()) {
    auto i = stop_queue_.front();
    stop_queue_.pop_front();
    auto& s = slots_[i];
    if (s.state != slot_state::running || !s.handle)
      continue;
    stopping_ = i;
    if (send_stop(*this, s.handle, s.spec.shutdown))
      delayed_send(this, s.spec.shutdown.timeout, kill_atom::value,
                   ++kill_token_);
    return;
  }
  stop_active_ = false;
  finish_stopping();
}

void supervisor_actor::on_kill_timer(std::uint64_t token) {
  if (token != kill_token_ || !stopping_)
    return; // that child stopped in time
  if (auto& s = slots_[*stopping_]; s.handle)
    send_exit(s.handle, caf::exit_reason::kill);
}

void supervisor_actor::finish_stopping() {
  if (quit_reason_) {
    quit(*quit_reason_);
    return;
  }
  for (auto& s : slots_)
    if (s.state == slot_state::stopped
        && s.spec.restart == restart_type::temporary)
      s.state = slot_state::removed;
  for (auto i : restart_after_stop_)
    slots_[i].state = slot_state::awaiting_restart;
  restart_after_stop_.clear();
  schedule_restart();
  drain_pending();
}

void supervisor_actor::schedule_restart() {
  auto recent = window_.count(clock().now());
  auto attempt = recent > 0 ? recent - 1 : 0;
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  auto delay = backoff_delay(flags_.backoff, attempt, unit(rng_));
  // A zero delay still goes through the mailbox: no recursion when starts
  // keep failing, and exits already queued are seen first.
  if (delay.count() == 0)
    send(this, restart_atom::value, ++restart_token_);
  else
    delayed_send(this, delay, restart_atom::value, ++restart_token_);
}

void supervisor_actor::restart_waiting(std::uint64_t token) {
  if (token != restart_token_ || quit_reason_)
    return; // superseded by a later plan, or shutting down
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].state != slot_state::awaiting_restart)
      continue;
    if (!start_child(i)) {
      // Counts like a crash; a new plan re-arms the timer for the children
      // still waiting.
      slots_[i].state = slot_state::stopped;
      handle_exit(i, slots_[i].last_reason);
      return;
    }
  }
}

void supervisor_actor::shutdown(caf::error reason) {
  if (quit_reason_)
    return;
  quit_reason_ = std::move(reason);
  ++restart_token_; // cancels a pending restart
  pending_.clear();
  restart_after_stop_.clear();
  stop_queue_.clear();
  for (std::size_t i = slots_.size(); i-- > 0;) {
    if (slots_[i].state == slot_state::awaiting_restart)
      slots_[i].state = slot_state::stopped;
    if (slots_[i].state == slot_state::running && stopping_ != i)
      stop_queue_.push_back(i);
  }
  if (stop_active_ && stopping_)
    return; // the queue continues once the current child is down
  stop_active_ = true;
  stop_next();
}

void supervisor_actor::drain_pending() {
  while (!stop_active_ && !quit_reason_ && !pending_.empty()) {
    auto [i, reason] = std::move(pending_.front());
    pending_.pop_front();
    if (slots_[i].state == slot_state::stopped)
      handle_exit(i, std::move(reason));
  }
}

} // namespace endure::detail
