// The floor: what raw LMDB does on this disk with the journal's flags, key
// shape and payload size, and no journal around it. The journal's figures
// are read as ratios to these. Runs on the calling thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "endure/persistence/options.hpp"

namespace endure::bench {

/// Per-commit latencies (microseconds) and the wall time of the whole loop.
struct latency_sample {
  std::vector<double> micros;
  double wall_seconds = 0;
};

/// (a) `commits` write transactions, each one 200-byte put and a commit
/// (synced per `mode`), timed one by one. Keys are seqs `first_seq` on, so
/// calls on one directory can add to it.
latency_sample floor_commit_latency(const std::string& dir, durability mode, int commits,
                                    std::uint64_t first_seq = 1);

/// (a, layout) The journal's own layout (persistence/FORMAT.md, layout 3),
/// written with its own encoders (persistence/detail/run_chain.hpp) but no
/// writer thread, queue or runtime: each commit appends two records (300
/// and 80 bytes: a step's step_completed and the next step_started) at the
/// right edge of the log in the main database, as the commit of one step
/// does between heads checkpoints; timed one by one. What the layout costs
/// on this disk against one put: two records instead of one.
latency_sample floor_layout_commit_latency(const std::string& dir, durability mode,
                                           int commits, std::uint64_t first_position = 1);

/// Where the puts of one batched transaction land.
enum class key_layout {
  /// The i-th put goes to run i, as the journal's i-th appender would: the
  /// puts are spread over the whole B-tree.
  one_run_per_put,
  /// All puts go to one run with consecutive seqs: a pure append at the
  /// B-tree's right edge (the best case LMDB offers).
  sequential,
};

/// (b) `txns` transactions of `puts_per_txn` 200-byte puts each; returns
/// puts per second.
double floor_batched_puts(const std::string& dir, durability mode, int txns,
                          int puts_per_txn, key_layout layout);

} // namespace endure::bench
