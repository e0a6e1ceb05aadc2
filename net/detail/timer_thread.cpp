// See timer_thread.hpp. Tasks run outside the lock so they may schedule more.
#include "endure/net/detail/timer_thread.hpp"

#include "endure/persistence/log.hpp"

#include <exception>
#include <string>

namespace endure::net::detail {

namespace {

void run_task(timer_thread::task& fn, bool cancelled) {
  try {
    fn(cancelled);
  } catch (const std::exception& e) {
    // The task (and the callback it calls) ran; the thread must go on.
    log::error(std::string("endure::net: a sim callback threw: ") + e.what() +
               "; callbacks must not throw");
  } catch (...) {
    log::error("endure::net: a sim callback threw a non-exception");
  }
}

} // namespace

timer_thread::timer_thread() : thread_([this] { run(); }) {}

timer_thread::~timer_thread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void timer_thread::schedule(std::chrono::milliseconds delay, task fn) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.emplace(std::make_pair(clock::now() + delay, next_id_++), std::move(fn));
  }
  wake_.notify_one();
}

void timer_thread::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (stopping_) {
      // Drain, cancelled; tasks scheduled meanwhile are drained too.
      while (!pending_.empty()) {
        auto fn = std::move(pending_.begin()->second);
        pending_.erase(pending_.begin());
        lock.unlock();
        run_task(fn, true);
        lock.lock();
      }
      return;
    }
    if (pending_.empty()) {
      wake_.wait(lock);
      continue;
    }
    auto due = pending_.begin()->first.first;
    if (clock::now() < due) {
      wake_.wait_until(lock, due);
      continue;
    }
    auto fn = std::move(pending_.begin()->second);
    pending_.erase(pending_.begin());
    lock.unlock();
    run_task(fn, false);
    lock.lock();
  }
}

} // namespace endure::net::detail
