// The activity pool: threads that run blocking step functions, so no run
// actor and no CAF scheduler thread ever blocks on user code. Jobs are
// plain closures; each reports its outcome to its run actor by message
// (detail/outcome_port.hpp).
//
// Stopping is bounded: jobs still queued are dropped (their run actors have
// stopped and journaled what became of those attempts), jobs running get
// `join_timeout` to return, and threads still inside a job after that are
// detached with a warning naming how many. A detached thread only touches
// state it shares by ownership, so it may finish after the pool, the
// runtime and the actor system are gone.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace endure {

class activity_pool {
public:
  /// Starts `threads` workers (at least 1). Default join timeout: no limit.
  explicit activity_pool(std::size_t threads,
                         std::chrono::milliseconds join_timeout = std::chrono::milliseconds::max());
  /// Drops queued jobs, waits up to the join timeout for running ones,
  /// joins the threads that are done and detaches the others.
  ~activity_pool();
  activity_pool(const activity_pool&) = delete;
  activity_pool& operator=(const activity_pool&) = delete;

  /// Queues `job`; any thread. After the pool began stopping, the job is
  /// dropped.
  void submit(std::function<void()> job);

private:
  struct shared;
  std::shared_ptr<shared> shared_;
  std::chrono::milliseconds join_timeout_;
  std::vector<std::thread> threads_;
};

} // namespace endure
