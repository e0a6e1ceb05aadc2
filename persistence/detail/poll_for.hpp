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
/// `limit` has passed without it. About every `yield_every` the poller
/// yields its CPU, so a thread just woken (often the one whose work it
/// waits for) runs within that time rather than behind it: on a 2-core VM,
/// with the journal's writer and a CAF worker polling, a woken thread
/// waited ~50-140 us for a CPU while they never yielded, and a decision
/// resumed its run ~25% slower. (Every look would spend the poll in the
/// kernel: a yield costs ~2 us there.)
template <class Ready>
bool poll_for(std::chrono::microseconds limit, Ready ready,
              std::chrono::microseconds yield_every = std::chrono::microseconds{10}) {
  auto now = std::chrono::steady_clock::now();
  auto until = now + limit;
  auto next_yield = now + yield_every;
  for (int i = 0; !ready(); ++i) {
    if (i % 32 == 31) {  // the clock every 32 looks (~1.5 us)
      now = std::chrono::steady_clock::now();
      if (now >= until)
        return false;
      if (now >= next_yield) {
        std::this_thread::yield();
        next_yield = std::chrono::steady_clock::now() + yield_every;
      }
    }
    cpu_relax();
  }
  return true;
}

} // namespace endure::detail
