// A run's lifecycle: load and replay the journal, create on first start,
// drive the workflow coroutine, take signals and cancels, run the saga's
// compensations, finish, quarantine, passivate. Runs on the run actor's
// thread.
#include "endure/actors/detail/run_state.hpp"

#include <caf/all.hpp>

#include <algorithm>

#include "endure/actors/atoms.hpp"
#include "endure/actors/detail/caf_error.hpp"
#include "endure/actors/detail/clock.hpp"
#include "endure/actors/detail/step_services.hpp"
#include "endure/actors/workflow_registry.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/log.hpp"
#include "endure/supervisors/exit_reasons.hpp"

namespace endure::detail {

run_state::~run_state() {
  // CAF destroys the state when the actor stops: attempts still running
  // elsewhere must not report to it any more.
  if (port_)
    port_->close();
  if (env_.counters)
    --env_.counters->live_actors;
}

void run_state::init(actor_ptr self, std::string run_id, run_env env) {
  self_ = self;
  run_id_ = std::move(run_id);
  env_ = std::move(env);
  port_ = std::make_shared<outcome_port>(caf::actor_cast<caf::actor>(self));
  ++env_.counters->live_actors;
}

// -- journal -------------------------------------------------------------------

void run_state::append(write_batch& batch, run_event e) {
  auto seq = next_seq_++;
  batch.append(run_id_, seq, encode_event(e));
  log_.apply(seq, std::move(e));
}

void run_state::persist(write_batch batch, std::function<void()> then) {
  if (open_batch_) {
    open_batch_->splice(std::move(batch));
    open_thens_.push_back(std::move(then));
    return;
  }
  auto token = next_token_++;
  persisting_.emplace_back(token, std::move(then));
  auto self = caf::actor_cast<caf::actor>(self_);
  env_.store->commit(std::move(batch), [self, token](const expected<void>& r) {
    caf::anon_send(self, atoms::persisted::value, token,
                   static_cast<std::uint8_t>(r ? 0 : static_cast<int>(r.error().code)),
                   r ? std::string{} : r.error().message);
  });
}

void run_state::persist_quietly(write_batch batch) {
  if (open_batch_) {
    open_batch_->splice(std::move(batch));
    return;
  }
  // Not awaited, but not ignored: a lost timer_scheduled would leave the
  // run asleep forever, so a failure stops the actor like any failed persist.
  auto self = caf::actor_cast<caf::actor>(self_);
  env_.store->commit(std::move(batch), [self](const expected<void>& r) {
    if (!r)
      caf::anon_send(self, atoms::persisted::value, std::uint64_t{0},
                     static_cast<std::uint8_t>(r.error().code), r.error().message);
  });
}

void run_state::persist_with(write_batch batch, const std::function<void()>& resume,
                             std::function<void()> durable) {
  if (open_batch_) {  // nested: the outer batch collects everything
    open_batch_->splice(std::move(batch));
    resume();
    if (durable)
      open_thens_.push_back(std::move(durable));
    return;
  }
  open_batch_ = std::move(batch);
  resume();
  auto merged = std::move(*open_batch_);
  open_batch_.reset();
  auto thens = std::exchange(open_thens_, {});
  if (durable)
    thens.insert(thens.begin(), std::move(durable));
  if (merged.empty() && thens.empty())
    return;
  persist(std::move(merged), [thens = std::move(thens)] {
    for (auto& then : thens)
      then();
  });
}

void run_state::on_persisted(std::uint64_t token, std::uint8_t code, const std::string& message) {
  std::function<void()> then;
  if (token != 0) {
    auto it = std::find_if(persisting_.begin(), persisting_.end(),
                           [token](const auto& p) { return p.first == token; });
    if (it == persisting_.end())
      return;
    then = std::move(it->second);
    persisting_.erase(it);
  }
  if (code != 0) {
    error failed{static_cast<errc>(code), message};
    if (creating_) {  // the run was never created: say why, nothing restarts
      auto why = error{failed.code, "cannot create run " + run_id_ + ": " + message};
      for (auto& r : start_replies_)
        r.deliver(to_caf_error(why));
      start_replies_.clear();
    }
    // Akka's rule: a failed persist stops the actor; the supervisor decides
    // (it restarts the run from what the journal holds).
    auto what = "run " + run_id_ + ": journal write failed: " + failed.to_string();
    log::error(what + (creating_ ? "" : "; the run restarts from its journal"));
    self_->quit(caf::make_error(caf::sec::runtime_error, what));
    return;
  }
  if (then)
    then();
  stop_when_idle();
}

// -- loading and starting --------------------------------------------------------

void run_state::load(bool barrier) {
  if (barrier) {  // let a dead incarnation's queued commits land first
    loading_ = true;
    persist(write_batch{}, [this] {
      load(false);
      loading_ = false;
      for (auto& request : std::exchange(deferred_, {}))
        request();  // answered against what the journal holds now
    });
    return;
  }
  auto meta = env_.store->run(run_id_);
  if (!meta && meta.error().code == errc::not_found)
    return;  // not created yet: wait for the start request
  if (!meta) {  // damaged meta: nothing can be written for this run
    log::error("run " + run_id_ + " cannot be resumed: " + meta.error().message);
    quarantined_ = true;  // out of service: deferred requests go back to the manager
    self_->quit();
    return;
  }
  auto records = env_.store->read(run_id_);
  if (!records) {
    created_ = true;
    quarantine(records.error().message);
    return;
  }
  for (auto& r : *records) {
    auto ev = decode_event(r.rec, run_id_, r.seq);
    if (!ev) {
      created_ = true;
      quarantine(ev.error().message);
      return;
    }
    log_.apply(r.seq, std::move(*ev));
  }
  auto last = env_.store->last_seq(run_id_);
  if (!last) {
    created_ = true;
    quarantine(last.error().message);
    return;
  }
  next_seq_ = std::max(log_.last_seq(), *last) + 1;
  created_ = true;
  stored_status_ = meta->status;
  if (auto& fin = log_.finished()) {
    // The previous incarnation may have stopped before it told the run
    // supervisor (and so the run's waiters); telling it again is harmless.
    caf::anon_send(env_.manager, atoms::finished::value, run_id_,
                   static_cast<std::uint8_t>(fin->status), fin->result, fin->error);
    self_->quit();
    return;
  }
  if (meta->status == run_status::quarantined) {
    quarantined_ = true;  // requests deferred behind the barrier go back to the manager
    self_->quit();
    return;
  }
  if (auto poison = poison_step()) {
    quarantine(*poison);
    return;
  }
  begin_workflow();
}

std::optional<std::string> run_state::poison_step() const {
  auto& steps = log_.steps();
  for (std::size_t index = 0; index < steps.size(); ++index)
    if (auto& s = steps[index];
        s.seen && !s.completed && s.crashed_attempts >= env_.limits.max_step_crashes)
      return "step '" + s.name + "' (#" + std::to_string(index) + ") of run " + run_id_
             + " was running when the process died " + std::to_string(s.crashed_attempts)
             + " times; quarantined instead of crash-looping. Fix the step, then "
               "`endure release " + run_id_ + "`";
  return std::nullopt;
}

void run_state::on_start(const std::string& workflow, std::string input,
                         guarded_reply rp) {
  if (loading_)
    return defer([this, workflow, input, rp]() mutable { on_start(workflow, input, rp); });
  // While the creating commit is in flight, `created_` is already set (the
  // workflow's first steps join that commit) but the run does not exist
  // yet: later starts wait for the commit's verdict like the first.
  if (creating_) {
    start_replies_.push_back(std::move(rp));
    return;
  }
  if (created_) {
    rp.deliver(static_cast<std::uint8_t>(stored_status_));
    return;
  }
  start_replies_.push_back(std::move(rp));
  run_meta meta{run_id_, workflow, run_status::running, now_ms(), now_ms(), {}};
  write_batch batch;
  batch.create_run(meta);
  append(batch, run_started_event{workflow, std::move(input), meta.created_at_ms});
  // One commit creates the run and starts its first steps; the replies and
  // the first bodies wait for it.
  creating_ = true;
  persist_with(std::move(batch), [this] {
    created_ = true;
    persist(write_batch{}, [this] {
      creating_ = false;
      for (auto& r : start_replies_)
        r.deliver(static_cast<std::uint8_t>(run_status::running));
      start_replies_.clear();
    });
    begin_workflow();
  });
}

void run_state::begin_workflow() {
  auto* wf = env_.workflows->find(log_.started()->workflow);
  if (!wf) {
    quarantine("run " + run_id_ + " uses workflow '" + log_.started()->workflow
               + "', which this process has not registered; register it, then "
                 "`endure release " + run_id_ + "`");
    return;
  }
  cancelling_ = log_.cancel().has_value();
  ctx_ = std::make_unique<context>(*this);
  root_ = (*wf)(*ctx_, log_.started()->input);
  // The steps the workflow reaches now journal their starts in one batch,
  // and their bodies run only once it is durable: a body that kills the
  // process must find its attempt counted (poison steps), and `endure
  // inspect` must see every attempt that ran.
  persist_with(write_batch{}, [this] {
    root_.start();
    after_resume();
  });
}

// -- after each resumption ---------------------------------------------------------

void run_state::after_resume() {
  if (finishing_ || quarantined_)
    return;
  if (root_.done() && !compensating_) {
    on_root_done();
    return;
  }
  update_status();
}

void run_state::on_root_done() {
  try {
    auto result = root_.result();
    finish(run_status::completed, std::move(result), {});
    return;
  } catch (const non_determinism_error&) {
    return;  // quarantine() is already under way
  } catch (const cancelled_error& e) {
    final_status_ = run_status::cancelled;
    final_error_ = log_.cancel() ? "cancelled: " + log_.cancel()->reason : e.what();
  } catch (const step_failed_error& e) {
    final_status_ = run_status::failed;
    final_error_ = "step '" + e.step_name() + "' failed (" + std::string{to_string(e.info().cls)}
                   + "): " + e.what();
  } catch (const step_error& e) {
    // A failure the workflow chose to throw (fatal_error, ...): the run fails.
    final_status_ = run_status::failed;
    final_error_ = std::string{"workflow failed ("} + std::string{to_string(e.info().cls)}
                   + "): " + e.what();
  } catch (const std::exception& e) {
    crash(std::string{"workflow threw "} + e.what());
    return;
  } catch (...) {
    crash("workflow threw an exception not derived from std::exception");
    return;
  }
  // Saga: undo completed steps, most recent first.
  compensating_ = true;
  std::stable_sort(compensations_.begin(), compensations_.end(),
                   [](auto& a, auto& b) { return a.step > b.step; });
  run_next_compensation();
}

void run_state::crash(const std::string& what) {
  // Any other exception is a bug, as in Temporal: the run is not failed but
  // its actor dies, so the run supervisor restarts it from the journal (with
  // backoff) and quarantines it past its intensity, until a fix is deployed
  // and the run released. Nothing of the journal is lost or undone.
  self_->quit(exception_reason("run " + run_id_ + ": " + what));
}

void run_state::run_next_compensation() {
  if (next_compensation_ == compensations_.size()) {
    finish(final_status_, {}, final_error_);
    return;
  }
  auto& c = compensations_[next_compensation_++];
  op_request req;
  req.kind = op_kind::activity;
  req.name = "compensate " + c.name;
  req.input_hash = hash_bytes(req.name);
  req.policy = c.policy;
  req.body = [undo = c.undo](const step_info& info) {
    undo(info);
    return nil_bytes();
  };
  compensation_slot_ = std::make_unique<op_slot>();
  auto next = [this, name = req.name] {
    if (compensation_slot_->error)
      final_error_ += "; " + name + " failed: " + compensation_slot_->error->message;
    run_next_compensation();
  };
  prepare(req, *compensation_slot_);
  if (compensation_slot_->ready) {
    next();
    return;
  }
  compensation_slot_->notify = next;
  submit(std::move(req), *compensation_slot_);
}

// -- the end -----------------------------------------------------------------------

void run_state::finish(run_status status, std::string result, std::string error) {
  finishing_ = true;
  finishing_status_ = status;
  write_batch batch;
  append(batch, run_finished_event{status, result, error, now_ms()});
  batch.set_status(run_id_, status, error, now_ms());
  erase_timers(batch);  // a cancelled sleeper must not be woken ever again
  persist(std::move(batch), [this, status, result, error] {
    caf::anon_send(env_.manager, atoms::finished::value, run_id_,
                   static_cast<std::uint8_t>(status), result, error);
    if (uses_gateway_ && env_.services)  // what it left pending leaves the inboxes
      env_.services->run_ended(run_id_, status);
    self_->quit();
  });
}

void run_state::quarantine(std::string reason) {
  if (quarantined_)
    return;
  quarantined_ = true;
  log::warn("run " + run_id_ + " quarantined: " + reason);
  write_batch batch;
  batch.set_status(run_id_, run_status::quarantined, reason, now_ms());
  erase_timers(batch);
  auto done = [this, reason] {
    caf::anon_send(env_.manager, atoms::finished::value, run_id_,
                   static_cast<std::uint8_t>(run_status::quarantined), std::string{}, reason);
    self_->quit();
  };
  persist(std::move(batch), done);
}

void run_state::erase_timers(write_batch& batch) const {
  auto& steps = log_.steps();
  for (std::size_t index = 0; index < steps.size(); ++index)
    if (auto& s = steps[index]; s.seen && s.timer_due)
      batch.erase_timer({*s.timer_due, run_id_, index});
}

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
  if (!created_) {
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
  if (log_.has_signal_request(request_id)) {  // an earlier actor journaled it
    if (with.empty())
      return rp.deliver(caf::ok_atom::value);
    return persist(std::move(with), [rp]() mutable { rp.deliver(caf::ok_atom::value); });
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
  if (!created_) {
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
