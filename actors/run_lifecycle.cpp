// A run's lifecycle: load and replay the journal, create on first start,
// drive the workflow coroutine, run the saga's compensations, finish,
// quarantine. What the run does with requests from outside (signals,
// cancel, passivation, shutdown) is in run_interrupts.cpp. Runs on the run
// actor's thread.
#include "endure/actors/detail/run_state.hpp"

#include <caf/all.hpp>

#include <algorithm>

#include "endure/actors/atoms.hpp"
#include "endure/actors/detail/caf_error.hpp"
#include "endure/actors/detail/clock.hpp"
#include "endure/actors/detail/step_services.hpp"
#include "endure/actors/run_event_feed.hpp"
#include "endure/actors/workflow_registry.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/fencing_sink.hpp"
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
  await_start_ = fences_side_effects(env_.store->options().sink.get());
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
  // Hand-offs to the pool first: a body handed over before the sender of
  // what resumed the run is answered starts one thread wake-up sooner (a
  // reply to a blocked sender costs a futex wake, ~20-40 us on a VM). Then
  // the reply, then the rest: a body that runs inline must not hold it.
  auto thens = std::exchange(open_handoffs_, {});
  if (durable)
    thens.push_back(std::move(durable));
  for (auto& then : open_thens_)
    thens.push_back(std::move(then));
  open_thens_.clear();
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
  // Empty unless the journal's sink fences side effects (off the hot path).
  if (auto start = awaited_starts_.empty() ? awaited_starts_.end() : awaited_starts_.find(token);
      start != awaited_starts_.end()) {
    auto [step, attempt] = start->second;
    awaited_starts_.erase(start);
    if (code == static_cast<std::uint8_t>(errc::shut_down))
      return interrupt_unacknowledged(step, attempt);
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

void run_state::interrupt_unacknowledged(std::uint64_t step, std::uint32_t attempt) {
  // A start the fencing sink will never acknowledge (its node stops, or
  // was taken over): the body never ran. The start is in the local journal;
  // say so next to it, or the next load counts the step as crashed.
  auto it = pending_.find(step);
  if (it == pending_.end() || it->second.attempt != attempt)
    return;
  write_batch batch;
  append(batch, step_interrupted_event{step, it->second.req.name, attempt, now_ms()});
  it->second.attempt = 0;
  persist_quietly(std::move(batch));
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
    // Not "no such run": requests deferred behind the barrier are asked
    // again (the manager reads the meta and answers its error), so a
    // decision on the way is retried, not dropped as undeliverable.
    log::error("run " + run_id_ + " cannot be resumed: " + meta.error().message);
    quarantined_ = true;  // out of service: deferred requests go back to the manager
    self_->quit();
    return;
  }
  stored_workflow_ = meta->workflow;
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
  // A start attaches only to a run of its own workflow (the meta's where
  // the log could not be read: the run is being quarantined).
  const auto& existing = log_.started() ? log_.started()->workflow : stored_workflow_;
  if ((creating_ || created_) && !existing.empty())
    if (auto same = check_same_workflow(run_id_, existing, workflow); !same)
      return rp.deliver(to_caf_error(same.error()));
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
  if (quarantined_)  // its meta could not be read: never create over it
    return ask_again(rp);
  start_replies_.push_back(std::move(rp));
  run_meta meta{run_id_, workflow, run_status::running, now_ms(), now_ms(), {}};
  write_batch batch;
  batch.create_run(meta);
  append(batch, run_started_event{workflow, std::move(input), meta.created_at_ms});
  publish_status(run_status::running);  // before the first steps' events
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
    publish_status(status, error);
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
    publish_status(run_status::quarantined, reason);
    caf::anon_send(env_.manager, atoms::finished::value, run_id_,
                   static_cast<std::uint8_t>(run_status::quarantined), std::string{}, reason);
    self_->quit();
  };
  persist(std::move(batch), done);
}

void run_state::publish_status(run_status status, const std::string& detail) const {
  publish_if(env_.events, [&] {
    return run_changed{run_id_, log_.started() ? log_.started()->workflow : std::string{},
                       status, detail};
  });
}

void run_state::erase_timers(write_batch& batch) const {
  auto& steps = log_.steps();
  for (std::size_t index = 0; index < steps.size(); ++index)
    if (auto& s = steps[index]; s.seen && s.timer_due)
      batch.erase_timer({*s.timer_due, run_id_, index});
}

} // namespace endure::detail
