// endure::runtime: the facade a program embeds. It opens the journal in a
// data directory and starts the runtime's supervision tree inside the
// caller's CAF actor system (root supervisor, rest_for_one: activity_workers,
// runs, timer_service; see README "Supervision"), and offers start / wait /
// signal / cancel / release.
//
// Thread-safe: every method may be called from any non-actor thread (they
// block on a reply). From inside a CAF actor, send messages to handle()
// instead (service/protocol.hpp): the blocking methods are those requests
// made from a scoped actor (decide asks the gateway directly: same answers).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "endure/actors/run_outcome.hpp"
#include "endure/actors/runtime_metrics.hpp"
#include "endure/actors/run_usage.hpp"
#include "endure/actors/workflow_registry.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/supervisors/supervisor_flags.hpp"

namespace endure::net {
class llm_backend;
class http_client;
}
namespace endure::agent {
class tool_registry;
}
namespace endure::gateway {
class policy;
} // namespace endure::gateway
namespace endure::escalation {
struct escalation_options;
} // namespace endure::escalation
namespace endure::state {
struct memory_options;
} // namespace endure::state

namespace endure {

class run_event_feed;

struct runtime_options {
  /// Where and how the journal is kept. data_dir must be set.
  journal_options journal;
  /// Threads running blocking step functions. Default: 8.
  std::size_t activity_threads = 8;
  /// Most runs executing at once (others queue); 0 = no limit. Default: 0.
  std::size_t max_active_runs = 0;
  /// A step whose attempts were in flight at this many process deaths
  /// quarantines its run (a poison step). Default: 5.
  std::uint32_t max_step_crashes = 5;
  /// How the run supervisor treats a run actor that dies (an exception
  /// thrown by workflow code other than an endure failure, or a bug in the
  /// runtime): it restarts the run from its journal after `backoff`; more
  /// than `intensity` crashes of that run within `period` quarantine it, with
  /// the reason in its status, while every other run goes on.
  struct run_restart_policy {
    /// Default: 3.
    int intensity = 3;
    /// Default: 60 s.
    std::chrono::milliseconds period{60'000};
    /// Default: 100 ms doubling up to 10 s, 20% jitter.
    backoff_policy backoff;
  } run_restarts;
  /// A run waiting only on timers or signals this long is passivated (its
  /// actor stopped; the journal brings it back). Default: 60 s.
  std::chrono::milliseconds passivate_after{60'000};
  /// How long shutdown (~runtime) waits for step attempts in flight: their
  /// results are journaled as usual and nothing new starts. Attempts still
  /// running at the deadline are journaled as interrupted (they run again
  /// at the next start and do not count as crashes towards
  /// max_step_crashes); their threads are left to finish on their own and
  /// what they return is dropped. Default: 10 s.
  std::chrono::milliseconds shutdown_timeout{10'000};
  /// Once this many run actors stopped (passivated or finished), the heap
  /// they freed is returned to the OS a second later (release_free_heap on
  /// an activity thread), once per burst. Without it the process stays at
  /// its high-water mark: 100,000 runs parked at once left ~450 MiB PSS
  /// after all had passivated, ~50 MiB with it. 0 = never. Default: 1000.
  std::size_t trim_heap_after_stops = 1000;
  /// Resume unfinished runs when the runtime opens. Default: true.
  bool resume_on_open = true;
  /// Unfinished runs resumed per 50 ms at open, so 100,000 runs do not
  /// stampede. Default: 1000.
  std::size_t recovery_batch = 1000;
  /// The model ctx.llm calls, shared by every run (net/llm_backend.hpp:
  /// make_llm_backend(config) gives the sim when config.base_url is empty).
  /// Default: none; ctx.llm then fails its step (fatal) with a message
  /// naming the run and step. Replaying journaled LLM steps needs no model.
  std::shared_ptr<net::llm_backend> llm;
  /// The client ctx.http sends with, shared by every run
  /// (net/http_client.hpp). Default: none; the runtime makes one with
  /// default options when a run first calls ctx.http.
  std::shared_ptr<net::http_client> http;
  /// The tools ctx.tool (and run_agent) may call, shared by every run
  /// (actors/agent/tool_registry.hpp). Default: none;
  /// ctx.tool then fails (fatal) naming the run and the tool.
  std::shared_ptr<const agent::tool_registry> tools;
  /// The policy gate (actors/gateway/policy.hpp, load_policy_file): a tool
  /// call it gates waits in ctx.tool for a person's decision, reached
  /// through the human gateway (runtime::decide). Default: none; no call
  /// waits.
  std::shared_ptr<const gateway::policy> policy;
  /// The escalation actor (actors/escalation/escalate.hpp): a child of the
  /// tree that runs the escalation matrix and keeps what it learns in this
  /// journal; runs ask it through escalation::assess and run_agent's
  /// agent_spec::escalation. Default: none; those steps fail (fatal).
  std::shared_ptr<const escalation::escalation_options> escalation;
  /// The memory store (actors/state/memory_steps.hpp), kept in this
  /// journal and opened with the runtime; runs reach it through
  /// state::remember / recall / forget. Shutdown checkpoints its graphs.
  /// Default: none; those steps fail (fatal).
  std::shared_ptr<const state::memory_options> memory;
};

/// Counters since the runtime opened.
struct runtime_stats {
  std::uint64_t steps_executed = 0;  ///< step attempts that ran a body
  std::uint64_t steps_replayed = 0;  ///< outcomes read back from the journal
  std::uint64_t retries = 0;
  std::uint64_t live_actors = 0;
  std::uint64_t waits = 0;  ///< wait() calls in progress
};

/// "Wait as long as it takes" for the answer_limit of the blocking calls
/// below (their default).
inline constexpr std::chrono::milliseconds no_answer_limit = std::chrono::milliseconds::max();

class runtime {
public:
  /// Opens the journal and starts the supervision tree in `sys`. Errors are
  /// the journal's (locked data directory, not writable, ...) or a bad
  /// run_restarts policy (naming the field).
  static expected<std::unique_ptr<runtime>> open(caf::actor_system& sys,
                                                 runtime_options opts,
                                                 workflow_registry workflows);
  /// Stops the tree in reverse order: the timer service, every run actor
  /// (their journals keep their state), the activity workers once the step
  /// bodies in flight return; then closes the journal.
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Starts run `run_id` of `workflow` with msgpack `input`, or attaches to
  /// the existing run of that id (idempotent). Returns once the run is
  /// durable, with its status.
  expected<run_status> start_raw(const std::string& workflow, const std::string& run_id,
                                 std::string input);
  template <class In>
  expected<run_status> start(const std::string& workflow, const std::string& run_id,
                             const In& input) {
    return start_raw(workflow, run_id, to_bytes(input));
  }
  /// Non-blocking start; `done` runs on an actor thread.
  void start_async(const std::string& workflow, const std::string& run_id, std::string input,
                   std::function<void(expected<run_status>)> done);

  /// Waits until the run completes, fails, is cancelled or quarantined.
  /// Errors: timeout (the run had not ended within `timeout`; nothing is
  /// left behind), not_found (no such run), shut_down (the runtime stops).
  expected<run_outcome> wait(const std::string& run_id, std::chrono::milliseconds timeout);

  /// answer_limit (signal_raw, cancel, release, decide): how long to wait
  /// for the runtime's answer. Past it they return errc::timeout, and the
  /// outcome is unknown (the request may still take effect: the journal
  /// tells). For callers that must not block forever, such as the console.
  ///
  /// Delivers signal `name` to the run: journaled before this returns,
  /// consumed exactly once by a wait_signal (now or later; a quarantined
  /// run consumes it after its release). Errors: not_found (no such run),
  /// invalid_state (the run has ended), shut_down, and the journal's write
  /// errors.
  expected<void> signal_raw(const std::string& run_id, const std::string& name,
                            std::string payload,
                            std::chrono::milliseconds answer_limit = no_answer_limit);
  template <class T>
  expected<void> signal(const std::string& run_id, const std::string& name, const T& payload) {
    return signal_raw(run_id, name, to_bytes(payload));
  }

  /// Cancels the run: its pending operation ends with cancelled_error and
  /// the compensations of its completed steps run. Cancelling a run that is
  /// already being cancelled or compensated succeeds. Errors: not_found,
  /// invalid_state (ended, or quarantined: release it first), shut_down.
  expected<void> cancel(const std::string& run_id, const std::string& reason,
                        std::chrono::milliseconds answer_limit = no_answer_limit);

  /// Lets a quarantined run try again (after a fix was deployed): journals
  /// the release, resets its crash counts and resumes it. Errors:
  /// not_found, invalid_state (not quarantined), shut_down, write errors.
  expected<void> release(const std::string& run_id, const std::string& reason,
                         std::chrono::milliseconds answer_limit = no_answer_limit);

  /// A person's decision on request `request_id` of the human gateway
  /// (a gated tool call or a question; its id is in the journal's requests
  /// table and `endure inbox`). `decision`: approve, edit (payload
  /// {"arguments": {...}}, checked against the tool's schema), reject
  /// (payload {"reason": "..."}) or respond (payload {"text": "..."}).
  /// `principal` is who decides; the channel's authentication vouches for
  /// it. Returns "decided" (journaled, goes to the run) or "counted K of N"
  /// (an approval towards a quorum). Errors: not_found, invalid_state (decided
  /// already: by whom and when), permission_denied, invalid_argument,
  /// shut_down, write errors, timeout (no answer in time, or taken and not yet
  /// durable: it stands). Attempts are audited while the journal takes writes.
  expected<std::string> decide(const std::string& request_id, const std::string& principal,
                               const std::string& decision, const std::string& payload_json = "{}",
                               const std::string& channel = "c++",
                               std::chrono::milliseconds answer_limit = no_answer_limit);

  /// Sends the human gateway's lifecycle events to `subscriber` until it
  /// stops: (gw_event, kind, request id, run id, detail JSON), kind one of
  /// waiting, counted, decided, expired, escalated, reminder (the detail's
  /// fields are listed in actors/atoms.hpp). A gateway restarted by its
  /// supervisor starts without subscribers: watch it (supervisor()) and
  /// subscribe again. Errors: shut_down.
  expected<void> subscribe_requests(const caf::actor& subscriber);

  /// Tokens and cost of the run's LLM steps, from its journal (see
  /// run_usage.hpp; read_run_usage does the same on a read-only journal).
  expected<run_usage> usage(const std::string& run_id) const;

  /// The runtime as an actor: it accepts the requests of
  /// service/protocol.hpp (start, signal, cancel, release, status, wait,
  /// usage, subscribe, decide) and answers each with a value or an error,
  /// so event-based actors use request(...).then(...) and never block.
  /// Valid while the runtime is open, across restarts of the tree's
  /// children; also in the actor system's registry as
  /// service::runtime_name.
  caf::actor handle() const;

  /// The journal (reads: runs, records).
  const journal& store() const noexcept;
  /// The root of the supervision tree. Monitor it to learn if the runtime
  /// gave up (its children crashed beyond its intensity); find a child with
  /// (find_child_atom, "runs") (supervisors/atoms.hpp).
  caf::actor supervisor() const;
  runtime_stats stats() const;
  /// Counters and histograms since open plus gauges read now (runs per
  /// status, pending requests), for /metrics; cheap however many runs the
  /// journal holds (runtime_metrics.hpp says why).
  runtime_metrics metrics() const;
  const workflow_registry& workflows() const noexcept;
  /// Live changes of runs and requests (run_event_feed.hpp), for as long
  /// as the runtime is open.
  run_event_feed& events() noexcept;

private:
  struct impl;
  explicit runtime(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace endure
