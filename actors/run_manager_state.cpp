// The run manager's own bookkeeping (detail/run_manager_state.hpp): run
// actors, crashes and quarantines, recovery, its journal writes, shutdown.
// Runs on the manager's thread.
#include "endure/actors/detail/run_manager_state.hpp"

#include <caf/all.hpp>

#include "endure/actors/activity_pool.hpp"
#include "endure/actors/atoms.hpp"
#include "endure/actors/detail/caf_error.hpp"
#include "endure/actors/detail/clock.hpp"
#include "endure/actors/detail/run_actor.hpp"
#include "endure/actors/heap_trim.hpp"
#include "endure/actors/run_event_feed.hpp"
#include "endure/actors/run_outcome.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/log.hpp"
#include "endure/supervisors/backoff.hpp"
#include "endure/supervisors/exit_reasons.hpp"

namespace endure::detail {

manager_state::~manager_state() {
  for (auto& [id, actor] : active)
    caf::anon_send_exit(actor, caf::exit_reason::kill);
  env.counters->waits -= [this] {
    std::uint64_t n = 0;
    for (auto& [id, list] : waiters)
      n += list.size();
    return n;
  }();
}

// -- run actors ----------------------------------------------------------------------

caf::actor manager_state::spawn(const std::string& id) {
  bool barrier = crashed.erase(id) > 0 || opts.barrier_all;
  auto a = spawn_run_actor(self, id, env, barrier);
  active.emplace(id, a);
  ids.emplace(a.address(), id);
  return a;
}

void manager_state::wake(const std::string& id) {
  if (stopping || active.count(id) || queued_ids.count(id) || is_busy(id))
    return;
  if (full()) {
    queued_ids.insert(id);
    queue.push_back({id, {}, {}, {}});
    return;
  }
  spawn(id);
}

void manager_state::admit_queued() {
  while (!queue.empty() && !full()) {
    auto q = std::move(queue.front());
    queue.pop_front();
    queued_ids.erase(q.run_id);
    auto it = active.find(q.run_id);
    auto a = it != active.end() ? it->second : spawn(q.run_id);
    if (q.rp.pending())
      start_via(a, q.run_id, q.workflow, q.input, q.rp);
  }
}

void manager_state::on_down(const caf::down_msg& dm) {
  auto it = ids.find(dm.source);
  if (it == ids.end())
    return;
  auto id = it->second;
  ids.erase(it);
  active.erase(id);
  note_stop();
  if (!stopping && dm.reason && dm.reason != caf::exit_reason::normal
      && dm.reason != caf::exit_reason::user_shutdown)
    on_crash(id, describe(dm.reason));
  unpark(id);
  if (stopping)
    return quit_when_drained();
  admit_queued();
}

void manager_state::note_stop() {
  // Many run actors stopped (passivated, finished): their memory is free
  // but still held by the allocator; give it back a little later, once per
  // burst rather than once per actor.
  if (trims.on_stop())
    self->delayed_send(self, opts.trim_interval, atoms::trim::value);
}

void manager_state::on_trim() {
  trims.on_trimmed();
  env.pool->submit([] { release_free_heap(); });
}

void manager_state::on_crash(const std::string& id, const std::string& reason) {
  crashed.insert(id);
  // Decided once the dead actor's queued commits have landed (an empty
  // commit behind them), so the journal says whether the run exists; the
  // run is busy meanwhile and requests for it wait.
  write(id, write_batch{}, [this, id, reason](const expected<void>&) {
    if (auto meta = env.store->run(id); !meta && meta.error().code == errc::not_found) {
      // Its creation never became durable (the start was told why):
      // nothing to restart or quarantine.
      log::warn("run actor of " + id + " stopped before the run was created (" + reason + ")");
      restarts.erase(id);
      refuse_waiters(id, to_caf_error(errc::not_found, "run " + id + " was never created: "
                                      "its creating commit failed (" + reason + ")"));
      return;
    }
    after_crash(id, reason);
  });
}

void manager_state::after_crash(const std::string& id, const std::string& reason) {
  auto window = restarts.try_emplace(id, opts.restart_intensity, opts.restart_period).first;
  auto now = std::chrono::steady_clock::now();
  if (!window->second.record(now)) {
    std::uniform_real_distribution<double> unit{0.0, 1.0};
    auto delay = backoff_delay(opts.restart_backoff, window->second.count(now) - 1, unit(rng));
    log::warn("run actor of " + id + " crashed (" + reason + "); restarting it from its journal in "
              + std::to_string(delay.count()) + " ms");
    restarting.insert(id);
    self->delayed_send(self, delay, atoms::restart::value, id);
    return;
  }
  quarantine(id, "run actor of " + id + " crashed " + std::to_string(window->second.count(now))
                   + " times within " + std::to_string(opts.restart_period.count())
                   + " ms; last: " + reason + ". Fix the cause, then `endure release " + id + "`");
}

void manager_state::quarantine(const std::string& id, const std::string& why,
                               std::chrono::milliseconds retry_after) {
  write_batch b;
  b.set_status(id, run_status::quarantined, why, now_ms(), /*unless_ended=*/true);
  write(id, std::move(b), [this, id, why, retry_after](const expected<void>& r) {
    if (r) {
      restarts.erase(id);
      auto outcome = read_outcome(*env.store, id);
      if (outcome && is_terminal(outcome->status)) {  // it ended just before
        notify(id, {static_cast<std::uint8_t>(outcome->status), outcome->result, outcome->error});
        return;
      }
      log::warn("run " + id + " quarantined: " + why);
      publish_if(env.events, [&] {
        auto meta = env.store->run(id);
        return run_changed{id, meta ? meta->workflow : std::string{}, run_status::quarantined,
                           why};
      });
      notify(id, {static_cast<std::uint8_t>(run_status::quarantined), {}, why});
      return;
    }
    if (r.error().code == errc::not_found) {  // never created: nothing to keep out
      restarts.erase(id);
      return;
    }
    // Not quarantined until it is durable: say so, keep the run out of
    // service (busy) and try again.
    log::error("run " + id + " could not be quarantined: " + r.error().to_string()
               + "; trying again in " + std::to_string(retry_after.count()) + " ms");
    // Requests waiting for the run get the storage error once the disk has
    // failed for seconds, instead of waiting for as long as it fails.
    if (auto parked = retry_after >= std::chrono::seconds{2} ? parked_requests.extract(id)
                                                              : decltype(parked_requests)::node_type{})
      for (auto& p : parked.mapped())
        p.rp.deliver(to_caf_error(r.error().code,
                                  "run " + id + " is out of service: its quarantine could not "
                                  "be journaled (" + r.error().message + "); try again later"));
    ++busy[id];
    self->delayed_send(self, retry_after, atoms::quarantine::value, id, why,
                       std::min<std::int64_t>(retry_after.count() * 2, 60'000));
  });
}

void manager_state::restart(const std::string& id) {
  restarting.erase(id);
  auto outcome = read_outcome(*env.store, id);
  if (outcome && (is_terminal(outcome->status) || outcome->status == run_status::quarantined)) {
    // It ended before it crashed (its last commit landed, the news did not).
    notify(id, {static_cast<std::uint8_t>(outcome->status), outcome->result, outcome->error});
  } else if (outcome || parked_requests.count(id) > 0) {
    wake(id);
  }
  unpark(id);
}

void manager_state::recover() {
  auto listing = env.store->scan_runs(run_status::running);
  if (!listing) {
    recovery_retry = std::min(std::max(recovery_retry * 2, std::chrono::milliseconds{500}),
                              std::chrono::milliseconds{60'000});
    log::error("cannot list the unfinished runs to resume: " + listing.error().to_string()
               + "; trying again in " + std::to_string(recovery_retry.count()) + " ms");
    self->delayed_send(self, recovery_retry, atoms::recover::value);
    return;
  }
  recovery_retry = std::chrono::milliseconds{0};
  for (auto& d : listing->damaged)
    log::error("run " + d.id + " is not resumed: its stored meta is damaged ("
               + d.why.message + "); every other run goes on");
  for (auto& r : listing->runs)
    recovery.push_back(r.id);
  tick();
}

void manager_state::tick() {
  for (std::size_t n = 0; n < opts.recovery_batch && !recovery.empty(); ++n) {
    wake(recovery.front());
    recovery.pop_front();
  }
  if (!recovery.empty())
    self->delayed_send(self, opts.tick, atoms::tick::value);
}

void manager_state::shut_down(caf::error reason) {
  stopping = true;
  stop_reason = std::move(reason);
  recovery.clear();
  auto refusal = to_caf_error(errc::shut_down, "the runtime is shutting down");
  for (auto& q : queue)
    if (q.rp.pending())
      q.rp.deliver(refusal);
  queue.clear();
  queued_ids.clear();
  auto left = std::exchange(waiters, {});
  for (auto& [id, list] : left)
    env.counters->waits -= list.size();
  for (auto& [id, list] : left)
    for (auto& w : list)
      w.rp.deliver(to_caf_error(errc::shut_down, "the runtime is shutting down; run " + id
                                                   + " resumes at the next start"));
  for (auto& [id, actor] : active)
    self->send_exit(actor, caf::exit_reason::user_shutdown);
  quit_when_drained();
}

void manager_state::quit_when_drained() {
  // The manager's own writes in flight (a signal to a quarantined run, a
  // release) land and answer their callers first: an acknowledged-later
  // request must not look lost and be sent again.
  if (stopping && active.empty() && writes.empty())
    self->quit(stop_reason);
}

// -- the manager's own writes ---------------------------------------------------------

void manager_state::write(const std::string& id, write_batch batch,
                          std::function<void(const expected<void>&)> then) {
  auto token = next_write++;
  ++busy[id];
  writes.emplace(token, [this, id, then = std::move(then)](const expected<void>& r) {
    if (--busy[id] == 0)
      busy.erase(id);
    then(r);
    unpark(id);
  });
  // Completed on the writer thread: back to this actor by message.
  auto me = caf::actor_cast<caf::actor>(self);
  env.store->commit(std::move(batch), [me, token](const expected<void>& r) {
    caf::anon_send(me, atoms::journaled::value, token,
                   static_cast<std::uint8_t>(r ? 0 : static_cast<int>(r.error().code)),
                   r ? std::string{} : r.error().message);
  });
}

void manager_state::on_written(std::uint64_t token, std::uint8_t code,
                               const std::string& message) {
  auto it = writes.find(token);
  if (it == writes.end())
    return;
  auto then = std::move(it->second);
  writes.erase(it);
  if (code == 0)
    then(expected<void>{});
  else
    then(error{static_cast<errc>(code), message});
  quit_when_drained();
}

void manager_state::park(const std::string& id, guarded_reply rp, retry_fn again) {
  parked_requests[id].push_back({std::move(rp), std::move(again)});
}

void manager_state::unpark(const std::string& id) {
  if (is_busy(id))
    return;
  auto it = parked_requests.find(id);
  if (it == parked_requests.end())
    return;
  auto list = std::move(it->second);
  parked_requests.erase(it);
  for (auto& p : list)
    p.again(std::move(p.rp));
}

} // namespace endure::detail
