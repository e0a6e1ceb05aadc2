// activity_pool: a mutex-and-condvar queue; jobs run in FIFO order.
#include "actors/activity_pool.hpp"

namespace endure {

activity_pool::activity_pool(std::size_t threads) {
  for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i)
    threads_.emplace_back([this] { work(); });
}

activity_pool::~activity_pool() {
  {
    std::lock_guard guard{mutex_};
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    t.join();
}

void activity_pool::submit(std::function<void()> job) {
  {
    std::lock_guard guard{mutex_};
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void activity_pool::work() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock guard{mutex_};
      cv_.wait(guard, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty())
        return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

} // namespace endure
