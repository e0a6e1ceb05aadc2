// Decided outcomes on their way to their runs, and the rows marked so
// (decision_delivery.hpp).
#include "endure/actors/gateway/detail/decision_delivery.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <optional>

#include "endure/actors/atoms.hpp"
#include "endure/actors/detail/caf_error.hpp"
#include "endure/actors/detail/runtime_services.hpp"
#include "endure/actors/gateway/detail/kept_decisions.hpp"
#include "endure/actors/gateway/detail/request_store.hpp"
#include "endure/actors/gateway/detail/run_decision.hpp"
#include "endure/actors/serialization.hpp"
#include "endure/persistence/log.hpp"

namespace endure::detail {

using gateway::human_request;
using gateway::detail::load_request;
using gateway::detail::store_request;

namespace {

/// How long a decision waits for its run's commit before it is stored
/// undelivered and delivered again later.
constexpr auto decided_delivery_wait = std::chrono::seconds{5};

/// How long delivered outcomes wait to be marked so on their rows. Marking
/// is one commit for all of them, after the run's own commits: a mark
/// written at once competed with the resumed run's next commit for the
/// journal's writer (one commit more before the approved tool ran). A mark
/// lost to a crash means one more delivery at the next start, which the
/// run recognises by its request id and takes no second time.
constexpr std::chrono::milliseconds mark_delay{50};

/// Marks `id` delivered with the others of the next mark_delay.
void mark_soon(gateway_actor* self, const std::string& id) {
  auto& marks = self->state.to_mark;
  if (marks.empty())
    self->delayed_send(self, mark_delay, atoms::delivered::value);
  marks.insert(id);
}

/// Sends (deliver, id) after `backoff`; the attempt it starts waits twice
/// as long (at most 30 s) should it fail again.
void deliver_later(gateway_actor* self, const std::string& id,
                   std::chrono::milliseconds backoff) {
  auto next = std::min(backoff * 2, std::chrono::milliseconds{30'000});
  self->delayed_send(self, backoff, atoms::deliver::value, id,
                     static_cast<std::int64_t>(next.count()));
}

/// After `r`'s run refused its delivery (already_exists, invalid_state):
/// the row corrected to the decision the run took, if it took another
/// (run_decision.hpp). True when the delivery is done with; false when the
/// refusal is handled as before (the run took none).
bool settle_refused(gateway_actor* self, const human_request& r, const error& why,
                    std::chrono::milliseconds backoff) {
  using gateway::detail::correction;
  bool ended = why.code == errc::invalid_state;
  auto c = gateway::detail::correct_to_run(*self->state.env.store, r.id, ended);
  switch (c.what) {
    case correction::corrected:
      self->state.delivering.erase(r.id);
      publish(self, "decided", c.row);  // counted in the metrics when first decided
      return true;
    case correction::unchanged:
      mark_soon(self, r.id);
      return true;
    case correction::later:
      self->state.delivering.erase(r.id);
      deliver_later(self, r.id, backoff);
      return true;
    case correction::none_taken:
      if (!ended)  // it took another, which cannot be read (logged)
        mark_soon(self, r.id);
      return !ended;
  }
  return false;
}

} // namespace

// On their current rows, not copies taken earlier: attempts stored since
// stay in their audit trails.
void mark_delivered(gateway_actor* self) {
  auto& st = self->state;
  auto& store = *st.env.store;
  write_batch b;
  for (auto& id : st.to_mark) {
    st.delivering.erase(id);
    auto r = load_request(store, id);
    if (!r) {
      log::error("request " + id + ": delivered, but its row cannot be read to say so ("
                 + r.error().to_string() + ")");
      continue;
    }
    auto before = gateway::keys_of(*r);
    r->delivered = true;
    b.put_row(side_table::requests, id, gateway::to_record(*r));
    gateway::update_index(b, before, *r);
  }
  auto count = st.to_mark.size();
  st.to_mark.clear();
  if (auto ok = store.commit(std::move(b)); !ok)
    log::error(std::to_string(count) + " requests were delivered, but marking them so failed ("
               + ok.error().to_string() + "); they are delivered again (once) at the next start");
}

void deliver(gateway_actor* self, human_request r, std::chrono::milliseconds backoff) {
  auto& st = self->state;
  if (!r.outcome || r.delivered || !st.delivering.insert(r.id).second)
    return;
  auto runs = st.env.services->runs_actor();
  // The run's wait_signal<std::string> reads msgpack of the outcome's text.
  auto payload = to_bytes(gateway::outcome_payload(*r.outcome));
  self->request(runs, caf::infinite, atoms::signal::value, r.run_id,
                gateway::decision_signal(r.id), payload, gateway::delivery_id(r.id))
    .then(
      [self, id = r.id](caf::ok_atom) { mark_soon(self, id); },
      [self, r, backoff](caf::error& e) mutable {
        auto why = from_caf_error(e, "deliver the decision on request " + r.id);
        // The run took another decision (already_exists), or has ended
        // (invalid_state), perhaps on one: the row must name the run's.
        if ((why.code == errc::already_exists || why.code == errc::invalid_state)
            && settle_refused(self, r, why, backoff))
          return;
        if (why.code == errc::invalid_state || why.code == errc::not_found) {
          log::warn("request " + r.id + ": run " + r.run_id + " takes no decision ("
                    + why.message + "); the outcome stays on the request");
          mark_soon(self, r.id);
          return;
        }
        self->state.delivering.erase(r.id);
        log::warn("request " + r.id + ": the decision did not reach run " + r.run_id + " ("
                  + why.message + "); trying again in " + std::to_string(backoff.count()) + " ms");
        deliver_later(self, r.id, backoff);
      });
}

/// Stores decided `r` (its index entries were `before`) in the commit that
/// journals its outcome for its run, as the signal the run's wait consumes
/// (one commit, where storing the row and then delivering took two):
/// delivered, the moment it is stored. When the run takes nothing (it has
/// ended, or there is no such run) the row is stored alone, marked
/// delivered (the outcome stays on it); when the runs cannot be reached now
/// (restarting, shutting down) alone and not delivered, handed on again
/// after a backoff and at the next start. Blocks this (detached) actor
/// until stored, so decisions and deadlines stay one at a time. Errors:
/// the journal's (nothing was decided); timeout when the run, handed the
/// decision, had not journaled it in time and the row could not be stored
/// here either: the decision stands (the run may still take it), kept
/// (kept_decisions.hpp) and stored again until the journal takes it.
expected<void> store_decided(gateway_actor* self, const gateway::index_keys& before,
                             const record& as_stored, human_request& r) {
  auto& store = *self->state.env.store;
  auto delivered = r;
  delivered.delivered = true;
  write_batch with;
  // Only over the row as read: should the run commit after the wait below
  // gave up, the row this actor stored since (undelivered, and any audit
  // entries after it) stands, and the next delivery marks it.
  with.put_row_if(side_table::requests, r.id, gateway::to_record(delivered), as_stored);
  gateway::update_index(with, before, delivered);
  // The run's wait_signal<std::string> reads msgpack of the outcome's text.
  auto payload = to_bytes(gateway::outcome_payload(*r.outcome));
  std::optional<error> refused;
  if (auto runs = self->state.env.services->runs_actor(); !runs) {
    refused = make_error(errc::shut_down, "the runs are being restarted");
  } else {
    // Bounded: a run that is slow to wake (a long replay, restart
    // backoff) must not hold every other decision and deadline. Past the
    // bound the row is stored undelivered and handed on again; should the
    // run's commit land after all, the run takes the signal once (by its
    // request id) and a later delivery finds it taken.
    caf::scoped_actor blocking{self->system()};
    blocking->request(runs, decided_delivery_wait, atoms::signal::value, r.run_id,
                      gateway::decision_signal(r.id), payload, gateway::delivery_id(r.id), std::move(with))
      .receive([](caf::ok_atom) {},
               [&](caf::error& e) {
                 refused = from_caf_error(e, "deliver the decision on request " + r.id);
               });
  }
  if (!refused) {
    r.delivered = true;
    return {};
  }
  if (refused->code == errc::already_exists) {  // the run took an earlier decision
    // The row may still be pending: named after the run's, once journaled
    // (else at the run's end: withdraw_if_run_ended).
    auto c = gateway::detail::correct_to_run(store, r.id, false);
    if (c.what == gateway::detail::correction::corrected)
      publish(self, "decided", c.row);
    return make_error(errc::invalid_state,
                      "run " + r.run_id + " had already taken an earlier decision on it "
                        "(`endure request " + r.id + "` shows it once journaled); this one "
                        "was not applied");
  }
  bool ended = refused->code == errc::invalid_state || refused->code == errc::not_found;
  r.delivered = ended;
  if (auto ok = store_request(store, before, r); !ok) {
    if (refused->code != errc::timeout)
      return ok;  // the run took nothing: nothing was decided
    // Past the wait the run may still journal the decision it was handed,
    // so it is the decision: kept, stored again, and no other is taken.
    self->state.kept.keep(before, as_stored, r);
    log::error("request " + r.id + ": decided, but neither run " + r.run_id + " nor the gateway "
               "could journal it yet (" + ok.error().message + "); storing it again in 200 ms");
    deliver_later(self, r.id, std::chrono::milliseconds{200});
    return make_error(errc::timeout,  // not durable yet
                      "run " + r.run_id + " was handed the decision but had not journaled it "
                        "within " + std::to_string(decided_delivery_wait.count()) + " s, and "
                        "storing it here failed (" + ok.error().message + "); it stands: the "
                        "gateway stores it again until the journal takes it and takes no other "
                        "decision on this request meanwhile; should the gateway restart or "
                        "this process stop before the run or the gateway journals it, the "
                        "request is pending again (`endure request " + r.id + "` shows which)");
  }
  if (ended) {
    log::warn("request " + r.id + ": run " + r.run_id + " takes no decision ("
              + refused->message + "); the outcome stays on the request");
    return {};
  }
  log::warn("request " + r.id + ": the decision did not reach run " + r.run_id + " ("
            + refused->message + "); trying again in 200 ms");
  deliver_later(self, r.id, std::chrono::milliseconds{200});
  return {};
}

void announce_decided(gateway_actor* self, const human_request& r) {
  publish(self, "decided", r);
  if (auto* counters = self->state.env.services->env.counters; counters && r.outcome)
    counters->instruments.decided(r.outcome->what,
                                  static_cast<double>(r.outcome->at_ms - r.created_ms) / 1000);
}

bool settle_kept(gateway_actor* self, const std::string& id) {
  using how = gateway::detail::kept_decisions::outcome;
  auto settled = self->state.kept.settle(*self->state.env.store, id);
  switch (settled.what) {
    case how::refused:
      return false;
    case how::stored:
      announce_decided(self, settled.row);  // its decide call was answered with a timeout
      deliver(self, std::move(settled.row));
      return true;
    case how::stored_unread:  // delivered from the row once it reads again
      deliver_later(self, id, std::chrono::seconds{1});
      return true;
    default:
      return true;
  }
}

void settle_later(gateway_actor* self, const std::string& id,
                  std::chrono::milliseconds backoff) {
  if (settle_kept(self, id))
    return;
  log::error("request " + id + ": storing its decision again in " + std::to_string(backoff.count())
             + " ms");
  deliver_later(self, id, backoff);
}

} // namespace endure::detail
