// The human-gateway actor (detail/human_gateway.hpp): decisions and
// deadlines applied in arrival order, each row stored (with its index
// entries, request_index.hpp) before anyone is answered, a decided row in
// the run's own commit of the signal that hands it the outcome
// (store_decided), reminders sent from one timer armed for the earliest one
// the index holds (so a restart re-arms it by reading a few index rows, not
// every request).
#include "endure/actors/gateway/detail/human_gateway.hpp"

#include <caf/all.hpp>

#include <optional>
#include <set>

#include "endure/actors/atoms.hpp"
#include "endure/actors/detail/caf_error.hpp"
#include "endure/actors/detail/clock.hpp"
#include "endure/actors/detail/runtime_services.hpp"
#include "endure/actors/agent/canonical_json.hpp"
#include "endure/actors/gateway/deadline.hpp"
#include "endure/actors/gateway/decide.hpp"
#include "endure/actors/gateway/detail/kept_decisions.hpp"
#include "endure/actors/gateway/detail/request_store.hpp"
#include "endure/actors/gateway/detail/run_decision.hpp"
#include "endure/actors/gateway/detail/withdrawals.hpp"
#include "endure/actors/gateway/withdraw.hpp"
#include "endure/actors/gateway/request_index.hpp"
#include "endure/actors/gateway/request_event.hpp"
#include "endure/actors/run_event_feed.hpp"
#include "endure/actors/serialization.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/log.hpp"
#include "endure/supervisors/exit_reasons.hpp"

