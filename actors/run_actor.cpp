// The run actor: CAF wiring of run_state. Every handler forwards to the
// state; the state does the journaling and the coroutine driving.
#include "endure/actors/detail/run_actor.hpp"

#include <caf/all.hpp>

#include "endure/actors/atoms.hpp"
#include "endure/actors/detail/run_state.hpp"
#include "endure/supervisors/exit_reasons.hpp"

namespace endure::detail {

namespace {

caf::behavior run_actor(caf::stateful_actor<run_state>* self, std::string run_id,
                        run_env env, bool barrier) {
  // An exception in a handler (a bug) ends the actor with its message as the
  // exit reason; the run supervisor restarts the run from its journal.
  exit_on_exception(self);
  // The run supervisor stops its runs with user_shutdown: trapped, so the
  // attempts in flight can finish and be journaled (run_state::on_shutdown).
  self->set_exit_handler([self](caf::exit_msg& em) {
    if (em.reason == caf::exit_reason::user_shutdown)
      self->state.on_shutdown();
    else
      self->quit(std::move(em.reason));
  });
  self->state.init(self, std::move(run_id), std::move(env));
  self->state.load(barrier);
  return {
    [=](atoms::start, const std::string&, const std::string& workflow, std::string& input) {
      self->state.on_start(workflow, std::move(input), guarded_reply{self->make_response_promise()});
    },
    [=](atoms::signal, const std::string&, const std::string& name, std::string& payload,
        const std::string& request_id) {
      self->state.on_signal(name, std::move(payload), request_id,
                            guarded_reply{self->make_response_promise()});
    },
    [=](atoms::signal, const std::string&, const std::string& name, std::string& payload,
        const std::string& request_id, write_batch& with) {
      self->state.on_signal(name, std::move(payload), request_id,
                            guarded_reply{self->make_response_promise()}, std::move(with));
    },
    [=](atoms::cancel, const std::string&, const std::string& reason) {
      self->state.on_cancel(reason, guarded_reply{self->make_response_promise()});
    },
    [=](atoms::persisted, std::uint64_t token, std::uint8_t code, const std::string& message) {
      self->state.on_persisted(token, code, message);
    },
    [=](atoms::step_done, std::uint64_t step, std::uint32_t attempt, std::string& result,
        std::int64_t duration_us) {
      self->state.on_step_done(step, attempt, std::move(result), duration_us);
    },
    [=](atoms::step_fail, std::uint64_t step, std::uint32_t attempt, std::uint8_t cls,
        std::string& message, std::int64_t retry_after_ms, std::int32_t http_status,
        std::int64_t duration_us) {
      failure f{static_cast<failure_class>(cls), std::move(message), std::nullopt, http_status};
      if (retry_after_ms >= 0)
        f.retry_after = std::chrono::milliseconds{retry_after_ms};
      self->state.on_step_fail(step, attempt, std::move(f), duration_us);
    },
    [=](atoms::timer, std::uint64_t step) { self->state.on_timer(step); },
    [=](atoms::retry, std::uint64_t step) { self->state.on_retry(step); },
    [=](atoms::attempt_timeout, std::uint64_t step, std::uint32_t attempt) {
      self->state.on_attempt_timeout(step, attempt);
    },
    [=](atoms::passivate, std::uint64_t generation) { self->state.on_passivate(generation); },
    [=](atoms::stop_deadline) { self->state.on_stop_deadline(); },
  };
}

} // namespace

caf::actor spawn_run_actor(caf::local_actor* parent, std::string run_id, run_env env,
                           bool barrier) {
  return parent->spawn<caf::monitored>(run_actor, std::move(run_id), std::move(env), barrier);
}

} // namespace endure::detail
