// Operations of a run: steps (attempts, retries, timeouts), timers, signal
// waits, journaled values. Each outcome is persisted, then delivered to the
// awaiting workflow code. Runs on the run actor's thread.
#include "endure/actors/detail/run_state.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <random>

#include "endure/actors/activity_pool.hpp"
#include "endure/actors/atoms.hpp"
#include "endure/actors/detail/clock.hpp"
#include "endure/actors/run_event_feed.hpp"
#include "endure/persistence/journal.hpp"

namespace endure::detail {

namespace {

/// The shortest longest-wait of a run actor's own timer message
/// (send_timer): a hop is max(this, passivate_after), since the
/// passivation message holds the actor that long anyway, and a shorter hop
/// only wakes every waiting live run more often.
constexpr std::int64_t min_timer_hop_ms = 1000;

double unit_random() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>{0.0, 1.0}(rng);
}

failure failure_from(const std::exception& e) {
  if (auto* se = dynamic_cast<const step_error*>(&e))
    return se->info();
  return failure{failure_class::retryable, e.what(), std::nullopt, 0};
}

/// What one attempt of a step's function produced: its result bytes or
/// the failure it threw, and how long it ran.
struct body_outcome {
  std::optional<std::string> result;
  failure error;
  std::int64_t duration_us = 0;
};

body_outcome run_body(const std::function<std::string(const step_info&)>& body,
                      const step_info& info) {
  auto t0 = std::chrono::steady_clock::now();
  body_outcome out;
  try {
    out.result = body(info);
  } catch (const std::exception& e) {
    out.error = failure_from(e);
  } catch (...) {
    out.error = failure{failure_class::retryable, "unknown exception", std::nullopt, 0};
  }
  out.duration_us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - t0).count();
  return out;
}

} // namespace

// -- run_host ------------------------------------------------------------------

void run_state::prepare(op_request& req, op_slot& slot) {
  req.step = next_step_++;
  if (quarantined_)
    throw non_determinism_error("run " + run_id_ + " is quarantined");
  auto* rec = log_.step(req.step);
  if (rec && (rec->name != req.name
              || (rec->input_hash && req.input_hash && rec->input_hash != req.input_hash))) {
    auto why = "non-determinism in run " + run_id_ + " at step " + std::to_string(req.step)
               + ": the journal holds step '" + rec->name + "' but the workflow asked for '"
               + req.name + "'" + (rec->name == req.name ? " with a different input" : "")
               + "; the workflow code changed under a live run or is not deterministic. "
                 "Fix the code, then `endure release` the run";
    quarantine(why);
    throw non_determinism_error(why);
  }
  if (rec && rec->completed) {
    slot.ready = true;
    slot.result = rec->completed->result;
    if (req.kind == op_kind::signal) {
      slot.timed_out = rec->completed->signal_seq == 0;
      slot.result = signal_result(req, rec->completed->signal_seq, std::move(*slot.result));
    }
    ++env_.counters->steps_replayed;
  } else if (rec && rec->last_failure && rec->last_failure->final) {
    auto& f = *rec->last_failure;
    slot.ready = true;
    slot.error = failure{f.cls, f.message, std::nullopt, f.http_status};
  } else if (cancelling_ && !compensating_) {
    slot.ready = true;
    slot.cancelled = true;
  }
}

bool run_state::next_journaled_step_is(const std::string& name, std::uint64_t input_hash) const {
  auto* rec = log_.step(next_step_);
  return rec && rec->name == name && rec->input_hash == input_hash;
}

std::string run_state::signal_result(const op_request& req, std::uint64_t signal_seq,
                                     std::string payload) const {
  if (req.trusted_sender.empty() || signal_seq == 0)
    return payload;
  auto* sig = log_.signal_at(signal_seq);
  return sig && sig->request_id == req.trusted_sender ? std::move(payload) : req.foreign_result;
}

