// The human-gateway actor (detail/human_gateway.hpp): decisions and
// deadlines applied in arrival order, each row stored before anyone is
// answered, outcomes handed to runs as journaled signals, reminders sent
// from timers armed from the rows (so a restart re-arms them).
#include "endure/actors/gateway/detail/human_gateway.hpp"

#include <caf/all.hpp>

#include <map>
#include <set>

#include "endure/actors/atoms.hpp"
#include "endure/actors/detail/caf_error.hpp"
#include "endure/actors/detail/clock.hpp"
#include "endure/actors/detail/runtime_services.hpp"
#include "endure/actors/agent/canonical_json.hpp"
#include "endure/actors/gateway/deadline.hpp"
#include "endure/actors/gateway/decide.hpp"
#include "endure/actors/gateway/request_event.hpp"
#include "endure/actors/serialization.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/log.hpp"
#include "endure/supervisors/exit_reasons.hpp"

namespace endure::detail {

namespace {

using gateway::human_request;

struct gateway_state {
  gateway_env env;
  std::set<caf::actor> subscribers;
  /// Decided outcomes on their way to runs (not delivered twice at once).
  std::set<std::string> delivering;
  /// Request id -> due time of the reminder timer armed for it (one each).
  std::map<std::string, std::int64_t> reminder_armed;
};

using gateway_actor = caf::stateful_actor<gateway_state, caf::event_based_actor>;

expected<human_request> load(journal& store, const std::string& id) {
  auto row = store.row(side_table::requests, id);
  if (!row)
    return std::move(row).error();
  if (!*row)
    return make_error(errc::not_found, "no request " + id);
  return gateway::from_record(**row, id);
}

expected<void> store_row(journal& store, const human_request& r) {
  write_batch b;
  b.put_row(side_table::requests, r.id, gateway::to_record(r));
  return store.commit(std::move(b));
}

void publish(gateway_actor* self, const std::string& kind, const human_request& r) {
  if (self->state.subscribers.empty())
    return;
  auto detail = gateway::event_detail(kind, r);
  for (auto& s : self->state.subscribers)
    self->send(s, atoms::gw_event::value, kind, r.id, r.run_id, detail);
}

/// Arms a timer for `r`'s next reminder, unless one is armed for it already.
void arm_reminder(gateway_actor* self, const human_request& r) {
  auto due = gateway::next_reminder_ms(r);
  if (!due)
    return;
  auto [it, fresh] = self->state.reminder_armed.emplace(r.id, *due);
  if (!fresh && it->second <= *due)
    return;  // the armed timer fires first and re-arms from the row
  it->second = *due;
  auto wait = std::chrono::milliseconds{std::max<std::int64_t>(0, *due - now_ms())};
  self->delayed_send(self, wait, atoms::remind::value, r.id);
}

/// Sends every reminder of request `id` that is due (in order, each once:
/// the row counts them), then arms the next. Nothing for a request decided
/// or expired meanwhile.
void on_remind(gateway_actor* self, const std::string& id) {
  self->state.reminder_armed.erase(id);
  auto r = load(*self->state.env.store, id);
  if (!r)
    return;
  while (gateway::record_reminder(*r, now_ms()) > 0) {
    if (auto ok = store_row(*self->state.env.store, *r); !ok) {
      log::error("request " + id + ": a reminder could not be journaled (" + ok.error().to_string()
                 + "); trying again");
      self->delayed_send(self, std::chrono::seconds{1}, atoms::remind::value, id);
      return;
    }
    publish(self, "reminder", *r);
  }
  arm_reminder(self, *r);
}

/// Hands `r`'s outcome to its run as a journaled signal, then marks the row
/// delivered. A run that has ended takes nothing: the outcome stays on the
/// row, marked delivered, and the refusal is logged.
void deliver(gateway_actor* self, human_request r, std::chrono::milliseconds backoff);

/// Marks request `id` delivered on its current row (not a copy taken
/// earlier: attempts stored since then stay in its audit trail).
void mark_delivered(journal& store, const std::string& id) {
  auto r = load(store, id);
  if (!r) {
    log::error("request " + id + ": delivered, but its row cannot be read to say so ("
               + r.error().to_string() + ")");
    return;
  }
  r->delivered = true;
  if (auto ok = store_row(store, *r); !ok)
    log::error("request " + id + ": delivered, but marking it so failed ("
               + ok.error().to_string() + "); it is delivered again (once) at the next start");
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
                gateway::decision_signal(r.id), payload, "decision:" + r.id)
    .then(
      [self, id = r.id](caf::ok_atom) {
        self->state.delivering.erase(id);
        mark_delivered(*self->state.env.store, id);
      },
      [self, r, backoff](caf::error& e) mutable {
        self->state.delivering.erase(r.id);
        auto why = from_caf_error(e, "deliver the decision on request " + r.id);
        if (why.code == errc::invalid_state || why.code == errc::not_found) {
          log::warn("request " + r.id + ": run " + r.run_id + " takes no decision ("
                    + why.message + "); the outcome stays on the request");
          mark_delivered(*self->state.env.store, r.id);
          return;
        }
        auto next = std::min(backoff * 2, std::chrono::milliseconds{30'000});
        log::warn("request " + r.id + ": the decision did not reach run " + r.run_id + " ("
                  + why.message + "); trying again in " + std::to_string(backoff.count()) + " ms");
        self->delayed_send(self, backoff, atoms::deliver::value, r.id,
                           static_cast<std::int64_t>(next.count()));
      });
}

/// Every decided row not yet delivered (a start after a crash, a retry),
/// and the reminders of every pending row.
void deliver_pending(gateway_actor* self) {
  std::string after;
  for (;;) {
    auto page = self->state.env.store->rows(side_table::requests, "", after, 1000);
    if (!page) {
      log::error("cannot scan the requests to deliver decisions: " + page.error().to_string());
      return;
    }
    for (auto& [key, why] : page->damaged)
      log::error("request " + key + " is damaged and skipped: " + why.to_string());
    for (auto& row : page->rows) {
      auto r = gateway::from_record(row.rec, row.key);
      if (!r) {
        log::error(r.error().to_string() + "; its decision (if any) cannot be delivered");
        continue;
      }
      if (r->status == gateway::request_status::pending)
        arm_reminder(self, *r);
      if (r->status == gateway::request_status::decided && !r->delivered)
        try {
          deliver(self, std::move(*r));
        } catch (const std::exception& e) {
          log::error("request " + row.key + ": its decision cannot be delivered: " + e.what());
        }
    }
    if (page->rows.size() + page->damaged.size() < 1000)
      return;
    after = page->rows.empty() ? std::string{} : page->rows.back().key;
    if (!page->damaged.empty())
      after = std::max(after, page->damaged.back().first);
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
  auto r = load(*env.store, id);
  if (!r)
    return to_caf_error(r.error());
  auto verdict = gateway::apply_decision(*r, {principal, *d, std::move(*parsed), channel, now_ms()},
                                         env.tools);
  // Stored either way: a refused attempt belongs in the audit trail too.
  if (auto ok = store_row(*env.store, *r); !ok)
    return to_caf_error(ok.error().code, "request " + id + ": the decision could not be "
                                           "journaled (" + ok.error().message + "); nothing "
                                           "was decided, try again");
  if (!verdict)
    return to_caf_error(verdict.error());
  if (*verdict == gateway::decide_result::counted) {
    publish(self, "counted", *r);
    return "counted " + std::to_string(r->approved_by.size()) + " of "
           + std::to_string(r->rule.value("quorum", 1u));
  }
  publish(self, "decided", *r);
  deliver(self, std::move(*r));
  return std::string{"decided"};
}

/// A run's wait for `id` timed out: apply the deadline (or report the
/// outcome a decision reached first) and answer what the run journals.
caf::result<std::string> on_deadline(gateway_actor* self, const std::string& id) {
  auto& env = self->state.env;
  auto r = load(*env.store, id);
  if (!r)
    return to_caf_error(r.error());
  auto step = gateway::apply_deadline(*r, now_ms());
  if (step == gateway::deadline_step::final_already || step == gateway::deadline_step::not_due)
    return gateway::deadline_answer(*r);
  if (auto ok = store_row(*env.store, *r); !ok)
    return to_caf_error(ok.error().code, "request " + id + ": its deadline could not be "
                                           "journaled (" + ok.error().message + ")");
  switch (step) {
    case gateway::deadline_step::expired:
      publish(self, "expired", *r);
      break;
    case gateway::deadline_step::escalated:
      publish(self, "escalated", *r);
      break;
    default:
      publish(self, "waiting", *r);
      break;
  }
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
      if (auto r = load(*self->state.env.store, id)) {
        publish(self, "waiting", *r);
        arm_reminder(self, *r);
      }
    },
    [=](atoms::deadline, const std::string& id) { return on_deadline(self, id); },
    [=](atoms::remind, const std::string& id) { on_remind(self, id); },
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
    [=](atoms::deliver) { deliver_pending(self); },
    [=](atoms::deliver, const std::string& id, std::int64_t next_backoff_ms) {
      if (auto r = load(*self->state.env.store, id))
        deliver(self, std::move(*r), std::chrono::milliseconds{next_backoff_ms});
    },
  };
}

} // namespace

caf::actor spawn_human_gateway(caf::local_actor& parent, gateway_env env) {
  return parent.spawn<caf::detached>(human_gateway, env);
}

} // namespace endure::detail
