// The human-gateway actor (detail/human_gateway.hpp): its handlers, its
// start and its reminders. Decisions and deadlines are applied in arrival
// order, each row stored (with its index entries, request_index.hpp) before
// anyone is answered; a decided outcome goes to its run as
// decision_delivery.hpp says. Reminders are sent from one timer armed for
// the earliest one the index holds (so a restart re-arms it by reading a
// few index rows, not every request).
#include "endure/actors/gateway/detail/human_gateway.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <string>
#include <utility>

#include "endure/actors/atoms.hpp"
#include "endure/actors/detail/caf_error.hpp"
#include "endure/actors/detail/clock.hpp"
#include "endure/actors/detail/runtime_services.hpp"
#include "endure/actors/agent/canonical_json.hpp"
#include "endure/actors/gateway/deadline.hpp"
#include "endure/actors/gateway/decide.hpp"
#include "endure/actors/gateway/detail/decision_delivery.hpp"
#include "endure/actors/gateway/detail/gateway_state.hpp"
#include "endure/actors/gateway/detail/request_store.hpp"
#include "endure/actors/gateway/detail/withdrawals.hpp"
#include "endure/actors/gateway/withdraw.hpp"
#include "endure/actors/gateway/request_index.hpp"
#include "endure/actors/gateway/request_event.hpp"
#include "endure/actors/run_event_feed.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/log.hpp"
#include "endure/supervisors/exit_reasons.hpp"

namespace endure::detail {

using gateway::human_request;
using gateway::detail::load_request;
using gateway::detail::store_request;

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

namespace {

/// Index entries acted on per message: a decision waits behind one batch
/// at most, however many reminders fall due together.
constexpr std::size_t due_batch = 1000;

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
    log::info("indexed " + std::to_string(*built) + " requests (for a data directory an "
              "endure from before the pending requests table wrote)");
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
