// The journal's side of the benchmark: blocking single-appender latency and
// C concurrent logical appenders, each with exactly one asynchronous append
// in flight (the way run actors will use the journal). Each call opens a
// fresh journal in `dir` and closes it before returning.
#pragma once

#include <cstdint>
#include <string>

#include "bench/lmdb_floor.hpp"
#include "endure/persistence/journal.hpp"

namespace endure::bench {

/// Writer counters over the measured part only (run creation excluded).
struct load_stats {
  std::uint64_t commits = 0;
  std::uint64_t batches = 0;
  std::uint64_t failed = 0;
};

/// (a) `commits` blocking journal::commit calls of a one-record batch,
/// timed one by one.
latency_sample journal_commit_latency(const std::string& dir, durability mode,
                                      int commits, load_stats& stats);

/// (b) `appenders` appenders, each writing `appends_each` records to its own
/// run; returns appends per second over the whole load. With
/// `inline_commit`, the next append is committed from the completion on the
/// writer thread; otherwise the completion only hands the appender to a
/// feeder thread (like sending an actor a message) which builds and commits.
double journal_appenders(const std::string& dir, durability mode, int appenders,
                         int appends_each, bool inline_commit, load_stats& stats);

} // namespace endure::bench
