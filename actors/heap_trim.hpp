// Giving freed heap memory back to the operating system. A burst of run
// actors (100,000 runs parked at once) raises the heap to its high-water
// mark; once they passivate, the allocator keeps the freed pages in its
// arenas, so the process stays at the peak (~450 MiB there) although ~50
// MiB is live.
// The run manager calls this on an activity thread after many run actors
// stopped (runtime_options::trim_heap_after_stops).
#pragma once

#include <cstddef>

namespace endure {

/// When to return freed heap: once `after_stops` run actors stopped since
/// the last trim, one trim per burst (the caller runs it a little later, so
/// the rest of the burst is covered too). 0 = never.
class heap_trim_schedule {
public:
  explicit heap_trim_schedule(std::size_t after_stops = 0) noexcept : after_(after_stops) {}

  /// A run actor stopped; true if a trim should be scheduled now.
  bool on_stop() noexcept {
    if (after_ == 0 || pending_ || ++stops_ < after_)
      return false;
    pending_ = true;
    return true;
  }
  /// The scheduled trim runs: count stops afresh.
  void on_trimmed() noexcept {
    pending_ = false;
    stops_ = 0;
  }

private:
  std::size_t after_;
  std::size_t stops_ = 0;
  bool pending_ = false;
};

/// Returns the free pages of every malloc arena to the OS: jemalloc's
/// arena purge when the program runs on jemalloc, else glibc's
/// malloc_trim; nothing with another C library. Blocking: it walks the
/// arenas (milliseconds for a heap of hundreds of MiB).
void release_free_heap() noexcept;

} // namespace endure
