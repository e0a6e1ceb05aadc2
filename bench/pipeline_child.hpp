// The measured side of bench/pipeline: the same binary re-executed as a
// child process (`pipeline --child SCENARIO ...`), so the runtime runs in a
// process of its own whose memory can be sampled and which can be killed
// with SIGKILL. Each scenario opens a runtime on the data directory, runs
// the seed pipeline workload (cli/seed_pipeline.hpp) and prints one result
// line on stdout, parsed by the parent (pipeline_measure.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace endure::bench {

/// What one child process does.
struct child_args {
  /// "latency" (one warm-up run, then `runs` runs one after another),
  /// "latency_pooled" (the same with the steps on the activity pool),
  /// "throughput" (`runs` runs started at once) or "crash" (the same as
  /// throughput; the parent kills it and starts it again).
  std::string scenario;
  std::string data_dir;
  std::string mode = "sync";
  /// File getting one line per executed step body; empty for none.
  std::string counter;
  std::size_t runs = 0;
};

/// Parses `--child SCENARIO --data DIR --mode M --runs N [--counter F]`
/// and runs the scenario; returns the process exit code.
int child_main(int argc, char** argv);

/// The argv that makes this binary run `a` as a child.
std::vector<std::string> child_argv(const child_args& a);

} // namespace endure::bench
