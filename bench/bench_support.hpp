// Shared pieces of the journal benchmark: command-line options, the amount of
// work per figure, scratch directories, percentiles and the key/payload shape
// both the raw-LMDB floor and the journal write. Single-threaded helpers; the
// benchmark's main thread owns all of them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "endure/persistence/options.hpp"

namespace endure::bench {

using bench_clock = std::chrono::steady_clock;

/// What the user asked for on the command line.
struct options {
  durability mode = durability::sync;
  /// --mode was given (bench/pipeline measures sync and nosync otherwise).
  bool mode_given = false;
  int reps = 5;
  bool quick = false;
  /// bench/pipeline: also recover 10,000 unfinished runs (slow).
  bool scale = false;
  /// Appenders call journal::commit from the completion (writer thread)
  /// instead of handing the next append to the feeder thread.
  bool inline_commit = false;
  /// Parent of the scratch directory; empty means $TMPDIR or /tmp.
  std::string dir;
};

/// Parses argv; prints usage or the error and returns nullopt on --help or a
/// bad argument (`exit_code` says which).
std::optional<options> parse_options(int argc, char** argv, int& exit_code);

/// How much work each figure does in one repetition.
struct workload {
  int latency_commits = 1000;    ///< floor (a) and journal (a)
  int batched_txns = 200;        ///< floor (b), each of puts_per_txn puts
  int puts_per_txn = 1000;
  int appends_per_appender_1 = 1000;  ///< 1 appender
  int appends_per_appender_n = 200;   ///< each of 100 or 1000 appenders
};

workload workload_for(const options& opts);

/// A scratch directory removed (with everything in it) on destruction.
class scratch_dir {
public:
  explicit scratch_dir(const std::string& parent);
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;

  const std::string& path() const noexcept { return path_; }
  /// An empty subdirectory `name`, wiped first if it exists.
  std::string fresh(std::string_view name) const;
  /// Deletes a subdirectory made by fresh().
  void wipe(const std::string& sub) const;

private:
  std::string path_;
};

/// The q-quantile (0..1) of `samples` (nearest rank); 0 if empty.
double quantile(std::vector<double> samples, double q);
inline double median(std::vector<double> samples) { return quantile(std::move(samples), 0.5); }

double seconds_since(bench_clock::time_point start);

/// This thread's CPU time in seconds: what a measured call cost without the
/// time the scheduler gave the core to another process (on a shared 2-core
/// machine a call preempted for one 4 ms tick shows in a wall-clock p99).
double thread_cpu_seconds();

/// Proportional set size in KiB of process `pid` ("self" for this one), from
/// /proc/PID/smaps_rollup; 0 once it is gone. `field` picks a part of it:
/// "Pss_Anon:" (heap, stacks) or "Pss_File:" (mapped files: the journal's
/// LMDB map counts here for every page the process has read).
long pss_kib(const std::string& pid, const char* field = "Pss:");

/// "run-0042": the run id of appender `i`.
std::string run_id(int i);
/// The journal's key grammar (run_id 0x00 seq big-endian), so the floor
/// touches B-tree pages the way the journal does.
std::string journal_style_key(std::string_view run, std::uint64_t seq);
/// Every record's payload: 200 bytes.
inline constexpr std::size_t payload_size = 200;
const std::string& payload();

/// Map size for the floor and the journal alike, large enough that no
/// repetition grows the map (growth is measured elsewhere, not here).
inline constexpr std::size_t bench_map_size = std::size_t{1} << 30;

} // namespace endure::bench