void run_state::submit(op_request req, op_slot& slot) {
  auto step = req.step;
  auto& p = pending_[step];
  p.req = std::move(req);
  p.slot = &slot;
  auto* rec = log_.step(step);
  switch (p.req.kind) {
    case op_kind::activity:
    case op_kind::async:
      if (p.req.run_inline && p.req.policy.attempt_timeout.count() > 0) {
        refuse_inline_timeout(p);
        break;
      }
      p.body = std::make_shared<std::function<std::string(const step_info&)>>(
        std::move(p.req.body));
      p.first_started_ms = rec && rec->first_started_ms ? rec->first_started_ms : now_ms();
      if (rec && rec->timer_due) {  // a durable backoff was pending
        p.timer_due = rec->timer_due;
        restore_timer_row(*p.timer_due, step);
        send_timer(step, *rec->timer_due, /*retry*/ true);
      } else {
        start_attempt(p, (rec ? rec->attempts_started : 0) + 1);
      }
      break;
    case op_kind::value:
      complete(step, p.req.value(), 0, 0, 0);
      break;
    case op_kind::sleep:
      arm_timer(p);
      break;
    case op_kind::signal:
      try_consume_signal(p);
      break;
  }
}

void run_state::add_compensation(std::uint64_t step, std::string name,
                                 std::function<void(const step_info&)> undo,
                                 retry_policy policy) {
  compensations_.push_back({step, std::move(name), std::move(undo), policy});
}

// -- attempts ------------------------------------------------------------------

void run_state::refuse_inline_timeout(pending_op& p) {
  // A programming error, the same on every replay: the step fails (fatal)
  // without running, and the message says what to change.
  failure f{failure_class::fatal,
            "step '" + p.req.name + "' (#" + std::to_string(p.req.step) + ") of run " + run_id_
              + " asks for run_inline() and an attempt timeout; an inline attempt cannot be "
                "abandoned, so drop one of the two",
            std::nullopt, 0};
  deliver(p.req.step, [&f](op_slot& slot) { slot.error = std::move(f); });
}

void run_state::start_attempt(pending_op& p, std::uint32_t attempt) {
  if (stopping_)
    return;  // shutting down: the next runtime starts it
  p.attempt = attempt;
  write_batch batch;
  append(batch, step_started_event{p.req.step, p.req.name, p.req.input_hash, attempt, now_ms()});
  if (p.timer_due) {  // the backoff timer is spent
    batch.erase_timer({*p.timer_due, run_id_, p.req.step});
    p.timer_due.reset();
  }
  step_info info{run_id_, p.req.name, p.req.step, attempt,
                 run_id_ + "/" + std::to_string(p.req.step)};
  ++env_.counters->steps_executed;
  if (attempt > 1)
    ++env_.counters->retries;
  if (await_start_ && !open_batch_) {  // fenced replication: once the start is acknowledged
    awaited_starts_[next_token_] = {p.req.step, attempt};
    return persist(std::move(batch), dispatch_later(p.req.step, std::move(info)));
  }
  persist_quietly(std::move(batch));  // rides the next group commit, not awaited
  // Last: an inline body may complete the step right here, and delivering
  // its result erases `p`.
  dispatch_body(p, std::move(info));
}

std::function<void()> run_state::dispatch_later(std::uint64_t step, step_info info) {
  return [this, step, info = std::move(info)]() mutable {
    auto it = pending_.find(step);
    if (it != pending_.end() && it->second.attempt == info.attempt)
      dispatch_body(it->second, std::move(info));
  };
}

void run_state::dispatch_body(pending_op& p, step_info info) {
  if (stopping_) {  // its start is journaled: record that it never ran
    write_batch batch;
    append(batch, step_interrupted_event{p.req.step, p.req.name, info.attempt, now_ms()});
    persist_quietly(std::move(batch));
    p.attempt = 0;
    return;
  }
  if (open_batch_) {  // a side effect: only once this attempt's start is durable
    bool to_pool = p.req.kind == op_kind::activity && !p.req.run_inline;
    (to_pool ? open_handoffs_ : open_thens_).push_back(dispatch_later(p.req.step, std::move(info)));
    return;
  }
  auto step = p.req.step;
  auto attempt = info.attempt;
  // Timed from the body's start, not its journaling: a start waiting for
  // its acknowledgement (a fencing sink) does not spend the attempt.
  if (p.req.policy.attempt_timeout.count() > 0 && !p.req.run_inline)
    self_->delayed_send(self_, p.req.policy.attempt_timeout, atoms::attempt_timeout::value, step,
                        attempt);
  if (p.req.kind == op_kind::async) {
    auto t0 = std::chrono::steady_clock::now();
    try {
      p.req.async_body(info, [port = port_, step, attempt, t0](std::optional<std::string> result,
                                                                std::optional<failure> error) {
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - t0).count();
        if (!result && !error)
          error = failure{failure_class::retryable,
                          "async step ended with neither result nor failure", std::nullopt, 0};
        port->report(step, attempt, std::move(result), error ? *error : failure{}, us);
      });
    } catch (const std::exception& e) {  // classified like a body's throw
      port_->report(step, attempt, std::nullopt, failure_from(e), 0);
    } catch (...) {
      port_->report(step, attempt, std::nullopt,
                    failure{failure_class::retryable, "unknown exception", std::nullopt, 0}, 0);
    }
    return;
  }
  if (p.req.run_inline) {  // on this thread: no hand-off (op_awaiter::run_inline)
    auto out = run_body(*p.body, info);
    if (out.result)
      on_step_done(step, attempt, std::move(*out.result), out.duration_us);
    else
      on_step_fail(step, attempt, std::move(out.error), out.duration_us);
    return;
  }
  env_.pool->submit([port = port_, body = p.body, info = std::move(info), step, attempt] {
    auto out = run_body(*body, info);
    port->report(step, attempt, std::move(out.result), out.error, out.duration_us);
  });
}

