// CAF 0.17 spellings of endure's internal messages, kept in this one file so
// a move to a newer CAF touches only it. Atom names are at most 10
// characters. All messages are local to one process and carry only builtin
// types.
#pragma once

#include <caf/atom.hpp>

namespace endure::atoms {

// -- run actor ------------------------------------------------------------------
/// (step_done, step, attempt, result bytes, duration_us): an attempt succeeded.
using step_done = caf::atom_constant<caf::atom("stepdone")>;
/// (step_fail, step, attempt, class, message, retry_after_ms, http, duration_us)
using step_fail = caf::atom_constant<caf::atom("stepfail")>;
/// (persisted, token, error text): a commit of this actor completed.
using persisted = caf::atom_constant<caf::atom("persisted")>;
/// (timer, step): a durable timer of this run is due.
using timer = caf::atom_constant<caf::atom("timer")>;
/// (retry, step): a backoff elapsed; start the next attempt.
using retry = caf::atom_constant<caf::atom("retry")>;
/// (att_tmo, step, attempt): an attempt ran past its timeout.
using attempt_timeout = caf::atom_constant<caf::atom("att_tmo")>;
/// (passivate, generation): idle-waiting long enough; stop if still so.
using passivate = caf::atom_constant<caf::atom("passivate")>;

// -- run manager ----------------------------------------------------------------
/// (start, run id, workflow, input bytes) -> run_status as uint8
using start = caf::atom_constant<caf::atom("start")>;
/// (signal, run id, name, payload bytes) -> ok / error text
using signal = caf::atom_constant<caf::atom("signal")>;
/// (cancel, run id, reason)
using cancel = caf::atom_constant<caf::atom("cancel")>;
/// (release, run id, reason) -> error text, empty on success
using release = caf::atom_constant<caf::atom("release")>;
/// (wake, run id): a timer of a passivated run is due, or recovery.
using wake = caf::atom_constant<caf::atom("wake")>;
/// (finished, run id, status, result bytes, error text)
using finished = caf::atom_constant<caf::atom("finished")>;
/// (wait, run id) -> (status, result bytes, error text)
using wait = caf::atom_constant<caf::atom("wait")>;
/// (recover): resume unfinished runs from the journal.
using recover = caf::atom_constant<caf::atom("recover")>;
/// (tick): periodic timer poll.
using tick = caf::atom_constant<caf::atom("tick")>;
/// (trim): give freed heap memory back to the OS (run manager).
using trim = caf::atom_constant<caf::atom("trim")>;
/// (stats) -> counters
using stats = caf::atom_constant<caf::atom("stats")>;

} // namespace endure::atoms
