// The state of one run actor: the journal fold (replay_log), the workflow
// coroutine, the operations in flight. It implements run_host for the
// workflow's awaiters and one handler per message the actor receives.
// Runs only on the run actor's thread (CAF guarantees one message at a
// time), so nothing here is locked.
//
// The rule everything follows: a change is appended to the journal and
// acknowledged (persist) before the run acts on it. A step's result may
// resume the (side-effect free) workflow code before its commit, so the
// next step's start joins the same commit (persist_with); effects still wait.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include "endure/actors/detail/guarded_reply.hpp"
#include <caf/stateful_actor.hpp>

#include "endure/actors/context.hpp"
#include "endure/actors/detail/outcome_port.hpp"
#include "endure/actors/detail/run_env.hpp"
#include "endure/actors/run_event_feed.hpp"
#include "endure/actors/replay_log.hpp"
#include "endure/persistence/write_batch.hpp"

namespace endure::detail {

class run_state : public run_host {
public:
  using actor_ptr = caf::stateful_actor<run_state>*;

  ~run_state() override;

  // -- lifecycle (run_lifecycle.cpp; signals, cancel, passivation and
  // -- shutdown in run_interrupts.cpp) ----------------------------------------
  void init(actor_ptr self, std::string run_id, run_env env);
  /// Loads the journal; resumes the run if it exists. `barrier` first waits
  /// for commits a previous incarnation may have left queued.
  void load(bool barrier);
  /// A start request: creates the run if the journal has none, then replies.
  void on_start(const std::string& workflow, std::string input, guarded_reply rp);
  /// `request_id` identifies the request across actors (run manager).
  /// Journals the signal (once per request id) and `with` in one commit,
  /// then answers; a wait there to take it ends in that commit too.
  void on_signal(const std::string& name, std::string payload, const std::string& request_id,
                 guarded_reply rp, write_batch with = {});
  void on_cancel(const std::string& reason, guarded_reply rp);
  void on_passivate(std::uint64_t generation);
  /// A commit completed; token 0 is a write nothing waits for (a quiet one).
  void on_persisted(std::uint64_t token, std::uint8_t code, const std::string& message);
  /// The run supervisor stops (runtime shutdown): attempts in flight may
  /// finish and their outcomes are journaled, nothing new starts, and the
  /// actor stops once none is left or at the deadline (on_stop_deadline).
  void on_shutdown();
  /// The shutdown's deadline passed: journal the attempts still running as
  /// interrupted (not crashes) and stop.
  void on_stop_deadline();

  // -- operations (run_state.cpp) ----------------------------------------------
  void on_step_done(std::uint64_t step, std::uint32_t attempt, std::string result,
                    std::int64_t duration_us);
  void on_step_fail(std::uint64_t step, std::uint32_t attempt, failure f,
                    std::int64_t duration_us);
  void on_timer(std::uint64_t step);
  void on_retry(std::uint64_t step);
  void on_attempt_timeout(std::uint64_t step, std::uint32_t attempt);

  // -- run_host ----------------------------------------------------------------
  const std::string& run_id() const noexcept override { return run_id_; }
  void prepare(op_request& req, op_slot& slot) override;
  void submit(op_request req, op_slot& slot) override;
  void add_compensation(std::uint64_t step, std::string name,
                        std::function<void(const step_info&)> undo,
                        retry_policy policy) override;
  bool next_journaled_step_is(const std::string& name, std::uint64_t input_hash) const override;
  void uses_gateway() override { uses_gateway_ = true; }
  step_services* services() noexcept override { return env_.services; }

private:
  struct pending_op {
    op_request req;
    op_slot* slot = nullptr;
    std::shared_ptr<std::function<std::string(const step_info&)>> body;
    std::uint32_t attempt = 0;      ///< attempt in flight; 0 = none (backoff)
    std::int64_t first_started_ms = 0;
    std::optional<std::int64_t> timer_due;
  };
  struct compensation {
    std::uint64_t step;
    std::string name;
    std::function<void(const step_info&)> undo;
    retry_policy policy;
  };

