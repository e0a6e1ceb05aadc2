// Requests to the run manager (detail/run_manager_state.hpp): start,
// signal, cancel, release and wait. Each is answered exactly once, with a
// value or a typed refusal (errc in a caf::error); a request that meets a
// run actor on its way out is handled again once that actor is down, so a
// signal or cancel racing passivation is journaled, never dropped. Runs on
// the manager's thread.
#include "endure/actors/detail/run_manager_state.hpp"

#include <caf/all.hpp>

#include "endure/actors/atoms.hpp"
#include "endure/actors/detail/caf_error.hpp"
#include "endure/actors/detail/clock.hpp"
#include "endure/actors/detail/random_source.hpp"
#include "endure/actors/events.hpp"
#include "endure/actors/journaled_signal.hpp"
#include "endure/actors/offline_control.hpp"
#include "endure/actors/run_event_feed.hpp"
#include "endure/actors/run_outcome.hpp"
#include "endure/persistence/journal.hpp"

namespace endure::detail {

namespace {

/// The run actor stopped before it answered (passivated, finished, crashed,
/// going away): the request was not acted on.
bool gone(const caf::error& e) {
  return e == caf::sec::request_receiver_down;
}

caf::error shutting_down() {
  return to_caf_error(errc::shut_down, "the runtime is shutting down; try again once it runs");
}

caf::error already_ended(const std::string& id, run_status s, const char* what_not) {
  return to_caf_error(errc::invalid_state, "run " + id + " has already "
                                             + std::string{to_string(s)} + "; " + what_not);
}

} // namespace

template <class Reply>
void manager_state::forward(const caf::actor& a, const std::string& id,
                            guarded_reply rp, retry_fn again, caf::message msg) {
  auto addr = a.address();
  self->request(a, caf::infinite, std::move(msg))
    .then([rp](Reply& r) mutable { rp.deliver(std::move(r)); },
          [this, addr, id, rp, again](caf::error& e) mutable {
            if (!gone(e))
              return rp.deliver(std::move(e));
            if (ids.count(addr))  // its down_msg is still on the way
              return park(id, std::move(rp), std::move(again));
            again(std::move(rp));
          });
}

void manager_state::start_via(const caf::actor& a, const std::string& id, const std::string& wf,
                              const std::string& input, guarded_reply rp) {
  auto again = [this, id, wf, input](guarded_reply rp) { start(id, wf, input, rp); };
  forward<std::uint8_t>(a, id, std::move(rp), again,
                        caf::make_message(atoms::start::value, id, wf, input));
}

void manager_state::start(const std::string& id, const std::string& wf,
                          const std::string& input, guarded_reply rp) {
  if (stopping)
    return rp.deliver(shutting_down());
  if (is_busy(id))
    return park(id, std::move(rp),
                [this, id, wf, input](guarded_reply rp) { start(id, wf, input, rp); });
  if (auto it = active.find(id); it != active.end())
    return start_via(it->second, id, wf, input, std::move(rp));
  auto meta = env.store->run(id);
  if (meta)
    if (auto same = check_same_workflow(id, meta->workflow, wf); !same)
      return rp.deliver(to_caf_error(same.error()));
  if (meta && (is_terminal(meta->status) || meta->status == run_status::quarantined))
    return rp.deliver(static_cast<std::uint8_t>(meta->status));
  if (!meta && meta.error().code != errc::not_found)
    return rp.deliver(to_caf_error(meta.error()));
  if (full()) {
    queued_ids.insert(id);
    queue.push_back({id, wf, input, std::move(rp)});
    return;
  }
  start_via(spawn(id), id, wf, input, std::move(rp));
}

void manager_state::signal(const std::string& id, const std::string& name,
                           const std::string& payload, guarded_reply rp,
                           std::string request_id, write_batch with) {
  if (stopping)
    return rp.deliver(shutting_down());
  if (request_id.empty())
    request_id = random_uuid();
  auto again = [this, id, name, payload, request_id, with](guarded_reply rp) {
    signal(id, name, payload, rp, request_id, with);
  };
  if (is_busy(id))
    return park(id, std::move(rp), again);
  auto msg = with.empty()
               ? caf::make_message(atoms::signal::value, id, name, payload, request_id)
               : caf::make_message(atoms::signal::value, id, name, payload, request_id, with);
  if (auto it = active.find(id); it != active.end())
    return forward<caf::ok_atom>(it->second, id, std::move(rp), again, std::move(msg));
  auto meta = env.store->run(id);
  if (!meta)
    return rp.deliver(to_caf_error(meta.error()));
  if (is_terminal(meta->status))
    return rp.deliver(already_ended(id, meta->status, "the signal was not delivered"));
  if (meta->status == run_status::quarantined) {
    // Journaled now, consumed once a release resumes the run; unless the
    // actor that crashed into the quarantine journaled it already: then
    // done if it is this one, refused as a live run refuses another
    // (run_interrupts.cpp, on_signal).
    auto seen = journaled_signal(*env.store, id, request_id);
    if (!seen)
      return rp.deliver(to_caf_error(seen.error()));
    if (*seen && (*seen)->payload == payload)
      return rp.deliver(caf::ok_atom::value);
    if (*seen)
      return rp.deliver(to_caf_error(signal_taken(id, name, request_id)));
    write_batch b;
    if (!*seen) {
      auto last = env.store->last_seq(id);
      if (!last)
        return rp.deliver(to_caf_error(last.error()));
      b.append(id, *last + 1,
               encode_event(signal_received_event{name, payload, now_ms(), request_id}));
    }
    b.splice(std::move(with));
    return write(id, std::move(b), [rp](const expected<void>& r) mutable {
      r ? rp.deliver(caf::ok_atom::value) : rp.deliver(to_caf_error(r.error()));
    });
  }
  queued_ids.erase(id);  // signals skip the queue
  forward<caf::ok_atom>(spawn(id), id, std::move(rp), again, std::move(msg));
}

void manager_state::cancel(const std::string& id, const std::string& reason,
                           guarded_reply rp) {
  if (stopping)
    return rp.deliver(shutting_down());
  auto again = [this, id, reason](guarded_reply rp) { cancel(id, reason, rp); };
  if (is_busy(id))
    return park(id, std::move(rp), again);
  auto msg = caf::make_message(atoms::cancel::value, id, reason);
  if (auto it = active.find(id); it != active.end())
    return forward<caf::ok_atom>(it->second, id, std::move(rp), again, std::move(msg));
  auto meta = env.store->run(id);
  if (!meta)
    return rp.deliver(to_caf_error(meta.error()));
  if (is_terminal(meta->status))
    return rp.deliver(already_ended(id, meta->status, "there is nothing left to cancel"));
  if (meta->status == run_status::quarantined)
    return rp.deliver(to_caf_error(errc::invalid_state,
                                   "run " + id + " is quarantined; release it first (`endure "
                                   "release " + id + "`), then cancel it"));
  forward<caf::ok_atom>(spawn(id), id, std::move(rp), again, std::move(msg));
}

void manager_state::release(const std::string& id, const std::string& reason,
                            guarded_reply rp) {
  if (stopping)
    return rp.deliver(shutting_down());
  if (is_busy(id) || active.count(id))  // its actor is still stopping
    return park(id, std::move(rp),
                [this, id, reason](guarded_reply rp) { release(id, reason, rp); });
  auto meta = env.store->run(id);
  if (!meta)
    return rp.deliver(to_caf_error(meta.error()));
  if (meta->status != run_status::quarantined)
    return rp.deliver(to_caf_error(errc::invalid_state,
                                   "run " + id + " is " + std::string{to_string(meta->status)}
                                     + ", not quarantined; only a quarantined run can be "
                                       "released"));
  auto last = env.store->last_seq(id);
  if (!last)
    return rp.deliver(to_caf_error(last.error()));
  restarts.erase(id);
  crashed.erase(id);
  write(id, release_batch(id, *last + 1, reason),
        [this, id, rp, workflow = meta->workflow](const expected<void>& r) mutable {
          if (!r)
            return rp.deliver(to_caf_error(r.error()));
          publish_if(env.events,
                     [&] { return run_changed{id, workflow, run_status::running, {}}; });
          rp.deliver(caf::ok_atom::value);
          wake(id);
        });
}

// -- waiting for outcomes ----------------------------------------------------------------

void manager_state::wait(const std::string& id, std::int64_t timeout_ms,
                         guarded_reply rp) {
  if (stopping)
    return rp.deliver(shutting_down());
  auto outcome = read_outcome(*env.store, id);
  if (!outcome) {
    bool starting = active.count(id) > 0 || queued_ids.count(id) > 0;
    if (!starting || outcome.error().code != errc::not_found)
      return rp.deliver(to_caf_error(outcome.error()));
  } else if (is_terminal(outcome->status) || outcome->status == run_status::quarantined) {
    return rp.deliver(static_cast<std::uint8_t>(outcome->status), outcome->result,
                      outcome->error);
  }
  auto token = next_waiter++;
  waiters[id].push_back({token, timeout_ms, std::move(rp)});
  ++env.counters->waits;
  if (timeout_ms > 0)
    self->delayed_send(self, std::chrono::milliseconds{timeout_ms}, atoms::wait_timeout::value,
                       id, token);
}

void manager_state::wait_expired(const std::string& id, std::uint64_t token) {
  auto it = waiters.find(id);
  if (it == waiters.end())
    return;
  auto& list = it->second;
  auto w = std::find_if(list.begin(), list.end(), [token](auto& x) { return x.token == token; });
  if (w == list.end())
    return;
  auto meta = env.store->run(id);
  auto now = meta ? std::string{to_string(meta->status)} : std::string{"unknown"};
  auto rp = std::move(w->rp);
  auto timeout_ms = w->timeout_ms;
  list.erase(w);
  if (list.empty())
    waiters.erase(it);
  --env.counters->waits;  // before the answer: the caller may read it next
  rp.deliver(to_caf_error(errc::timeout, "run " + id + " did not end within "
                                           + std::to_string(timeout_ms) + " ms (it is " + now
                                           + ")"));
}

void manager_state::notify(const std::string& id, const outcome_msg& msg) {
  auto it = waiters.find(id);
  if (it == waiters.end())
    return;
  auto list = std::move(it->second);
  waiters.erase(it);
  env.counters->waits -= list.size();  // before the answers: callers may read it next
  for (auto& w : list)
    w.rp.deliver(std::get<0>(msg), std::get<1>(msg), std::get<2>(msg));
}

void manager_state::refuse_waiters(const std::string& id, const caf::error& why) {
  auto it = waiters.find(id);
  if (it == waiters.end())
    return;
  auto list = std::move(it->second);
  waiters.erase(it);
  env.counters->waits -= list.size();
  for (auto& w : list)
    w.rp.deliver(why);
}

} // namespace endure::detail
