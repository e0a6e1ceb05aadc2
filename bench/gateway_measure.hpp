// The parent side of bench/gateway: each function runs one measurement,
// in child processes of this binary (gateway_child.hpp) or, for the inbox,
// in this process and in the `endure` CLI, and returns its figures. Runs on
// the benchmark's main thread (the memory sampler on a thread of its own).
#pragma once

#include <cstddef>
#include <string>

namespace endure::bench {

/// 1. decision -> run resumed, `samples` decisions one after another.
struct resume_figures {
  double p50_us = 0, p99_us = 0;
  double decide_p50_us = 0;  ///< runtime::decide's own answer (the row stored)
  double floor_p50_us = 0, floor_p99_us = 0;  ///< one-put synced commits between samples
  double commits_p50 = 0, commits_max = 0;    ///< journal commits in the timed span
  int bad = 0;
};
resume_figures measure_resume(const std::string& dir, const std::string& mode,
                              std::size_t samples, bool passivated);

/// 2. `runs` runs, each waiting on one request, all passivated.
struct populate_figures {
  double seconds = 0;
  double zero_pss_mib = 0;  ///< as the last run passivated
  double rest_pss_mib = 0;  ///< 1.5 s later (freed heap returned)
  double rest_anon_mib = 0, rest_file_mib = 0;  ///< its heap and its mapped journal
  double peak_pss_mib = 0;  ///< sampled every 200 ms while parking
  double pending = 0;       ///< pending rows counted afterwards (a check)
  int bad = 0;
};
populate_figures measure_populate(const std::string& dir, const std::string& mode,
                                  std::size_t runs);

/// 3. The first inbox page: cli::read_inbox in this process (median of
/// `times` calls) and `endure inbox` end to end (fork to exit, median).
struct inbox_figures {
  double function_ms = 0;
  double cli_ms = 0;
  double shown = 0;  ///< requests on the page the function returned
  double total = 0;  ///< pending requests it reported
  int bad = 0;
};
inbox_figures measure_inbox(const std::string& dir, int times);

/// 4. The runtime reopened on the populated directory until a decision on
/// the request of run pending-`decide` + 1 is answered, sent once one on
/// pending-`decide` was (gateway_child.cpp: the first may overtake the
/// gateway's start work, the second cannot).
struct restart_figures {
  double open_s = 0;   ///< runtime::open returned
  double first_s = 0;  ///< the first decision answered
  double ready_s = 0;  ///< the second decision answered
  double ready_pss_mib = 0, rest_pss_mib = 0;
  double rest_anon_mib = 0, rest_file_mib = 0;
  int bad = 0;
};
restart_figures measure_restart(const std::string& dir, const std::string& mode,
                                std::size_t decide);

} // namespace endure::bench
