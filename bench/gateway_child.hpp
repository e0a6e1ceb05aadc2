// The measured side of bench/gateway: the same binary re-executed as a child
// process (`gateway --child SCENARIO ...`), so each measurement has a runtime
// in a process of its own whose memory can be sampled and whose start can
// be timed from the fork. Each scenario prints one result line
// ("SCENARIO key value ...") on stdout, read by gateway_measure.cpp.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace endure::bench {

struct gateway_child_args {
  /// "resume" (decision -> run resumed, the run's actor alive and waiting),
  /// "resume_passivated" (the same once the run's actor has passivated),
  /// "populate" (`count` runs, each waiting on a request, all passivated),
  /// "restart" (open the runtime on a populated directory and decide the
  /// request of run pending-`decide`).
  std::string scenario;
  std::string data_dir;
  std::string mode = "sync";
  std::size_t count = 0;   ///< samples (resume) or runs (populate)
  std::size_t decide = 0;  ///< restart: whose request is decided
};

/// Parses the arguments child_argv made and runs the scenario; returns the
/// process exit code.
int gateway_child_main(int argc, char** argv);

/// The argv that makes this binary run `a` as a child.
std::vector<std::string> gateway_child_argv(const gateway_child_args& a);

/// Run ids of the populated directory.
std::string pending_run(std::size_t i);

} // namespace endure::bench
