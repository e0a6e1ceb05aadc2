// CAF 0.17 spellings of endure's internal messages, kept in this one file so
// a move to a newer CAF touches only it. Atom names are at most 10
// characters. All messages are local to one process and carry only builtin
// types, except a write_batch riding with a signal (below; never sent to
// another node). In a cluster, other nodes reach the human gateway's
// decide and subscribe and the escalation actor's esc_assess, esc_outcome
// and esc_stats through a stand-in that passes on those alone
// (net/cluster/detail/service_facade.hpp). Requests answer with a value
// (or caf::ok_atom) on success and a caf::error of category "endure"
// (detail/caf_error.hpp) when refused.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "endure/persistence/write_batch.hpp"

// Local messages only: a batch is handed over, never serialised.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(endure::write_batch)

namespace endure::atoms {

// -- run actor ------------------------------------------------------------------
/// (step_done, step, attempt, result bytes, duration_us): an attempt succeeded.
using step_done = caf::atom_constant<caf::atom("stepdone")>;
/// (step_fail, step, attempt, class, message, retry_after_ms, http, duration_us)
using step_fail = caf::atom_constant<caf::atom("stepfail")>;
/// (persisted, token, errc as uint8 (0 = ok), message): a commit of this
/// actor completed.
using persisted = caf::atom_constant<caf::atom("persisted")>;
/// (timer, step): a durable timer of this run is due.
using timer = caf::atom_constant<caf::atom("timer")>;
/// (retry, step): a backoff elapsed; start the next attempt.
using retry = caf::atom_constant<caf::atom("retry")>;
/// (att_tmo, step, attempt): an attempt ran past its timeout.
using attempt_timeout = caf::atom_constant<caf::atom("att_tmo")>;
/// (passivate, generation): idle-waiting long enough; stop if still so.
using passivate = caf::atom_constant<caf::atom("passivate")>;
/// (stop_deadline): the shutdown's deadline passed; abandon the attempts
/// still running (journaled as interrupted) and stop.
using stop_deadline = caf::atom_constant<caf::atom("stop_dl")>;

// -- run manager ----------------------------------------------------------------
/// (start, run id, workflow, input bytes) -> run_status as uint8
using start = caf::atom_constant<caf::atom("start")>;
/// (signal, run id, name, payload bytes, request id) -> ok_atom; the
/// request id (made by the runtime) lets a run journal a signal handed to
/// it twice only once.
/// (signal, run id, name, payload bytes, request id, write_batch with) ->
/// ok_atom: `with` (side-table rows: the human gateway's decided request)
/// commits in the same transaction as the signal, or, when an earlier
/// actor journaled this signal already, on its own before the answer. A
/// refusal leaves it unwritten.
using signal = caf::atom_constant<caf::atom("signal")>;
/// (cancel, run id, reason) -> ok_atom
using cancel = caf::atom_constant<caf::atom("cancel")>;
/// (release, run id, reason) -> ok_atom
using release = caf::atom_constant<caf::atom("release")>;
/// (wake, run id): a timer of a passivated run is due, or recovery.
using wake = caf::atom_constant<caf::atom("wake")>;
/// (restart, run id): the backoff after a run actor's crash is over.
using restart = caf::atom_constant<caf::atom("restart")>;
/// (finished, run id, status, result bytes, error text)
using finished = caf::atom_constant<caf::atom("finished")>;
/// (wait, run id, timeout ms; 0 = none) -> (status, result bytes, error
/// text), or errc::timeout once the timeout passed (the waiter is freed).
using wait = caf::atom_constant<caf::atom("wait")>;
/// (wait_timeout, run id, waiter token): a wait's timeout passed.
using wait_timeout = caf::atom_constant<caf::atom("wait_tmo")>;
/// (journaled, token, errc as uint8 (0 = ok), message): a write the run
/// manager made itself (release, quarantine, a signal to an idle run)
/// completed.
using journaled = caf::atom_constant<caf::atom("journaled")>;
/// (quarantine, run id, reason): journal a quarantine again after its
/// write failed.
using quarantine = caf::atom_constant<caf::atom("quarantine")>;
/// (recover): resume unfinished runs from the journal.
using recover = caf::atom_constant<caf::atom("recover")>;
/// (tick): periodic timer poll.
using tick = caf::atom_constant<caf::atom("tick")>;
/// (trim): give freed heap memory back to the OS (run manager).
using trim = caf::atom_constant<caf::atom("trim")>;
/// (stats) -> counters
using stats = caf::atom_constant<caf::atom("stats")>;

// -- human gateway --------------------------------------------------------------
/// (raised, request id): a request's row is durable; tell whoever watches.
using raised = caf::atom_constant<caf::atom("raised")>;
/// (decide, request id, principal, decision name, payload JSON, channel)
/// -> std::string ("decided", or "counted K of N" towards a quorum)
using decide = caf::atom_constant<caf::atom("decide")>;
/// (deadline, request id) -> std::string: a run's wait for the request
/// timed out; the gateway applies the deadline (serialised with decisions)
/// and answers gateway::deadline_answer: {"outcome": payload} when the
/// request is decided or expired, else {"due_ms": N} (0: no deadline).
using deadline = caf::atom_constant<caf::atom("deadline")>;
/// (remind): reminders may be due (the gateway's own timer, armed from the
/// request index for the earliest; a duplicate is harmless).
using remind = caf::atom_constant<caf::atom("remind")>;
/// (subscribe, actor): lifecycle events go to `actor` until it stops, as
/// (gw_event, kind, request id, run id, detail JSON text). Every detail has
/// {"tool", "kind" (approval|question), "status", "eligible" (principals
/// who may decide; [] = anyone with the approver role), "since_ms" (when
/// raised), "due_ms" (current deadline; 0 = none)}, and by kind:
///   waiting:   "why" (what the policy matched), "quorum"; sent when raised,
///              and again with "deadline_passed": true under keep_waiting
///   counted:   "by", "approved_by", "quorum"
///   decided:   "decision", "by"
///   expired:   "reason" (e.g. "no decision within 30m")
///   escalated: "to" (the group), "quorum"; eligible and due_ms are new
///   reminder:  "number" (1-based), "of"
using subscribe = caf::atom_constant<caf::atom("subscribe")>;
using gw_event = caf::atom_constant<caf::atom("gw_event")>;
/// (deliver): the gateway's start: build the request index if the
/// directory predates it, hand decided outcomes not yet delivered to their
/// runs, send the reminders that fell due;
/// (deliver, request id, next backoff ms): try that one again.
using deliver = caf::atom_constant<caf::atom("deliver")>;
/// (run_ended, run id, run_status as u8): a run that waited on the
/// gateway ended; its pending requests are withdrawn (gateway/withdraw.hpp).
using run_ended = caf::atom_constant<caf::atom("run_ended")>;
/// (sweep, after key): the next page of the start's pass withdrawing the
/// requests of runs that ended while the gateway could not hear of it.
using sweep = caf::atom_constant<caf::atom("sweep")>;
/// The escalation actor (actors/escalation/detail/escalation_actor.hpp):
/// (esc_assess, decision key, proposal JSON) -> assessment JSON; the same
/// key answers with the assessment made under it, never a new one.
using esc_assess = caf::atom_constant<caf::atom("esc_assess")>;
/// (esc_outcome, decision key, outcome JSON) -> {"recorded": bool, "refit":
/// version or null, "labels": N}; recorded false: one was recorded before.
using esc_outcome = caf::atom_constant<caf::atom("esc_outcm")>;
/// (esc_stats) -> {"inputs", "labels", "model_version", "restored": {...}}
using esc_stats = caf::atom_constant<caf::atom("esc_stats")>;
/// (delivered): mark the outcomes delivered lately so on their rows.
using delivered = caf::atom_constant<caf::atom("delivered")>;

} // namespace endure::atoms
