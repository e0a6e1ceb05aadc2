// What a run actor does with what reaches it from outside its workflow:
// signals (journaled before the wait takes them), cancels, passivation
// when it only waits, and the runtime's shutdown. The rest of its
// lifecycle is in run_lifecycle.cpp. Runs on the run actor's thread.
#include "endure/actors/detail/run_state.hpp"

#include <caf/all.hpp>

#include <algorithm>

#include "endure/actors/atoms.hpp"
#include "endure/actors/detail/caf_error.hpp"
#include "endure/actors/detail/clock.hpp"
#include "endure/actors/journaled_signal.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/log.hpp"
#include "endure/supervisors/exit_reasons.hpp"

namespace endure::detail {

// -- signals, cancel, passivation ---------------------------------------------------

void run_state::defer(std::function<void()> request) {
  deferred_.push_back(std::move(request));
}

void run_state::mark_running(write_batch& batch) {
  // A waiting run is resumed only by its timers or a request. If this actor
  // stops before the signal or cancel is acted on, the next runtime must
  // resume the run to act on it: it resumes only runs stored as running.
  if (stored_status_ != run_status::waiting)
    return;
  stored_status_ = run_status::running;
  batch.set_status(run_id_, run_status::running, {}, now_ms());
  publish_status(run_status::running);
}

void run_state::ask_again(guarded_reply& rp) const {
  rp.deliver(caf::make_error(caf::sec::request_receiver_down));
}

namespace {

caf::error ended(const std::string& run_id, run_status status, const char* what_not) {
  return to_caf_error(errc::invalid_state, "run " + run_id + " has already "
                                             + std::string{to_string(status)} + "; "
                                             + what_not);
}

} // namespace

void run_state::on_signal(const std::string& name, std::string payload,
                          const std::string& request_id, guarded_reply rp, write_batch with) {
  if (loading_)
    return defer([this, name, payload, request_id, rp, with]() mutable {
      on_signal(name, payload, request_id, rp, std::move(with));
    });
  if (!created_ && !quarantined_) {  // quarantined: its meta could not be read
    rp.deliver(to_caf_error(errc::not_found, "no run with id " + run_id_));
    return;
  }
  if (finishing_ || log_.finished()) {
    auto status = log_.finished() ? log_.finished()->status : finishing_status_;
    rp.deliver(ended(run_id_, status, "the signal was not delivered"));
    return;
  }
  if (quarantined_ || stopping_)
    return ask_again(rp);
  if (auto* taken = log_.signal_of_request(request_id)) {  // journaled, or committing
    // The same signal again: a delivery repeated after an answer that did
    // not arrive (what came with it was written with the first).
    if (taken->payload == payload)
      return rp.deliver(caf::ok_atom::value);
    // Another under its request id (a human gateway that forgot, having
    // restarted, what it had handed this run; a client reusing an id): the
    // run keeps the one it took. The gateway must not store another, and
    // corrects its row to this run's (gateway/detail/run_decision.hpp).
    return rp.deliver(to_caf_error(signal_taken(run_id_, name, request_id)));
  }
  write_batch batch;
  auto seq = next_seq_;
  append(batch, signal_received_event{name, payload, now_ms(), request_id});
  mark_running(batch);
  batch.splice(std::move(with));
  if (auto& waiters = signal_waiters_[name]; !waiters.empty()) {
    // A wait takes it now: the signal, the wait's end and what the resumed
    // workflow journals next (its next step's start) share one commit, and
    // the sender is answered once that is durable. (Two commits before: the
    // signal, then the wait's end.)
    auto step = waiters.front();
    waiters.erase(waiters.begin());
    complete(step, payload, 0, 0, seq, std::move(batch),
             [rp]() mutable { rp.deliver(caf::ok_atom::value); });
    return;
  }
  persist(std::move(batch), [this, rp, name, seq, payload]() mutable {
    rp.deliver(caf::ok_atom::value);
    if (stopping_ || quarantined_)
      return;  // journaled: consumed when the run resumes
    // A wait_signal reached while this commit was in flight may have taken
    // the signal already (try_consume_signal): never hand it out twice.
    if (auto* sig = log_.signal_at(seq); !sig || sig->consumed)
      return;
    auto& waiters = signal_waiters_[name];
    if (waiters.empty()) {
      update_status();  // nobody takes it yet: the run waits (and passivates) again
      return;
    }
    auto step = waiters.front();
    waiters.erase(waiters.begin());
    complete(step, payload, 0, 0, seq);
  });
}

void run_state::on_cancel(const std::string& reason, guarded_reply rp) {
  if (loading_)
    return defer([this, reason, rp]() mutable { on_cancel(reason, rp); });
  if (!created_ && !quarantined_) {  // quarantined: its meta could not be read
    rp.deliver(to_caf_error(errc::not_found, "no run with id " + run_id_));
    return;
  }
  if (finishing_ || log_.finished()) {
    auto status = log_.finished() ? log_.finished()->status : finishing_status_;
    rp.deliver(ended(run_id_, status, "there is nothing left to cancel"));
    return;
  }
  if (quarantined_ || stopping_)
    return ask_again(rp);
  if (cancelling_ || compensating_) {  // already ending: the cancel is moot
    rp.deliver(caf::ok_atom::value);
    return;
  }
  cancelling_ = true;
  write_batch batch;
  append(batch, cancel_requested_event{reason, now_ms()});
  mark_running(batch);
  persist(std::move(batch), [this, rp]() mutable {
    rp.deliver(caf::ok_atom::value);
    if (stopping_ || quarantined_)
      return;  // journaled: the resumed run cancels
    // Every operation in flight ends with cancelled_error in the workflow.
    std::vector<std::uint64_t> steps;
    for (auto& [step, p] : pending_)
      steps.push_back(step);
    signal_waiters_.clear();
    for (auto step : steps)
      deliver(step, [](op_slot& slot) { slot.cancelled = true; });
  });
}

void run_state::update_status() {
  // While stopping, steps held back from starting are not waits: the run
  // must stay `running` so the next runtime resumes it.
  if (finishing_ || quarantined_ || !created_ || compensating_ || stopping_)
    return;
  // Commits in flight do not count: a resumption nested in another one
  // (a step completing synchronously) ends before the outer one does, and
  // the outer one must not see the inner one's commit as activity.
  // Passivation waits for them (on_passivate).
  bool waiting = !pending_.empty();
  for (auto& [step, p] : pending_)
    if (p.attempt != 0 || p.req.kind == op_kind::value)
      waiting = false;
  auto wanted = waiting ? run_status::waiting : run_status::running;
  if (wanted != stored_status_) {
    stored_status_ = wanted;
    write_batch batch;
    batch.set_status(run_id_, wanted, {}, now_ms());
    persist_quietly(std::move(batch));
    publish_status(wanted);
  }
  if (waiting)
    self_->delayed_send(self_, env_.limits.passivate_after, atoms::passivate::value,
                        ++passivate_generation_);
}

void run_state::on_passivate(std::uint64_t generation) {
  if (stopping_ || generation != passivate_generation_
      || stored_status_ != run_status::waiting)
    return;
  if (!persisting_.empty()) {  // not while a commit is in flight: look again soon
    self_->delayed_send(self_, std::chrono::milliseconds{10}, atoms::passivate::value,
                        generation);
    return;
  }
  // Quiet writes are not tracked: an empty commit queued behind them lands
  // after them, so the actor a request spawns next reads them (or this one
  // learns that one failed and stops with the error instead).
  if (log::enabled(log::level::debug))
    log::debug("run " + run_id_ + ": passivating once its writes have landed");
  persist(write_batch{}, [this, generation] {
    if (generation == passivate_generation_ && stored_status_ == run_status::waiting
        && persisting_.empty() && !stopping_)
      self_->quit();  // the journal holds everything; a timer or signal respawns us
  });
}

// -- shutdown --------------------------------------------------------------------

bool run_state::attempts_in_flight() const {
  for (auto& [step, p] : pending_)
    if (p.attempt != 0 && (p.req.kind == op_kind::activity || p.req.kind == op_kind::async))
      return true;
  return false;
}

void run_state::on_shutdown() {
  if (stopping_)
    return;
  stopping_ = true;
  if (log::enabled(log::level::debug))
    log::debug("run " + run_id_ + ": stopping for shutdown with " + std::to_string(persisting_.size())
               + " commit(s) in flight");
  // Deploys must not cost a long step its result, nor count as its crash:
  // let the attempts finish and journal them, within the deadline.
  self_->delayed_send(self_, env_.limits.shutdown_timeout, atoms::stop_deadline::value);
  stop_when_idle();
}

void run_state::stop_when_idle() {
  // Commits in flight finish first: their continuations answer requests
  // (a signal's "journaled") that must not be left unanswered.
  if (stopping_ && !attempts_in_flight() && persisting_.empty())
    self_->quit(caf::exit_reason::user_shutdown);
}

void run_state::on_stop_deadline() {
  if (!stopping_)
    return;
  write_batch batch;
  std::size_t abandoned = 0;
  for (auto& [step, p] : pending_) {
    if (p.attempt == 0 || (p.req.kind != op_kind::activity && p.req.kind != op_kind::async))
      continue;
    append(batch, step_interrupted_event{step, p.req.name, p.attempt, now_ms()});
    ++abandoned;
  }
  if (abandoned > 0)
    log::warn("run " + run_id_ + ": " + std::to_string(abandoned) + " step attempt(s) still "
            "running " + std::to_string(env_.limits.shutdown_timeout.count())
            + " ms after shutdown began; journaled as interrupted, they run again at the "
              "next start");
  persist_quietly(std::move(batch));  // the writer drains it before the journal closes
  self_->quit(caf::exit_reason::user_shutdown);
}

} // namespace endure::detail
