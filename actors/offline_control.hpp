// Controlling a run while no runtime has its data directory open (the
// process is down): the request is journaled on arrival, exactly as a live
// runtime would journal it, and the run is marked so that the next runtime
// acts on it when it resumes the run. Used by `endure start`, `endure
// signal`, `endure cancel` and `endure release`, so none of them starts a
// runtime (which would replay runs and start their steps in a short-lived
// process).
//
// Every function needs `store` open for writing, which means no runtime
// holds the directory (a running `endure serve` does: the CLI then sends
// the request to it instead, cli/control_server.hpp). Errors: not_found (no
// such run), invalid_state (the request does not apply to the run's
// status; the message is refusal()'s, with what to do instead), and the
// journal's write errors.
#pragma once

#include <cstdint>
#include <string>

#include "endure/persistence/journal.hpp"

namespace endure {

/// The requests a run refuses in some statuses.
enum class run_request : std::uint8_t { signal, cancel, release };

/// Why `request` does not apply to a run in status `s`, with what to do
/// instead; empty if it applies. A signal applies to a run that has not
/// ended, a cancel to a running or waiting run, a release to a quarantined
/// run. The offline functions refuse with this text; a program that sends
/// requests to a live runtime can check first and say the same.
std::string refusal(run_request request, const std::string& run_id, run_status s);

/// The stored status of run `run_id`, for a start of `workflow` that
/// finds it there (as a start attaches). Errors: not_found (no such run:
/// the start creates it), invalid_state when the run executes another
/// workflow (check_same_workflow), the journal's.
expected<run_status> existing_run_status(const journal& store, const std::string& run_id,
                                         const std::string& workflow);

/// Journals a new run of `workflow` with msgpack `input` (its meta and its
/// run_started event, as runtime::start writes them): the next runtime
/// executes it. If a run of that id exists, nothing changes (idempotent,
/// like runtime::start). Returns the run's stored status. Errors also:
/// invalid_argument for a bad run id, invalid_state for a run of that id
/// executing another workflow.
expected<run_status> start_offline(journal& store, const std::string& run_id,
                                   const std::string& workflow, std::string input);

/// Appends a signal_received event; a waiting run is marked running so the
/// next runtime resumes it and its wait_signal consumes the signal once.
expected<void> deliver_signal_offline(journal& store, const std::string& run_id,
                                      const std::string& name, std::string payload);

/// Appends a cancel_requested event and marks the run running: the next
/// runtime resumes it, its pending operation ends with cancelled_error and
/// the compensations of its completed steps run.
expected<void> cancel_offline(journal& store, const std::string& run_id,
                              const std::string& reason);

/// The write batch that releases a quarantined run (a run_released event,
/// which resets its crash counts, and status running), at `next_seq`.
write_batch release_batch(const std::string& run_id, std::uint64_t next_seq,
                          const std::string& reason);

/// Releases a quarantined run: the next runtime resumes it.
expected<void> release_offline(journal& store, const std::string& run_id,
                               const std::string& reason);

} // namespace endure
