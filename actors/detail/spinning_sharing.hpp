// CAF scheduler policy: work sharing (one central queue, as CAF's own
// policy::work_sharing) where one idle worker polls the queue for a while
// before sleeping. A durable step hands over to the journal writer and
// back; the answer usually arrives within a synced commit (~0.1-0.3 ms), and
// a sleeping worker needs a futex wake-up (~20-30 us on a VM) to take it.
// At most one worker polls at a time, yielding its CPU to any runnable
// thread (persistence/detail/poll_for.hpp), so an idle process burns at most one core
// for `spin` after each burst; the others sleep on the condition variable,
// and enqueue signals it only when no worker is polling.
// Internal: installed by apply_recommended_settings (system_settings.cpp).
#pragma once

#include <caf/policy/work_sharing.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

#include "endure/persistence/detail/poll_for.hpp"

namespace endure::detail {

class spinning_sharing : public caf::policy::work_sharing {
public:
  struct coordinator_data : caf::policy::work_sharing::coordinator_data {
    explicit coordinator_data(caf::scheduler::abstract_coordinator* parent)
      : caf::policy::work_sharing::coordinator_data(parent) {}

    /// How long a worker polls; set by the factory before the workers start.
    std::chrono::microseconds spin{0};
    std::atomic<std::size_t> queued{0};  ///< jobs in `queue` (a hint for pollers)
    std::atomic<bool> polling{false};    ///< one worker polls `queued`
    int sleepers = 0;                    ///< workers in cv.wait; guarded by `lock`
  };

  template <class Coordinator>
  void enqueue(Coordinator* self, caf::resumable* job) {
    auto& d = self->data();
    bool wake = false;
    {
      std::lock_guard guard{d.lock};
      d.queue.push_back(job);
      d.queued.fetch_add(1, std::memory_order_release);
      wake = d.sleepers > 0 && !d.polling.load(std::memory_order_acquire);
    }
    if (wake)
      d.cv.notify_one();
  }

  template <class Coordinator>
  void central_enqueue(Coordinator* self, caf::resumable* job) {
    enqueue(self, job);
  }
  template <class Worker>
  void external_enqueue(Worker* self, caf::resumable* job) {
    enqueue(self->parent(), job);
  }
  template <class Worker>
  void internal_enqueue(Worker* self, caf::resumable* job) {
    enqueue(self->parent(), job);
  }
  template <class Worker>
  void resume_job_later(Worker* self, caf::resumable* job) {
    enqueue(self->parent(), job);
  }

  template <class Worker>
  caf::resumable* dequeue(Worker* self) {
    auto& d = self->parent()->data();
    if (d.spin.count() > 0 && !d.polling.exchange(true, std::memory_order_acq_rel))
      if (auto* job = poll(d))
        return job;
    std::unique_lock guard{d.lock};
    ++d.sleepers;
    d.cv.wait(guard, [&] { return !d.queue.empty(); });
    --d.sleepers;
    return pop(d);
  }

private:
  /// The polling worker: takes a job if one comes within `spin`. Clears
  /// `polling` before it takes the lock, so an enqueue either sees it set
  /// (and this worker finds the job) or signals a sleeper.
  static caf::resumable* poll(coordinator_data& d) {
    bool queued = poll_for(d.spin, [&d] { return d.queued.load(std::memory_order_acquire) > 0; });
    d.polling.store(false, std::memory_order_release);
    if (!queued)
      return nullptr;
    std::unique_lock guard{d.lock};
    if (d.queue.empty())
      return nullptr;  // another worker took it; sleep
    auto* job = pop(d);
    bool more = !d.queue.empty() && d.sleepers > 0;
    guard.unlock();
    if (more)  // jobs queued while we polled signalled no one
      d.cv.notify_one();
    return job;
  }

  static caf::resumable* pop(coordinator_data& d) {
    auto* job = d.queue.front();
    d.queue.pop_front();
    d.queued.fetch_sub(1, std::memory_order_relaxed);
    return job;
  }
};

} // namespace endure::detail
