// One thread that runs tasks when they fall due: the sim model's stand-in
// for network latency. Owns its thread; schedule() from any thread. On
// destruction every pending task still runs, once, with cancelled = true,
// so a callback promised "exactly once" is never dropped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace endure::net::detail {

class timer_thread {
public:
  using task = std::function<void(bool cancelled)>;

  timer_thread();
  ~timer_thread();
  timer_thread(const timer_thread&) = delete;
  timer_thread& operator=(const timer_thread&) = delete;

  /// Runs `fn(false)` on the timer thread after `delay` (at once if zero).
  void schedule(std::chrono::milliseconds delay, task fn);

  /// True on the timer thread itself.
  bool on_timer_thread() const noexcept { return std::this_thread::get_id() == thread_.get_id(); }

private:
  void run();

  using clock = std::chrono::steady_clock;
  std::mutex mutex_;
  std::condition_variable wake_;
  /// Ordered by due time, then by arrival, so equal deadlines keep FIFO order.
  std::map<std::pair<clock::time_point, std::uint64_t>, task> pending_;
  std::uint64_t next_id_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace endure::net::detail
