// Memory as the kernel accounts it to a process: PSS (proportional set
// size, shared pages split among their users) from /proc/PID/smaps_rollup,
// and a sampler that keeps the peak. Linux only.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace endure::bench {

/// PSS of `pid` in KiB; 0 once the process is gone.
long pss_kib(pid_t pid);

/// Samples the PSS of `pid` every `period` on its own thread until
/// destroyed, keeping the peak (WORKLOAD.md samples every 200 ms).
class pss_sampler {
public:
  explicit pss_sampler(pid_t pid,
                       std::chrono::milliseconds period = std::chrono::milliseconds{200});
  ~pss_sampler();
  pss_sampler(const pss_sampler&) = delete;
  pss_sampler& operator=(const pss_sampler&) = delete;

  long peak_kib() const noexcept { return peak_.load(); }

private:
  std::atomic<bool> stop_{false};
  std::atomic<long> peak_{0};
  std::thread thread_;
};

} // namespace endure::bench
