// Decisions through serve or the journal, with one set of answers
// (human_decision.hpp). decide_live runs on a control connection's thread
// in serve; the rest in the client command's main thread.
#include "endure/cli/human_decision.hpp"

#include <iostream>

#include <nlohmann/json.hpp>

#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/events.hpp"
#include "endure/actors/gateway/deadline.hpp"
#include "endure/actors/gateway/decide.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/gateway/joined_names.hpp"
#include "endure/actors/gateway/request_index.hpp"
#include "endure/actors/gateway/withdraw.hpp"
#include "endure/actors/serialization.hpp"
#include "endure/cli/journal_view.hpp"

namespace endure::cli {

namespace {

using gateway::human_request;

expected<human_request> load(const journal& store, const std::string& id) {
  auto row = store.row(side_table::requests, id);
  if (!row)
    return std::move(row).error();
  if (!*row)
    return make_error(errc::not_found, "no request " + id);
  return gateway::from_record(**row, id);
}

/// Whether `r`'s run journaled its outcome (delivered as the signal with
/// request id "decision:ID", by the gateway or by decide_offline).
bool took_outcome(const journal& store, const human_request& r) {
  auto events = read_events(store, r.run_id);
  if (!events)
    return false;
  for (auto& e : *events)
    if (auto* s = std::get_if<signal_received_event>(&e.event);
        s && s->request_id == gateway::delivery_id(r.id))
      return true;
  return false;
}

/// A note for an outcome its run cannot take any more; empty if it can (or
/// did: a run the decision woke may have ended by the time this is said).
std::string ended_note(const journal& store, const human_request& r) {
  auto meta = store.run(r.run_id);
  if (meta && is_terminal(meta->status) && !took_outcome(store, r))
    return "; run " + r.run_id + " has already ended (" + std::string{to_string(meta->status)}
           + "), so the outcome stays on the request";
  if (!meta && meta.error().code == errc::not_found)
    return "; run " + r.run_id + " does not exist, so the outcome stays on the request";
  return {};
}

std::string decided_text(const journal& store, const human_request& r) {
  return "decided (" + std::string{to_string(r.outcome->what)} + " by "
         + gateway::joined_names(r.outcome->principals) + ")" + ended_note(store, r);
}

std::string counted_text(const human_request& r) {
  return "counted " + std::to_string(r.approved_by.size()) + " of "
         + std::to_string(r.rule.value("quorum", 1u));
}

control_reply success(std::string message) {
  control_reply reply;
  reply.message = std::move(message);
  return reply;
}

/// The signal that hands `r`'s outcome to its run, and status running for
/// a waiting run: what the gateway's delivery journals (run_requests.cpp),
/// so the run cannot tell the two apart. Nothing for a run that has ended.
expected<void> add_delivery(const journal& store, const human_request& r, write_batch& b) {
  auto meta = store.run(r.run_id);
  if (!meta && meta.error().code == errc::not_found)
    return {};
  if (!meta)
    return std::move(meta).error();
  if (is_terminal(meta->status))
    return {};
  auto last = store.last_seq(r.run_id);
  if (!last)
    return std::move(last).error();
  auto now = now_ms();
  auto payload = to_bytes(gateway::outcome_payload(*r.outcome));
  b.append(r.run_id, *last + 1,
           encode_event(signal_received_event{gateway::decision_signal(r.id), std::move(payload),
                                              now, gateway::delivery_id(r.id)}));
  if (meta->status == run_status::waiting)  // resume it at the next start
    b.set_status(r.run_id, run_status::running, {}, now);
  return {};
}

/// Why an edit cannot be checked here, and where it can.
std::string edit_hint(const human_request& r, const agent::tool_registry* tools) {
  if (tools && tools->find(r.tool))
    return {};
  return " (no endure serve is running, and this program does not register tool '" + r.tool
         + "': run `endure approve --edit` next to the `endure serve` that runs the tool, "
           "whose schema checks the edit)";
}

} // namespace

control_reply decide_live(runtime& rt, const control_request& r) {
  auto verdict = rt.decide(r.run_id, r.principal, r.name, r.payload, "cli");
  if (!verdict)
    return control_reply::failure(verdict.error().code, verdict.error().message);
  auto row = load(rt.store(), r.run_id);
  if (!row)  // decided, but the row cannot be read back: say what is known
    return success(*verdict);
  if (row->status == gateway::request_status::decided && row->outcome)
    return success(decided_text(rt.store(), *row));
  return success(counted_text(*row));
}

control_reply decide_offline(journal& store, const control_request& r,
                             const agent::tool_registry* tools) {
  auto what = gateway::parse_decision(r.name);
  auto payload = nlohmann::json::parse(r.payload.empty() ? "{}" : r.payload, nullptr, false);
  if (!what || payload.is_discarded())
    return control_reply::failure(errc::invalid_argument, "not a decision: " + r.name + " "
                                                            + r.payload);
  auto row = load(store, r.run_id);
  if (!row)
    return control_reply::failure(row.error().code, row.error().message);
  auto& req = *row;
  auto entries = gateway::keys_of(req);
  // A request whose run has ended is withdrawn first, as the gateway
  // would have: the decision is then refused, saying why, and audited.
  gateway::withdraw_if_run_ended(store, req);
  // A deadline that passed while no process ran acts first, as the gateway
  // would have applied it on time.
  auto now = now_ms();
  gateway::apply_deadline(req, now);
  auto verdict = gateway::apply_decision(req, {r.principal, *what, payload, "cli", now}, tools);
  // Stored either way: a refused attempt belongs in the audit trail too.
  write_batch b;
  if (verdict && *verdict == gateway::decide_result::decided) {
    if (auto ok = add_delivery(store, req, b); !ok)
      return control_reply::failure(ok.error().code, ok.error().message);
    req.delivered = true;
  }
  b.put_row(side_table::requests, req.id, gateway::to_record(req));
  gateway::update_index(b, entries, req);  // in the row's batch (request_index.hpp)
  if (auto ok = store.commit(std::move(b)); !ok)
    return control_reply::failure(ok.error().code, "the decision could not be journaled ("
                                                     + ok.error().message + "); nothing was "
                                                     "decided, try again");
  if (!verdict) {
    auto message = verdict.error().message;
    if (*what == gateway::decision::edit && verdict.error().code == errc::invalid_argument)
      message += edit_hint(req, tools);
    return control_reply::failure(verdict.error().code, std::move(message));
  }
  if (*verdict == gateway::decide_result::counted)
    return success(counted_text(req));
  return success(decided_text(store, req));
}

int report_decision(const command_env& env, const control_request& r,
                    const control_reply& reply) {
  const auto& id = r.run_id;
  if (reply.code && *reply.code == errc::not_found)
    return fail("request " + id + ": not found in " + env.globals.data_dir
                + "; see `endure inbox` for the pending requests");
  if (reply.code) {
    // The gateway's refusals start "request ID (run R): "; say it once.
    auto message = reply.message;
    if (message.rfind("request " + id, 0) == 0)
      if (auto colon = message.find(": "); colon != std::string::npos)
        message = message.substr(colon + 2);
    return fail("request " + id + ": " + message);
  }
  std::cout << "request " << id << ": " << reply.message << std::endl;
  return 0;
}

} // namespace endure::cli
