// The parent side of bench/pipeline: each function runs one measurement of
// WORKLOAD.md in child processes (pipeline_child.hpp) on a fresh data
// directory and returns its figures. Runs on the benchmark's main thread
// (the memory sampler on a thread of its own).
#pragma once

#include <string>

#include "endure/persistence/options.hpp"

namespace endure::bench {

/// a) one warm-up run, then 50 runs one after another.
struct latency_figures {
  double step_p50_us = 0;
  double step_p90_us = 0;
  double run_p50_ms = 0;
  /// Raw one-put commits interleaved with the runs (20 before each run).
  double floor_p50_us = 0;
  double floor_p90_us = 0;
  /// Raw commits in the journal's layout (floor_layout_commit_latency),
  /// likewise interleaved.
  double layout_p50_us = 0;
  double commits_per_step = 0;  ///< journal transactions / steps
  int bad_runs = 0;
};
/// `pooled`: the seed pipeline with its steps on the activity pool instead
/// of inline.
latency_figures measure_latency(const std::string& dir, durability mode, int runs,
                                bool pooled = false);

/// b) `runs` runs of 20 steps started at once.
struct throughput_figures {
  double steps_per_second = 0;
  double peak_pss_mib = 0;  ///< sampled every 200 ms from /proc/PID/smaps_rollup
  double batches_per_commit = 0;  ///< how well group commit folded appenders
  int bad_runs = 0;
};
throughput_figures measure_throughput(const std::string& dir, durability mode, int runs);

/// c) `runs` runs started at once, SIGKILL when the counter file holds
/// `kill_at_lines` lines, restarted at once.
struct crash_figures {
  double recovery_seconds = 0;  ///< restart (fork) until every result is in
  long lines_at_kill = 0;       ///< step bodies executed before the kill
  long durable_at_kill = 0;     ///< step_completed records in the journal then
  long executions = 0;          ///< counter lines in the end
  long distinct = 0;            ///< distinct counter lines in the end
  long re_executed = 0;         ///< executions - 20 x runs
  int bad_runs = 0;
};
/// --scale: `runs` runs parked on a signal and passivated, then the
/// process restarted and every run signalled to its end.
struct passivation_figures {
  double park_seconds = 0;      ///< start of all runs until no actor is left
  double zero_pss_mib = 0;      ///< the child's PSS as the last one passivated
  double end_pss_mib = 0;       ///< the same 1.5 s later (freed heap returned)
  double peak_pss_mib = 0;      ///< sampled every 200 ms while parking
  double wake_seconds = 0;      ///< restart (runtime open) until all results
  int bad_runs = 0;
};
passivation_figures measure_passivation(const std::string& dir, durability mode, int runs);

crash_figures measure_crash(const std::string& dir, durability mode, int runs,
                            long kill_at_lines);

} // namespace endure::bench
