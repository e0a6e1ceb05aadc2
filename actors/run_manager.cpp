// The run manager actor (see detail/run_manager.hpp): its behavior. The
// handlers are short and forward to manager_state (run_requests.cpp for
// requests, run_manager_state.cpp for the rest).
#include "endure/actors/detail/run_manager.hpp"

#include <caf/all.hpp>

#include "endure/actors/atoms.hpp"
#include "endure/actors/detail/run_manager_state.hpp"
#include "endure/supervisors/exit_reasons.hpp"

namespace endure::detail {

namespace {

caf::behavior run_manager(caf::stateful_actor<manager_state>* self, run_env env,
                          manager_options opts) {
  auto& st = self->state;
  st.env = std::move(env);
  st.env.manager = caf::actor_cast<caf::actor>(self);
  st.opts = opts;
  st.trims = heap_trim_schedule{opts.trim_after_stops};
  st.self = self;
  self->set_down_handler([self](caf::down_msg& dm) { self->state.on_down(dm); });
  self->set_exit_handler([self](caf::exit_msg& em) {
    if (em.reason && em.reason != caf::exit_reason::normal && !self->state.stopping)
      self->state.shut_down(std::move(em.reason));
  });
  exit_on_exception(self);
  if (opts.recover)
    self->send(self, atoms::recover::value);
  auto promise = [self] { return guarded_reply{self->make_response_promise()}; };
  return {
    [=](atoms::start, const std::string& id, const std::string& wf, const std::string& input) {
      self->state.start(id, wf, input, promise());
    },
    [=](atoms::signal, const std::string& id, const std::string& name,
        const std::string& payload, const std::string& request_id) {
      self->state.signal(id, name, payload, promise(), request_id);
    },
    [=](atoms::signal, const std::string& id, const std::string& name,
        const std::string& payload, const std::string& request_id, write_batch& with) {
      self->state.signal(id, name, payload, promise(), request_id, std::move(with));
    },
    [=](atoms::cancel, const std::string& id, const std::string& reason) {
      self->state.cancel(id, reason, promise());
    },
    [=](atoms::release, const std::string& id, const std::string& reason) {
      self->state.release(id, reason, promise());
    },
    [=](atoms::wait, const std::string& id, std::int64_t timeout_ms) {
      self->state.wait(id, timeout_ms, promise());
    },
    [=](atoms::wait_timeout, const std::string& id, std::uint64_t token) {
      self->state.wait_expired(id, token);
    },
    [=](atoms::finished, const std::string& id, std::uint8_t status, const std::string& result,
        const std::string& error) {
      self->state.restarts.erase(id);
      self->state.notify(id, {status, result, error});
    },
    [=](atoms::journaled, std::uint64_t token, std::uint8_t code, const std::string& message) {
      self->state.on_written(token, code, message);
    },
    [=](atoms::quarantine, const std::string& id, const std::string& why,
        std::int64_t retry_after_ms) {
      auto& busy = self->state.busy;
      if (auto it = busy.find(id); it != busy.end() && --it->second == 0)
        busy.erase(it);
      self->state.quarantine(id, why, std::chrono::milliseconds{retry_after_ms});
    },
    [=](atoms::wake, const std::string& id) { self->state.wake(id); },
    [=](atoms::restart, const std::string& id) { self->state.restart(id); },
    [=](atoms::recover) { self->state.recover(); },
    [=](atoms::tick) { self->state.tick(); },
    [=](atoms::trim) { self->state.on_trim(); },
  };
}

} // namespace

caf::actor spawn_run_manager(caf::local_actor& parent, run_env env, manager_options opts) {
  return parent.spawn(run_manager, std::move(env), opts);
}

} // namespace endure::detail