void run_state::on_step_done(std::uint64_t step, std::uint32_t attempt, std::string result,
                             std::int64_t duration_us) {
  auto it = pending_.find(step);
  if (it == pending_.end() || it->second.attempt != attempt)
    return;  // an abandoned (timed-out) attempt finished late
  it->second.attempt = 0;
  env_.counters->instruments.attempt_ended(false, false, {}, duration_us);
  complete(step, std::move(result), attempt, duration_us, 0);
  stop_when_idle();
}

void run_state::on_attempt_timeout(std::uint64_t step, std::uint32_t attempt) {
  auto it = pending_.find(step);
  if (it == pending_.end() || it->second.attempt != attempt)
    return;
  auto ms = it->second.req.policy.attempt_timeout.count();
  on_step_fail(step, attempt,
               failure{failure_class::retryable,
                       "run " + run_id_ + " step '" + it->second.req.name + "': attempt "
                         + std::to_string(attempt) + " timed out after " + std::to_string(ms)
                         + " ms and was abandoned",
                       std::nullopt, 0},
               ms * 1000);
}

void run_state::on_step_fail(std::uint64_t step, std::uint32_t attempt, failure f,
                             std::int64_t duration_us) {
  auto it = pending_.find(step);
  if (it == pending_.end() || it->second.attempt != attempt)
    return;
  auto& p = it->second;
  p.attempt = 0;
  auto now = now_ms();
  auto decision = decide_retry(p.req.policy, f, attempt,
                               std::chrono::milliseconds{now - p.first_started_ms},
                               unit_random());
  env_.counters->instruments.attempt_ended(true, decision.retry, f.cls, duration_us);
  step_failed_event ev{step, p.req.name, attempt, f.cls, f.message,
                       now + decision.delay.count(), !decision.retry, now, duration_us,
                       f.http_status};
  write_batch batch;
  append(batch, ev);
  publish_step_if(env_.events, run_id_, step_interest_, [&] {
    return step_changed{run_id_, step, p.req.name, attempt,
                        decision.retry ? step_outcome::retrying : step_outcome::failed};
  });
  if (decision.retry) {
    p.timer_due = ev.retry_at_ms;  // durable: a passivated run is woken for it
    batch.put_timer({ev.retry_at_ms, run_id_, step});
    persist(std::move(batch), [this, step, due = ev.retry_at_ms] {
      send_timer(step, due, /*retry*/ true);
      update_status();
    });
    stop_when_idle();
    return;
  }
  persist(std::move(batch), [this, step, f = std::move(f)] {
    deliver(step, [&f](op_slot& slot) { slot.error = f; });
  });
  stop_when_idle();
}

void run_state::on_retry(std::uint64_t step) {
  auto it = pending_.find(step);
  if (stopping_ || it == pending_.end() || it->second.attempt != 0)
    return;
  if (auto due = it->second.timer_due; due && now_ms() < *due)
    return send_timer(step, *due, /*retry*/ true);  // the next hop
  auto* rec = log_.step(step);
  start_attempt(it->second, (rec ? rec->attempts_started : 0) + 1);
  update_status();
}

// -- timers and signals ----------------------------------------------------------

void run_state::arm_timer(pending_op& p) {
  auto* rec = log_.step(p.req.step);
  if (rec && rec->timer_due) {
    p.timer_due = rec->timer_due;
    restore_timer_row(*p.timer_due, p.req.step);
  } else {
    p.timer_due = now_ms() + p.req.duration.count();
    write_batch batch;
    append(batch, timer_scheduled_event{p.req.step, p.req.name, p.req.input_hash, *p.timer_due});
    batch.put_timer({*p.timer_due, run_id_, p.req.step});
    persist_quietly(std::move(batch));
  }
  send_timer(p.req.step, *p.timer_due);
}

