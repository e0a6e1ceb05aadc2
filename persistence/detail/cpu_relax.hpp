// One iteration of a polling loop: tells the CPU we are spinning, so the
// sibling hyper-thread gets the core and the loop exits promptly on x86.
#pragma once

namespace endure::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

} // namespace endure::detail