  // journal
  void append(write_batch& batch, run_event e);
  void persist(write_batch batch, std::function<void()> then);
  /// Queues a write nothing waits for; if it fails the actor stops (the
  /// supervisor restarts the run from what the journal holds).
  void persist_quietly(write_batch batch);
  /// Journals `batch`, resuming the workflow (`resume`) before the commit
  /// so what it journals next joins the same commit. Once that commit is
  /// durable: the bodies it started go to the activity pool, then `durable`
  /// (if any) runs, then the resumption's other effects (replies, bodies
  /// that run inline).
  void persist_with(write_batch batch, const std::function<void()>& resume,
                    std::function<void()> durable = {});
  // operations
  void start_attempt(pending_op& p, std::uint32_t attempt);
  void refuse_inline_timeout(pending_op& p);
  /// dispatch_body of `step`'s attempt info.attempt, later (once a commit
  /// is durable), unless that attempt is no longer pending.
  std::function<void()> dispatch_later(std::uint64_t step, step_info info);
  /// The start of `step`'s `attempt` will never be acknowledged (its node
  /// stops): journals that the body never ran.
  void interrupt_unacknowledged(std::uint64_t step, std::uint32_t attempt);
  void dispatch_body(pending_op& p, step_info info);
  void arm_timer(pending_op& p);
  /// Sends this actor (timer, step) or, with `retry`, (retry, step) for a
  /// timer due at `due_ms`, in hops of at most max(1 s, passivate_after)
  /// (the passivation message holds the actor that long anyway): a delayed message
  /// holds a strong reference to its receiver, so one sent for a deadline a
  /// day away kept a passivated run's actor object in memory for that day
  /// (~2.4 KiB a run: 100,000 runs waiting with a deadline held ~235 MiB).
  /// on_timer and on_retry send the next hop until it is due; once the
  /// actor has passivated, the timer service wakes the run from the timers
  /// table instead.
  void send_timer(std::uint64_t step, std::int64_t due_ms, bool retry = false);
  /// Stores the timer row of a timer the journal already holds (resume).
  void restore_timer_row(std::int64_t due_ms, std::uint64_t step);
  void try_consume_signal(pending_op& p);
  /// What a signal wait `req` that took the signal at `signal_seq` (0: it
  /// timed out) reads: `payload`, or req.foreign_result when the signal
  /// came from another sender than req.trusted_sender.
  std::string signal_result(const op_request& req, std::uint64_t signal_seq,
                            std::string payload) const;
  /// Journals step `step`'s outcome after the records already in `first`,
  /// in one commit, and resumes the workflow with it; `durable` runs once
  /// that commit is.
  void complete(std::uint64_t step, std::string result, std::uint32_t attempt,
                std::int64_t duration_us, std::uint64_t signal_seq, write_batch first = {},
                std::function<void()> durable = {});
  void deliver(std::uint64_t step, std::function<void(op_slot&)> fill);
  // lifecycle
  void begin_workflow();
  void after_resume();
  void on_root_done();
  /// Ends the actor abnormally (a bug in workflow code): restarted from the
  /// journal by the run supervisor.
  void crash(const std::string& what);
  void run_next_compensation();
  void finish(run_status status, std::string result, std::string error);
  void quarantine(std::string reason);
  /// Tells the runtime's event feed the run's status is now `status`.
  void publish_status(run_status status, const std::string& detail = {}) const;
  /// Erases the timer rows of every step still waiting on a timer (the run
  /// ends or is quarantined; a release stores them again at resume).
  void erase_timers(write_batch& batch) const;
  /// True while a step attempt runs off this thread (a body or a call).
  bool attempts_in_flight() const;
  /// While stopping: stops the actor once no attempt is in flight.
  void stop_when_idle();
  /// Refuses a request the actor cannot take any more because it is going
  /// away (quarantining, shutting down): the run supervisor hands the
  /// request on once the actor is down.
  void ask_again(guarded_reply& rp) const;
  /// Holds a request until the run is loaded (after a barrier).
  void defer(std::function<void()> request);
  /// Adds status running to a batch that gives a waiting run work.
  void mark_running(write_batch& batch);
  void update_status();
  std::optional<std::string> poison_step() const;

  actor_ptr self_ = nullptr;
  std::string run_id_;
  run_env env_;
  /// Where attempts running elsewhere report to; closed when the actor stops.
  std::shared_ptr<outcome_port> port_;
  replay_log log_;
  /// The workflow its stored meta names (read at load; empty before).
  std::string stored_workflow_;
  bool created_ = false;
  std::uint64_t next_seq_ = 1;
  std::uint64_t next_step_ = 0;
  std::unique_ptr<context> ctx_;
  task<std::string> root_;
  std::map<std::uint64_t, pending_op> pending_;
  std::map<std::string, std::vector<std::uint64_t>> signal_waiters_;
  /// Commits in flight and what runs once each is durable, in token order
  /// (the journal completes batches in the order they were queued).
  std::deque<std::pair<std::uint64_t, std::function<void()>>> persisting_;
  std::uint64_t next_token_ = 1;
  /// Set while persist_with runs: journal writes join this batch and their
  /// continuations (and step bodies) wait for its one commit.
  std::optional<write_batch> open_batch_;
  std::vector<std::function<void()>> open_thens_;
  /// Bodies that wait for that commit to go to the activity pool: handed
  /// over first once it is durable (persist_with).
  std::vector<std::function<void()>> open_handoffs_;
  /// The journal's sink fences side effects (persistence/fencing_sink.hpp):
  /// a step's body waits for its start to be acknowledged.
  bool await_start_ = false;
  /// Starts waiting for that acknowledgement: persist token -> (step,
  /// attempt). One the sink fails with shut_down is an interruption.
  std::map<std::uint64_t, std::pair<std::uint64_t, std::uint32_t>> awaited_starts_;
  std::vector<compensation> compensations_;
  std::size_t next_compensation_ = 0;
  std::unique_ptr<op_slot> compensation_slot_;
  bool cancelling_ = false;
  bool compensating_ = false;
  /// The workflow passed a gate or asked a person (live or replayed): at
  /// its end the run tells the gateway, which withdraws the requests it
  /// left pending.
  bool uses_gateway_ = false;
  bool quarantined_ = false;
  bool finishing_ = false;
  bool stopping_ = false;  ///< the runtime shuts down (on_shutdown)
  /// Loading behind a barrier: requests wait in deferred_ until it is done.
  bool loading_ = false;
  /// The commit creating the run is in flight (its failure is the start's).
  bool creating_ = false;
  std::vector<std::function<void()>> deferred_;
  run_status finishing_status_ = run_status::completed;
  run_status final_status_ = run_status::failed;
  std::string final_error_;
  run_status stored_status_ = run_status::running;
  std::uint64_t passivate_generation_ = 0;
  std::vector<guarded_reply> start_replies_;
  /// Whether anybody watches this run's steps (the feed's, memoized).
  step_interest_cache step_interest_;
};

} // namespace endure::detail