namespace endure::detail {

namespace {

using gateway::human_request;
using gateway::detail::load_request;
using gateway::detail::store_request;

/// Index entries acted on per message: a decision waits behind one batch
/// at most, however many reminders fall due together.
constexpr std::size_t due_batch = 1000;
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

struct gateway_state {
  gateway_env env;
  /// Decisions the journal refused (store_decided), settled (settle_kept)
  /// before a decision or deadline acts on their request.
  gateway::detail::kept_decisions kept;
  std::set<caf::actor> subscribers;
  /// Decided outcomes on their way to runs, or delivered and not marked so
  /// yet (not delivered twice at once).
  std::set<std::string> delivering;
  /// Delivered (or refused by an ended run), to be marked on their rows.
  std::set<std::string> to_mark;
  /// When the armed (remind) message fires; nullopt: none armed.
  std::optional<std::int64_t> due_armed;
  /// The start's pass over pending requests of ended runs has begun (once
  /// per start, however often the start's delivery is retried).
  bool swept = false;
};

using gateway_actor = caf::stateful_actor<gateway_state, caf::event_based_actor>;

void publish(gateway_actor* self, const std::string& kind, const human_request& r) {
  auto* services = self->state.env.services;
  auto* feed = services ? services->env.events : nullptr;
  bool fed = feed && feed->listening();
  if (self->state.subscribers.empty() && !fed)
    return;
  auto detail = gateway::event_detail(kind, r);
  for (auto& s : self->state.subscribers)
    self->send(s, atoms::gw_event::value, kind, r.id, r.run_id, detail);
  if (fed)  // the runtime's feed (run_event_feed.hpp): every incarnation publishes there
    feed->publish(request_changed{kind, r.id, r.run_id, std::move(detail)});
}

/// The event of a request its run's end settled: withdrawn (expired), or
/// decided by the decision the run had journaled (withdraw.hpp).
const char* withdrawn_kind(const human_request& r) {
  return r.status == gateway::request_status::decided ? "decided" : "expired";
}

/// Arms the (remind) message for `due_ms`, unless one fires before.
void arm_due(gateway_actor* self, std::int64_t due_ms) {
  auto& armed = self->state.due_armed;
  if (armed && *armed <= due_ms)
    return;
  armed = due_ms;
  auto wait = std::chrono::milliseconds{std::max<std::int64_t>(0, due_ms - now_ms())};
  self->delayed_send(self, wait, atoms::remind::value);
}

/// Sends every reminder of `r` that is due (in order, each once: the row
/// counts them; stored before it is sent). False when a store failed.
bool remind(gateway_actor* self, human_request& r) {
  if (self->state.kept.find(r.id))
    return false;  // decided, not stored yet (settle_kept): look again in 1 s
  for (;;) {
    auto before = gateway::keys_of(r);
    if (gateway::record_reminder(r, now_ms()) == 0)
      return true;
    if (auto ok = store_request(*self->state.env.store, before, r); !ok) {
      log::error("request " + r.id + ": a reminder could not be journaled ("
                 + ok.error().to_string() + "); trying again");
      return false;
    }
    publish(self, "reminder", r);
  }
}

/// Hands `r`'s outcome to its run as a journaled signal, then marks the row
/// delivered. A run that has ended takes nothing: the outcome stays on the
/// row, marked delivered, and the refusal is logged.
void deliver(gateway_actor* self, human_request r, std::chrono::milliseconds backoff);

/// Marks the requests delivered since the last time on their current rows
/// (not copies taken earlier: attempts stored since stay in their audit
/// trails), in one commit.
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

void deliver(gateway_actor* self, human_request r,
             std::chrono::milliseconds backoff = std::chrono::milliseconds{200}) {
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

/// Tells the subscribers and the metrics that `r` was decided (stored).
void announce_decided(gateway_actor* self, const human_request& r) {
  publish(self, "decided", r);
  if (auto* counters = self->state.env.services->env.counters; counters && r.outcome)
    counters->instruments.decided(r.outcome->what,
                                  static_cast<double>(r.outcome->at_ms - r.created_ms) / 1000);
}

/// Stores the decision kept on request `id`, if any (kept_decisions::settle),
/// then announces and delivers it. False while the journal refuses it.
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

/// settle_kept again after `backoff` (doubling, at most 30 s) until the
/// journal takes the decision.
void settle_later(gateway_actor* self, const std::string& id,
                  std::chrono::milliseconds backoff) {
  if (settle_kept(self, id))
    return;
  log::error("request " + id + ": storing its decision again in " + std::to_string(backoff.count())
             + " ms");
  deliver_later(self, id, backoff);
}

/// The rows the index entries on `page` name, for the entries that still
/// match their row; an entry that does not (its row moved on or is gone, a
/// damaged row) is erased. `act` gets each matching row. Returns false when
/// some row could not be read (its entry is kept): the caller tries again
/// later.
template <class Act>
bool for_each_entry(gateway_actor* self, const row_page& page, Act act) {
  bool all_read = true;
  auto& store = *self->state.env.store;
  write_batch stale;
  for (auto& [key, why] : page.damaged)
    stale.erase_row(side_table::request_index, key);
  for (auto& row : page.rows) {
    auto e = gateway::parse_index_key(row.key);
    auto r = e ? load_request(store, e->id) : expected<human_request>{make_error(errc::not_found, "")};
    if (!r && r.error().code != errc::not_found && r.error().code != errc::corrupt_record
        && r.error().code != errc::invalid_argument) {
      // A read that failed (too many readers, I/O): the entry may well be
      // right, and erasing it would drop an undelivered outcome or the
      // request's reminders for good. Keep it; the next pass reads again.
      log::error(r.error().to_string() + "; its index entry is kept and read again later");
      all_read = false;
      continue;
    }
    if (!r || gateway::keys_of(*r).due != row.key) {
      stale.erase_row(side_table::request_index, row.key);
      continue;
    }
    act(*e, std::move(*r));
  }
  if (!stale.empty())
    if (auto ok = store.commit(std::move(stale)); !ok)
      log::warn("cannot erase stale request index entries: " + ok.error().to_string());
  return all_read;
}

/// Start: the index (built once for an older directory), then every
/// decided outcome not yet delivered (a start after a crash).
void start(gateway_actor* self) {
  auto& store = *self->state.env.store;
  if (auto built = gateway::detail::ensure_index(store); !built)
    log::error("cannot build the request index: " + built.error().to_string()
               + "; reminders and undelivered decisions wait until it can be read");
  else if (*built > 0)
    log::info("indexed " + std::to_string(*built) + " requests (once, for a data directory "
              "from before the request index)");
  auto undelivered = gateway::index_key_at(gateway::due_prefix, 0);
  std::string after;
  bool again = false;  // something could not be read: this pass runs again
  for (;;) {
    auto page = store.rows(side_table::request_index, undelivered, after, due_batch);
    if (!page) {
      log::error("cannot read the requests to deliver decisions: " + page.error().to_string()
                 + "; trying again in 1 s");
      again = true;
      break;
    }
    again |= !for_each_entry(self, *page, [self](const gateway::index_entry& e, human_request r) {
      try {
        deliver(self, std::move(r));
      } catch (const std::exception& ex) {
        log::error("request " + e.id + ": its decision cannot be delivered: " + ex.what());
      }
    });
    if (page->rows.size() + page->damaged.size() < due_batch)
      break;
    after = page->rows.empty() ? std::string{} : page->rows.back().key;
    if (!page->damaged.empty())
      after = std::max(after, page->damaged.back().first);
  }
  if (again)
    self->delayed_send(self, std::chrono::seconds{1}, atoms::deliver::value);
  self->send(self, atoms::remind::value);
  if (!std::exchange(self->state.swept, true))
    self->send(self, atoms::sweep::value, std::string{});
}

/// A run that waited on the gateway ended: withdraw what it left pending.
void on_run_ended(gateway_actor* self, const std::string& run_id, run_status status) {
  auto withdrawn = gateway::detail::withdraw_run_requests(*self->state.env.store, run_id, status);
  if (!withdrawn) {
    log::error("run " + run_id + " ended, but its pending requests could not be withdrawn ("
               + withdrawn.error().to_string() + "); the gateway's next start does it");
    return;
  }
  for (auto& r : *withdrawn)
    publish(self, withdrawn_kind(r), r);
}

/// One page of the start's pass over the pending requests, a message per
/// page so that decisions in between wait for one page only.
void sweep_ended(gateway_actor* self, const std::string& after) {
  constexpr std::size_t page_size = 500;
  auto page = gateway::detail::withdraw_ended_page(*self->state.env.store, after, page_size);
  if (!page) {
    log::error("cannot withdraw the requests of ended runs (" + page.error().to_string()
               + "); trying again in 1 s");
    self->delayed_send(self, std::chrono::seconds{1}, atoms::sweep::value, after);
    return;
  }
  for (auto& r : page->withdrawn)
    publish(self, withdrawn_kind(r), r);
  if (!page->done)
    self->send(self, atoms::sweep::value, page->last_key);
}

/// The first index key of a reminder (past the undelivered outcomes).
std::string first_reminder_key() { return gateway::index_key_at(gateway::due_prefix, 1); }

/// Arms the timer for the earliest reminder the index holds: at once when
/// it is due already (a batch left some), else at its time.
void arm_next(gateway_actor* self) {
  auto head = self->state.env.store->rows(side_table::request_index, gateway::due_prefix,
                                          first_reminder_key(), 1);
  if (!head) {
    log::error("cannot read the reminders due: " + head.error().to_string()
               + "; trying again in 1 s");
    return arm_due(self, now_ms() + 1000);
  }
  if (!head->rows.empty())
    if (auto e = gateway::parse_index_key(head->rows.front().key))
      arm_due(self, e->at_ms);
}

/// The reminders due by now, a batch per message (decisions interleave),
/// then the timer armed for the next one. The rows they move (their next
/// reminder) and the entries found stale leave the index's front, so this
/// ends.
void on_due(gateway_actor* self) {
  self->state.due_armed.reset();
  auto now = now_ms();
  auto page = self->state.env.store->rows(side_table::request_index, gateway::due_prefix,
                                          first_reminder_key(), due_batch);
  if (!page) {
    log::error("cannot read the reminders due: " + page.error().to_string()
               + "; trying again in 1 s");
    return arm_due(self, now + 1000);
  }
  row_page due;
  for (auto& row : page->rows) {
    auto e = gateway::parse_index_key(row.key);
    if (e && e->at_ms > now)
      break;
    due.rows.push_back(std::move(row));
  }
  due.damaged = std::move(page->damaged);
  bool failed = false;
  bool all_read = for_each_entry(self, due, [&](const gateway::index_entry&, human_request r) {
    failed |= !remind(self, r);
  });
  failed |= !all_read;
  if (failed)
    return arm_due(self, now + 1000);
  arm_next(self);
}

/// Tells the subscribers what a deadline did to `r` (nothing when it did
/// not act).
void publish_deadline(gateway_actor* self, gateway::deadline_step step,
                      const human_request& r) {
  switch (step) {
    case gateway::deadline_step::expired:
      return publish(self, "expired", r);
    case gateway::deadline_step::escalated:
      return publish(self, "escalated", r);
    case gateway::deadline_step::kept_waiting:
      return publish(self, "waiting", r);
    default:
      return;
  }
}

caf::result<std::string> on_decide(gateway_actor* self, const std::string& id,
                                   const std::string& principal, const std::string& what,
                                   const std::string& payload, const std::string& channel) {
  auto& env = self->state.env;
  auto d = gateway::parse_decision(what);
  if (!d)
    return to_caf_error(errc::invalid_argument, "'" + what + "' is not a decision: approve, edit, "
                                                "reject or respond");
  auto parsed = agent::parse_json_strict(payload.empty() ? "{}" : payload);
  if (!parsed)
    return to_caf_error(errc::invalid_argument,
                        "the decision's payload is not usable JSON: " + parsed.error().message);
  // The run's commit follows a decision within a fraction of a millisecond:
  // the writer thread wakes now rather than when it arrives.
  env.store->expect_commit();
  // A decision kept since the journal refused it goes first, if it can;
  // while it cannot, it still decides what this attempt gets.
  if (!settle_kept(self, id)) {
    auto decided = *self->state.kept.find(id);
    auto verdict = gateway::apply_decision(decided, {principal, *d, {}, channel, now_ms()},
                                           env.tools);
    auto why = verdict ? make_error(errc::storage_error, "the journal refuses writes")
                       : verdict.error();
    return to_caf_error(why.code, "request " + id + ": " + why.message + " (this attempt is not "
                                    "in its audit trail: the journal refuses writes)");
  }
  record as_stored;
  auto r = load_request(*env.store, id, &as_stored);
  if (!r)
    return to_caf_error(r.error());
  auto before = gateway::keys_of(*r);
  // Its run ended and the withdrawal is on its way (or was lost with a
  // crash): withdraw it now, so the decision is refused, not delivered to
  // nobody.
  bool withdrawn = gateway::withdraw_if_run_ended(*env.store, *r);
  // A deadline that passed before its run asked (its timer late, or the run
  // not loaded) acts first, as it would have on time: a person cannot
  // approve what the policy has already rejected.
  auto now = now_ms();
  auto at_deadline = gateway::apply_deadline(*r, now);
  auto verdict = gateway::apply_decision(*r, {principal, *d, std::move(*parsed), channel, now},
                                         env.tools);
  bool decided = verdict && *verdict == gateway::decide_result::decided;
  // Stored either way: a refused attempt belongs in the audit trail too.
  auto ok = decided ? store_decided(self, before, as_stored, *r)
                    : store_request(*env.store, before, *r);
  // store_decided: it may still take effect (timeout), or the run took
  // another decision (invalid_state).
  if (!ok && (ok.error().code == errc::timeout || ok.error().code == errc::invalid_state))
    return to_caf_error(ok.error().code, "request " + id + ": " + ok.error().message);
  if (!ok)
    return to_caf_error(ok.error().code, "request " + id + ": the decision could not be "
                                           "journaled (" + ok.error().message + "); nothing "
                                           "was decided, try again");
  if (withdrawn)
    publish(self, withdrawn_kind(*r), *r);
  publish_deadline(self, at_deadline, *r);
  if (!verdict)
    return to_caf_error(verdict.error());
  if (!decided) {
    publish(self, "counted", *r);
    return "counted " + std::to_string(r->approved_by.size()) + " of "
           + std::to_string(r->rule.value("quorum", 1u));
  }
  announce_decided(self, *r);
  return std::string{"decided"};
}

/// A run's wait for `id` timed out: apply the deadline (or report the
/// outcome a decision reached first) and answer what the run journals.
caf::result<std::string> on_deadline(gateway_actor* self, const std::string& id) {
  auto& env = self->state.env;
  // Not answered from a decision the journal does not hold yet (the run
  // journals the answer, and the row could still say otherwise): the run
  // waits a second more, for the decision's delivery or to ask again.
  bool unsettled = !settle_kept(self, id);
  auto r = load_request(*env.store, id);
  if (!r)
    return to_caf_error(r.error());
  if (unsettled && r->status == gateway::request_status::pending) {
    r->due_ms = now_ms() + 1000;
    return gateway::deadline_answer(*r);
  }
  auto before = gateway::keys_of(*r);
  auto step = gateway::apply_deadline(*r, now_ms());
  if (step == gateway::deadline_step::final_already || step == gateway::deadline_step::not_due)
    return gateway::deadline_answer(*r);
  if (auto ok = store_request(*env.store, before, *r); !ok)
    return to_caf_error(ok.error().code, "request " + id + ": its deadline could not be "
                                           "journaled (" + ok.error().message + ")");
  publish_deadline(self, step, *r);
  return gateway::deadline_answer(*r);
}

caf::behavior human_gateway(gateway_actor* self, gateway_env env) {
  exit_on_exception(self);
  self->state.env = env;
  self->set_down_handler([self](caf::down_msg& dm) {
    self->state.subscribers.erase(caf::actor_cast<caf::actor>(dm.source));
  });
  self->send(self, atoms::deliver::value);
  return {
    [=](atoms::raised, const std::string& id) {
      auto& store = *self->state.env.store;
      if (auto r = load_request(store, id)) {
        // Raised by a gate step that finished after its run was cancelled
        // (the step's thread outlives the run): nobody will wait for it.
        auto before = gateway::keys_of(*r);
        if (gateway::withdraw_if_run_ended(store, *r)) {
          if (auto ok = store_request(store, before, *r); !ok)
            log::error("request " + id + ": its run has ended, but withdrawing it failed ("
                       + ok.error().to_string() + "); the gateway's next start does it");
          else
            publish(self, "expired", *r);
          return;
        }
        publish(self, "waiting", *r);
        if (auto next = gateway::next_reminder_ms(*r))  // its index entry is written
          arm_due(self, *next);
      }
    },
    [=](atoms::deadline, const std::string& id) { return on_deadline(self, id); },
    [=](atoms::remind) { on_due(self); },
    [=](atoms::decide, const std::string& id, const std::string& principal,
        const std::string& what, const std::string& payload, const std::string& channel) {
      // One odd row or payload must not take the gateway (and, by crash
      // loops, the runtime's tree) down: refuse it, log it.
      try {
        return on_decide(self, id, principal, what, payload, channel);
      } catch (const std::exception& e) {
        log::error("request " + id + ": decision refused after an error: " + e.what());
        return caf::result<std::string>{
          to_caf_error(errc::invalid_argument, "request " + id + ": " + e.what())};
      }
    },
    [=](atoms::subscribe, caf::actor& who) {
      self->monitor(who);
      self->state.subscribers.insert(std::move(who));
    },
    [=](atoms::deliver) { start(self); },
    [=](atoms::delivered) { mark_delivered(self); },
    [=](atoms::run_ended, const std::string& run_id, std::uint8_t status) {
      on_run_ended(self, run_id, static_cast<run_status>(status));
    },
    [=](atoms::sweep, const std::string& after) { sweep_ended(self, after); },
    [=](atoms::deliver, const std::string& id, std::int64_t next_backoff_ms) {
      if (self->state.kept.find(id))
        return settle_later(self, id, std::chrono::milliseconds{next_backoff_ms});
      if (auto r = load_request(*self->state.env.store, id))
        deliver(self, std::move(*r), std::chrono::milliseconds{next_backoff_ms});
    },
  };
}

} // namespace

caf::actor spawn_human_gateway(caf::local_actor& parent, gateway_env env) {
  return parent.spawn<caf::detached>(human_gateway, env);
}

} // namespace endure::detail
