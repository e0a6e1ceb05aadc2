// Reading what a measured child process reports, shared by the benchmarks
// that re-execute themselves as children (bench/pipeline, bench/gateway):
// its result lines ("scenario key value key value ...") and its memory,
// sampled from /proc while it runs. The parent's main thread reads lines;
// pss_sampler has a thread of its own.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <string>
#include <thread>

#include "support/child_process.hpp"

namespace endure::bench {

/// "scenario k1 v1 k2 v2 ..." -> the value of `key`; throws naming the line
/// when the key is missing.
double field(const std::string& line, const std::string& key);

/// The child's next line starting with `scenario` (other lines are
/// skipped); throws when the child ends or stays silent for 10 minutes.
std::string result_line(test::child_process& child, const std::string& scenario);

/// Samples a process's PSS every 200 ms until stopped; keeps the peak.
class pss_sampler {
public:
  explicit pss_sampler(pid_t pid);
  ~pss_sampler() { stop(); }
  pss_sampler(const pss_sampler&) = delete;
  pss_sampler& operator=(const pss_sampler&) = delete;

  /// Stops sampling; the peak in MiB.
  double stop();

private:
  std::atomic<bool> stop_{false};
  std::atomic<long> peak_{0};
  std::thread thread_;
};

} // namespace endure::bench
