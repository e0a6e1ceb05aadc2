// The contract between workflow code (context, awaiters) and the run actor
// that hosts it. Awaiters describe an operation (op_request) and own the
// slot its outcome lands in; the host replays it from the journal or
// executes it live, fills the slot, and calls the slot's notify on the run
// actor's thread. Internal: users never name this.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "endure/actors/retry_policy.hpp"
#include "endure/actors/step_info.hpp"
#include "endure/actors/step_usage.hpp"
#include "endure/persistence/failure.hpp"

namespace endure::detail {

enum class op_kind : std::uint8_t {
  activity,  ///< blocking function, runs on the activity pool
  async,     ///< non-blocking function that calls back when done
  value,     ///< a value the host computes and journals (now, random, uuid)
  sleep,     ///< durable timer
  signal,    ///< wait for a named signal, optionally with a timeout
};

/// Completes an async step: result bytes, or a failure.
using async_done = std::function<void(std::optional<std::string> result,
                                      std::optional<failure> error)>;

struct op_request {
  op_kind kind = op_kind::activity;
  std::uint64_t step = 0;  ///< set by host.prepare
  std::string name;
  std::uint64_t input_hash = 0;
  retry_policy policy;
  /// activity: runs the user function, returns msgpack of its result.
  std::function<std::string(const step_info&)> body;
  /// activity only: run `body` on the run actor's thread, not the activity
  /// pool (op_awaiter::run_inline; never set for other kinds).
  bool run_inline = false;
  /// async: starts the operation; must not block.
  std::function<void(const step_info&, async_done)> async_body;
  /// activity/async, optional: the usage to journal with a result (what an
  /// LLM call cost), computed once from the result bytes when the step
  /// completes live; never on replay.
  std::function<step_usage(std::string_view result)> usage;
  /// value: computes the value to journal (in the host, once).
  std::function<std::string()> value;
  /// sleep: how long; signal: the timeout (zero: wait forever).
  std::chrono::milliseconds duration{0};
  /// signal, optional: only a signal journaled with this request id hands
  /// its payload to the wait; one from any other sender still ends the
  /// wait, but reads as `foreign_result`. Decided from the journaled
  /// signal, so live execution and every replay agree.
  std::string trusted_sender;
  std::string foreign_result;
};

/// Where an operation's outcome lands.
struct op_slot {
  bool ready = false;
  std::optional<std::string> result;  ///< msgpack bytes
  std::optional<failure> error;       ///< final failure: thrown to the workflow
  bool cancelled = false;             ///< the run was cancelled: thrown
  bool timed_out = false;             ///< a signal wait's timeout fired
  std::function<void()> notify;       ///< resumes whoever waits
};

class step_services;

class run_host {
public:
  virtual ~run_host() = default;
  virtual const std::string& run_id() const noexcept = 0;
  /// Gives `req` its step index, checks it against the journal (throws
  /// non_determinism_error on a mismatch) and, if the journal already holds
  /// the outcome, fills `slot` (ready = true).
  virtual void prepare(op_request& req, op_slot& slot) = 0;
  /// Executes a prepared, not-ready operation; fills `slot` and calls
  /// slot.notify when done. `slot` must stay put until then.
  virtual void submit(op_request req, op_slot& slot) = 0;
  /// Registers the compensation of completed step `step` (saga).
  virtual void add_compensation(std::uint64_t step, std::string name,
                                std::function<void(const step_info&)> undo,
                                retry_policy policy) = 0;
  /// True if the journal holds, at the index the next prepare() hands out,
  /// a step of this name and input hash: lets code that changed its steps
  /// replay a run an earlier build journaled (actors/agent/detail/
  /// tool_phases).
  virtual bool next_journaled_step_is(const std::string&, std::uint64_t) const { return false; }
  /// The run raises requests of the human gateway (or may: a gate step):
  /// when it ends, the gateway withdraws what it left pending.
  virtual void uses_gateway() {}
  /// The clients of ctx.llm and ctx.http; null if the host has none.
  virtual step_services* services() noexcept { return nullptr; }
};

} // namespace endure::detail
