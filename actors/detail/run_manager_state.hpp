// The state of the run manager (detail/run_manager.hpp): the run actors it
// owns, the requests it routes to them, its own journal writes, recovery
// and shutdown. Runs only on the manager's thread; nothing is locked.
//
// Two rules keep every request answered and nothing lost:
// * A request forwarded to a run actor that stops before reading it (it
//   passivated, finished, crashed, or quarantines itself) is handled again
//   once that actor is down, against what the journal then says.
// * While the manager itself writes to a run's journal (a release, a
//   quarantine, a signal to a quarantined run) the run is `busy`: requests
//   for it wait until the write completes, and no actor is spawned for it.
// Internal.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <random>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/event_based_actor.hpp>
#include "endure/actors/detail/guarded_reply.hpp"
#include "endure/actors/detail/run_manager.hpp"
#include "endure/actors/heap_trim.hpp"
#include "endure/persistence/write_batch.hpp"
#include "endure/supervisors/intensity_window.hpp"

namespace caf {
struct down_msg;
} // namespace caf

namespace endure::detail {

struct manager_state {
  using outcome_msg = std::tuple<std::uint8_t, std::string, std::string>;
  /// Handles a request (again), answering through the promise.
  using retry_fn = std::function<void(guarded_reply)>;

  struct queued_start {
    std::string run_id;
    std::string workflow;
    std::string input;
    guarded_reply rp;  ///< invalid for wakes
  };
  struct waiter {
    std::uint64_t token = 0;
    std::int64_t timeout_ms = 0;
    guarded_reply rp;
  };
  struct parked {
    guarded_reply rp;
    retry_fn again;
  };

  run_env env;
  manager_options opts;
  caf::event_based_actor* self = nullptr;
  std::unordered_map<std::string, caf::actor> active;
  std::unordered_map<caf::actor_addr, std::string> ids;
  std::unordered_set<std::string> crashed;  ///< respawn behind a barrier
  std::unordered_map<std::string, intensity_window> restarts;
  std::minstd_rand rng{std::random_device{}()};
  bool stopping = false;  ///< shutting down: spawns nothing, quits when empty
  caf::error stop_reason;
  std::deque<queued_start> queue;
  std::unordered_set<std::string> queued_ids;
  std::unordered_map<std::string, std::vector<waiter>> waiters;
  std::uint64_t next_waiter = 1;
  std::deque<std::string> recovery;
  std::chrono::milliseconds recovery_retry{0};  ///< backoff after a failed scan
  heap_trim_schedule trims;
  /// Requests waiting for a run's actor to be down or its write to land.
  std::unordered_map<std::string, std::vector<parked>> parked_requests;
  /// Runs the manager is writing to itself; value: writes in flight.
  std::unordered_map<std::string, int> busy;
  /// Runs whose actor crashed and waits out its restart backoff: requests
  /// for them wait too, or each would respawn the crash at once.
  std::unordered_set<std::string> restarting;
  /// Continuations of the manager's own writes, by token.
  std::unordered_map<std::uint64_t, std::function<void(const expected<void>&)>> writes;
  std::uint64_t next_write = 1;

  manager_state() = default;
  manager_state(const manager_state&) = delete;
  manager_state& operator=(const manager_state&) = delete;
  /// Killed (not shut down): take the run actors along, so that no run
  /// ever has two live actors once a new manager takes over.
  ~manager_state();

  // -- run actors (run_manager_state.cpp) ----------------------------------------
  bool full() const { return opts.max_active > 0 && active.size() >= opts.max_active; }
  caf::actor spawn(const std::string& id);
  /// Wakes an existing, unfinished run unless it is active, queued or busy.
  void wake(const std::string& id);
  void admit_queued();
  void on_down(const caf::down_msg& dm);
  void note_stop();
  void on_trim();
  /// Restarts the run from its journal after a backoff, or quarantines it
  /// once it crashed more often than the intensity allows.
  void on_crash(const std::string& id, const std::string& reason);
  /// on_crash, once the journal holds what the dead actor wrote.
  void after_crash(const std::string& id, const std::string& reason);
  /// Journals the quarantine of a run whose actor is gone; retried with
  /// backoff while the journal refuses the write.
  void quarantine(const std::string& id, const std::string& why,
                  std::chrono::milliseconds retry_after = std::chrono::milliseconds{100});
  /// Reads the unfinished runs to resume; a damaged run is logged and
  /// skipped, a failed read retried with backoff.
  void recover();
  void tick();
  void shut_down(caf::error reason);

  // -- the manager's own writes (run_manager_state.cpp) ---------------------------
  /// Commits `batch` for run `id`; `then` runs on this actor with the
  /// result. The run is busy meanwhile.
  void write(const std::string& id, write_batch batch,
             std::function<void(const expected<void>&)> then);
  /// Quits once stopping, with no run actor left and no write in flight.
  /// Answers every wait for `id` with `why` (the run will never end).
  void refuse_waiters(const std::string& id, const caf::error& why);
  void quit_when_drained();
  void on_written(std::uint64_t token, std::uint8_t code, const std::string& message);
  bool is_busy(const std::string& id) const {
    return busy.count(id) > 0 || restarting.count(id) > 0;
  }
  /// The backoff after a crash is over: spawn the run again (if anything
  /// still needs it) and hand it the requests that waited.
  void restart(const std::string& id);
  /// Handles the requests parked for `id` again (they route themselves:
  /// to its actor, or park once more), unless it is busy.
  void unpark(const std::string& id);
  void park(const std::string& id, guarded_reply rp, retry_fn again);

  // -- requests (run_requests.cpp) -------------------------------------------------
  void start(const std::string& id, const std::string& wf, const std::string& input,
             guarded_reply rp);
  /// `request_id` (made here on first handling) lets a run actor see that
  /// an earlier actor journaled this very request, so a signal handed on
  /// again is never journaled twice. `with` commits with the signal (or,
  /// when it was journaled before, on its own) before the answer.
  void signal(const std::string& id, const std::string& name, const std::string& payload,
              guarded_reply rp, std::string request_id = {}, write_batch with = {});
  void cancel(const std::string& id, const std::string& reason, guarded_reply rp);
  void release(const std::string& id, const std::string& reason, guarded_reply rp);
  void wait(const std::string& id, std::int64_t timeout_ms, guarded_reply rp);
  void wait_expired(const std::string& id, std::uint64_t token);
  /// Answers every waiter of `id` with the run's outcome.
  void notify(const std::string& id, const outcome_msg& msg);
  /// Sends `msg` to run actor `a` and its reply to `rp`; if the actor is
  /// gone before it answers, `again` handles the request once it is down.
  template <class Reply>
  void forward(const caf::actor& a, const std::string& id, guarded_reply rp,
               retry_fn again, caf::message msg);
  /// A start (or attach) through run actor `a`.
  void start_via(const caf::actor& a, const std::string& id, const std::string& wf,
                 const std::string& input, guarded_reply rp);
};

} // namespace endure::detail
