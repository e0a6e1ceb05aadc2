// The activity pool: threads that run blocking step functions, so no run
// actor and no CAF scheduler thread ever blocks on user code. Jobs are
// plain closures; each reports its outcome to its run actor by message.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace endure {

class activity_pool {
public:
  /// Starts `threads` workers (at least 1).
  explicit activity_pool(std::size_t threads);
  /// Finishes queued jobs, then joins the workers.
  ~activity_pool();
  activity_pool(const activity_pool&) = delete;
  activity_pool& operator=(const activity_pool&) = delete;

  /// Queues `job`; any thread.
  void submit(std::function<void()> job);

private:
  void work();

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

} // namespace endure
