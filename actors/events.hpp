// The journal records of a workflow run: everything that changes a run is
// one of these, appended before the run acts on it. The run's state is the
// fold of its events (replay_log.hpp).
//
// Tags 16..63 belong to the workflow core (persistence/FORMAT.md). Adding a
// field: append it at the end and bump the type's schema version; readers of
// the old schema keep working because trailing fields are optional.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "endure/actors/step_usage.hpp"
#include "endure/persistence/failure.hpp"
#include "endure/persistence/journal.hpp"

namespace endure {

/// First record of every run: what to run, with which input.
struct run_started_event {
  std::string workflow;
  std::string input;  ///< msgpack of the workflow's input
  std::int64_t at_ms = 0;
};

/// An attempt of step `step` began. Appended without waiting for the
/// commit: an attempt started but never finished marks a crash.
struct step_started_event {
  std::uint64_t step = 0;
  std::string name;
  std::uint64_t input_hash = 0;
  std::uint32_t attempt = 1;
  std::int64_t at_ms = 0;
};

/// Step `step` produced its result (msgpack). For a signal wait,
/// `signal_seq` names the consumed signal record; 0 otherwise. `usage`
/// (schema 2) is what an LLM step cost; empty for other steps and in
/// schema 1 records.
struct step_completed_event {
  std::uint64_t step = 0;
  std::string name;
  std::uint64_t input_hash = 0;
  std::uint32_t attempt = 1;
  std::string result;
  std::int64_t at_ms = 0;
  std::int64_t duration_us = 0;
  std::uint64_t signal_seq = 0;
  step_usage usage;
};

/// An attempt failed. `final` means no further attempt will be made; else
/// the next attempt is due at `retry_at_ms` (a durable backoff).
struct step_failed_event {
  std::uint64_t step = 0;
  std::string name;
  std::uint32_t attempt = 1;
  failure_class cls = failure_class::retryable;
  std::string message;
  std::int64_t retry_at_ms = 0;
  bool final = false;
  std::int64_t at_ms = 0;
  std::int64_t duration_us = 0;
  std::int32_t http_status = 0;
};

/// A durable timer for step `step` (ctx.sleep, a signal wait's timeout).
struct timer_scheduled_event {
  std::uint64_t step = 0;
  std::string name;
  std::uint64_t input_hash = 0;
  std::int64_t due_ms = 0;
};

/// A signal arrived (before or during a wait, or while the process was
/// down). Its journal seq identifies it. `request_id` (schema 2) is the
/// runtime's id of the signal request: a request handed on again after the
/// actor that journaled it stopped finds it journaled and is not journaled
/// twice. Empty for signals written offline and in schema 1 records.
struct signal_received_event {
  std::string name;
  std::string payload;  ///< msgpack
  std::int64_t at_ms = 0;
  std::string request_id;
};

struct cancel_requested_event {
  std::string reason;
  std::int64_t at_ms = 0;
};

/// Last record of a run.
struct run_finished_event {
  run_status status = run_status::completed;
  std::string result;  ///< msgpack of the workflow's result, if completed
  std::string error;   ///< why it failed / was cancelled / quarantined
  std::int64_t at_ms = 0;
};

/// A person released a quarantined run to try again (after a fix): crash
/// counts start over from here.
struct run_released_event {
  std::string reason;
  std::int64_t at_ms = 0;
};

/// An attempt of step `step` was still running when the runtime shut down
/// and its deadline passed (runtime_options::shutdown_timeout): it was
/// abandoned, not crashed, so it does not count towards the poison-step
/// limit. The step runs again (a new attempt) at the next start.
struct step_interrupted_event {
  std::uint64_t step = 0;
  std::string name;
  std::uint32_t attempt = 1;
  std::int64_t at_ms = 0;
};

using run_event = std::variant<run_started_event, step_started_event,
                               step_completed_event, step_failed_event,
                               timer_scheduled_event, signal_received_event,
                               cancel_requested_event, run_finished_event,
                               run_released_event, step_interrupted_event>;

/// The record (tag, schema, payload) of an event.
record encode_event(const run_event& e);
/// Decodes a record read from the run's journal; errors name run and seq.
expected<run_event> decode_event(const record& r, std::string_view run_id,
                                 std::uint64_t seq);
/// Registers the workflow core's tags so the journal accepts them on read.
void register_event_types(record_types& types);
/// Short name of the event's type, e.g. "step_completed".
std::string_view event_name(const run_event& e);

} // namespace endure
