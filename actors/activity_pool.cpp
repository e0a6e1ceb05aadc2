// activity_pool: a mutex-and-condvar queue; jobs run in FIFO order. The
// queue and its counters live in a block every thread co-owns, so a thread
// detached at a bounded stop never touches a destroyed pool.
#include "endure/actors/activity_pool.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>

#include "endure/persistence/log.hpp"

namespace endure {

struct activity_pool::shared {
  std::mutex mutex;
  std::condition_variable work_cv;
  std::condition_variable idle_cv;  ///< a thread left its loop
  std::deque<std::function<void()>> jobs;
  bool stopping = false;
  std::size_t running = 0;  ///< threads inside their loop

  void work() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock guard{mutex};
        work_cv.wait(guard, [this] { return stopping || !jobs.empty(); });
        if (stopping) {
          --running;
          idle_cv.notify_all();
          return;
        }
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      job();
    }
  }
};

activity_pool::activity_pool(std::size_t threads, std::chrono::milliseconds join_timeout)
  : shared_(std::make_shared<shared>()), join_timeout_(join_timeout) {
  auto n = std::max<std::size_t>(threads, 1);
  shared_->running = n;
  for (std::size_t i = 0; i < n; ++i)
    threads_.emplace_back([state = shared_] { state->work(); });
}

activity_pool::~activity_pool() {
  std::size_t dropped = 0;
  std::size_t stuck = 0;
  {
    std::unique_lock guard{shared_->mutex};
    shared_->stopping = true;
    dropped = shared_->jobs.size();
    shared_->jobs.clear();
    shared_->work_cv.notify_all();
    auto done = [this] { return shared_->running == 0; };
    if (join_timeout_ == std::chrono::milliseconds::max())
      shared_->idle_cv.wait(guard, done);
    else
      shared_->idle_cv.wait_for(guard, join_timeout_, done);
    stuck = shared_->running;
  }
  if (dropped > 0)
    log::debug("activity pool: dropped " + std::to_string(dropped)
               + " queued step attempts at shutdown; their runs resume them at the next start");
  if (stuck > 0) {
    log::warn("activity pool: " + std::to_string(stuck) + " step bodies still running "
              + std::to_string(join_timeout_.count()) + " ms after shutdown began; their "
              "threads are left to finish on their own and their results are dropped (the "
              "attempts were journaled as interrupted and run again at the next start)");
    for (auto& t : threads_)
      t.detach();
    return;
  }
  for (auto& t : threads_)
    t.join();
}

void activity_pool::submit(std::function<void()> job) {
  {
    std::lock_guard guard{shared_->mutex};
    if (shared_->stopping)
      return;
    shared_->jobs.push_back(std::move(job));
  }
  shared_->work_cv.notify_one();
}

} // namespace endure
