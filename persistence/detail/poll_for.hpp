// Polling for a moment instead of sleeping: a thread that expects work
// within a fraction of a millisecond looks for it in a loop, because a
// sleeping thread needs a futex wake-up and a context switch to take it
// (tens of microseconds on a VM).
#pragma once

#include <chrono>
#include <thread>

namespace endure::detail {

/// One iteration of a polling loop: tells the CPU we are spinning, so the
/// sibling hyper-thread gets the core and the loop exits promptly on x86.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

/// Polls `ready` for up to `limit`: true as soon as it holds, false once
/// `limit` has passed without it. Every 32 looks the poller yields its CPU,
/// so a thread just woken (often the one whose work it waits for) runs at
/// once rather than behind it: on a 2-core VM, with the journal's writer
/// and a CAF worker polling, a woken thread waited ~50-140 us for a CPU
/// while they never yielded, and a decision resumed its run ~20% slower.
template <class Ready>
bool poll_for(std::chrono::microseconds limit, Ready ready) {
  auto until = std::chrono::steady_clock::now() + limit;
  for (int i = 0; !ready(); ++i) {
    if (i % 32 == 31) {
      if (std::chrono::steady_clock::now() >= until)
        return false;
      std::this_thread::yield();
    }
    cpu_relax();
  }
  return true;
}

} // namespace endure::detail