void run_state::send_timer(std::uint64_t step, std::int64_t due_ms, bool retry) {
  auto hop = std::max<std::int64_t>(min_timer_hop_ms, env_.limits.passivate_after.count());
  auto wait = std::chrono::milliseconds{std::clamp<std::int64_t>(due_ms - now_ms(), 0, hop)};
  if (retry)
    self_->delayed_send(self_, wait, atoms::retry::value, step);
  else
    self_->delayed_send(self_, wait, atoms::timer::value, step);
}

void run_state::try_consume_signal(pending_op& p) {
  if (auto* sig = log_.next_signal(p.req.name)) {
    complete(p.req.step, sig->payload, 0, 0, sig->seq);
    return;
  }
  signal_waiters_[p.req.name].push_back(p.req.step);
  if (p.req.duration.count() > 0)
    arm_timer(p);
}

void run_state::restore_timer_row(std::int64_t due_ms, std::uint64_t step) {
  // A quarantine erased the run's timer rows; the release that resumed it
  // did not know them. Nothing else erases the row of a timer still
  // pending, so a run never released has it: no write (it was a commit
  // of its own in front of whatever woke a passivated run waiting with a
  // timeout, a decision among them).
  if (!log_.released())
    return;
  write_batch batch;
  batch.put_timer({due_ms, run_id_, step});
  persist_quietly(std::move(batch));
}

void run_state::on_timer(std::uint64_t step) {
  auto it = pending_.find(step);
  if (stopping_ || it == pending_.end() || !it->second.timer_due)
    return;
  if (now_ms() < *it->second.timer_due)
    return send_timer(step, *it->second.timer_due);  // the next hop
  if (it->second.req.kind == op_kind::signal) {
    auto& waiters = signal_waiters_[it->second.req.name];
    std::erase(waiters, step);
  }
  complete(step, {}, 0, 0, 0);  // sleep done, or signal wait timed out
}

void run_state::complete(std::uint64_t step, std::string result, std::uint32_t attempt,
                         std::int64_t duration_us, std::uint64_t signal_seq, write_batch first,
                         std::function<void()> durable) {
  auto& p = pending_.at(step);
  write_batch batch = std::move(first);
  step_completed_event done{step, p.req.name, p.req.input_hash, attempt, result,
                            now_ms(), duration_us, signal_seq, {}};
  if (p.req.usage)
    done.usage = p.req.usage(done.result);
  append(batch, std::move(done));
  publish_step_if(env_.events, run_id_, step_interest_, [&] {
    return step_changed{run_id_, step, p.req.name, attempt, step_outcome::completed};
  });
  if (p.timer_due && p.req.kind != op_kind::activity && p.req.kind != op_kind::async)
    batch.erase_timer({*p.timer_due, run_id_, step});
  bool timed_out = p.req.kind == op_kind::signal && signal_seq == 0;
  if (p.req.kind == op_kind::signal)
    result = signal_result(p.req, signal_seq, std::move(result));
  auto resume = [this, step, result = std::move(result), timed_out]() mutable {
    deliver(step, [&](op_slot& slot) {
      slot.result = std::move(result);
      slot.timed_out = timed_out;
    });
  };
  if (open_batch_) {  // completed during another resumption: after its commit
    persist(std::move(batch), [resume = std::move(resume), durable = std::move(durable)]() mutable {
      if (durable)
        durable();
      resume();
    });
    return;
  }
  // The result reaches the workflow before it is durable: workflow code is
  // deterministic and has no side effects, and everything the resumption
  // journals (the next step's step_started, a run_finished) joins this
  // batch, while every effect (the next body, replies) waits for its commit.
  // So one commit per step instead of two, and the next step's start is
  // durable before its body runs. If the commit fails the actor stops and
  // its restart replays the journal, which never saw any of it.
  persist_with(std::move(batch), resume, std::move(durable));
}

void run_state::deliver(std::uint64_t step, std::function<void(op_slot&)> fill) {
  auto it = pending_.find(step);
  if (it == pending_.end())
    return;
  auto* slot = it->second.slot;
  pending_.erase(it);
  fill(*slot);
  slot->ready = true;
  auto notify = std::move(slot->notify);
  notify();  // resumes the workflow until its next await
  after_resume();
}

} // namespace endure::detail
