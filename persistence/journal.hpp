// The journal: endure's write-ahead log in one LMDB environment per data
// directory (see persistence/FORMAT.md for the on-disk layout).
//
// Writes: one writer thread owns every write transaction. `commit` queues a
// write batch; the writer folds everything queued into one transaction (one
// fsync in durability::sync) and then calls each batch's completion, in
// queue order, on the writer thread. Completions must be quick (send a
// message, fulfil a promise) and must not call blocking journal methods.
// With a commit sink (journal_options::sink, commit_sink.hpp) the sink
// completes each committed batch instead: later, and on its own thread.
// Reads: any thread, any time, each in its own read transaction (MDB_NOTLS).
//
// The data directory is locked for the process lifetime (a LOCK file holding
// the pid); a second writer gets errc::data_dir_locked naming the holder.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "endure/persistence/error.hpp"
#include "endure/persistence/metrics/histogram.hpp"
#include "endure/persistence/options.hpp"
#include "endure/persistence/record.hpp"
#include "endure/persistence/run_meta.hpp"
#include "endure/persistence/write_batch.hpp"

namespace endure {

/// A record read back with its position.
struct stored_record {
  std::uint64_t seq = 0;
  record rec;
};

/// A run's latest snapshot: state after the record at `seq`.
struct snapshot_entry {
  std::uint64_t seq = 0;
  std::string state;
};

/// A run whose stored meta could not be decoded.
struct damaged_run {
  std::string id;
  error why;  ///< corrupt_record naming the run
};

/// All runs (or those of a status), plus the runs whose meta is damaged.
struct run_listing {
  std::vector<run_meta> runs;
  std::vector<damaged_run> damaged;
};

/// A row of a side table, read back.
struct stored_row {
  std::string key;
  record rec;
};

/// One page of a side table scan.
struct row_page {
  std::vector<stored_row> rows;
  std::vector<std::pair<std::string, error>> damaged;  ///< key, why
};

/// Counters of the writer, for benchmarks and `endure inspect`.
struct journal_stats {
  std::uint64_t commits = 0;        ///< LMDB transactions committed
  std::uint64_t batches = 0;        ///< write batches acknowledged
  std::uint64_t failed_batches = 0; ///< write batches that got an error
  std::uint64_t map_size = 0;       ///< current LMDB map size in bytes
};

/// How many runs the journal holds in each status.
struct run_status_counts {
  /// By status: index static_cast<std::size_t>(status) - 1, running first,
  /// quarantined last.
  std::array<std::uint64_t, 6> by_status{};
  std::uint64_t of(run_status s) const noexcept {
    return by_status[static_cast<std::size_t>(s) - 1];
  }
};

/// What the writer measured since open, and the runs per status, for
/// /metrics (see journal::metrics).
struct journal_metrics {
  /// Seconds from a group's first transaction begin to its durable commit
  /// (the fsync included; redos after a full map or a failed batch too).
  metrics::histogram_snapshot commit_seconds;
  /// Write batches in each committed transaction (the group-commit size).
  metrics::histogram_snapshot batches_per_commit;
  /// Write batches that got an error.
  std::uint64_t failed_batches = 0;
  /// Runs per status. A writer counts them once at open and then keeps the
  /// counts with each commit that creates a run or sets a status (it is the
  /// only place a status changes), so reading them costs nothing however
  /// many runs there are; a read-only journal counts them at each call (a
  /// scan of every run's meta: another process writes). Runs whose meta is
  /// damaged are not counted. Measured with 100,000 runs: a scan took
  /// ~100 ms, the kept counts ~0.1 us per call and ~50 ms once at open.
  run_status_counts runs;
};

class journal {
public:
  using completion = std::function<void(const expected<void>&)>;

  /// Opens (creating if needed) the journal in `opts.data_dir`; a writer
  /// open upgrades an older on-disk layout first (FORMAT.md). Errors:
  /// invalid_argument (empty dir, bad sizes, read-only open of a directory
  /// not yet upgraded), io_error (cannot create or write the directory),
  /// data_dir_locked (another process or journal holds it),
  /// newer_record_version (layout newer than this build), storage_error
  /// (LMDB refused the environment).
  static expected<std::unique_ptr<journal>> open(journal_options opts);

  /// Drains queued batches (each still completes; with opts.sink, it is
  /// handed to the sink), then closes.
  ~journal();
  journal(const journal&) = delete;
  journal& operator=(const journal&) = delete;

  /// Record types readers accept. Register tags before the first read.
  record_types& types() noexcept;

  // -- writes ----------------------------------------------------------------

  /// Queues `batch` for the next group commit; `done` runs on the writer
  /// thread once it is durable (per the durability mode) or has failed.
  /// Errors passed to `done`: already_exists, not_found, map_full,
  /// disk_full, io_error, storage_error, shut_down. A failed batch changes
  /// nothing; other batches of the same group are unaffected.
  void commit(write_batch batch, completion done);

  /// Blocking form of commit: returns once durable or failed.
  expected<void> commit(write_batch batch);

  /// A hint: a commit is coming within a fraction of a millisecond (e.g. a
  /// decision is on its way to its run). An idle writer thread wakes now and
  /// polls for it (journal_options::writer_spin, at least 500 us), so the
  /// commit does not wait for the thread's wake-up. Any thread; cheap when
  /// the writer is busy or already polling.
  void expect_commit() noexcept;

  /// Writes a consistent copy of the whole environment (compacted) as
  /// `dir`/data.mdb, creating `dir` and replacing a data.mdb there. Queued
  /// like a batch: the copy holds exactly the batches queued before it,
  /// and `done` runs on the writer thread after it (and after every
  /// earlier batch reached opts.sink). Writes wait while it copies.
  /// Errors: invalid_argument (read-only journal, empty dir), io_error,
  /// storage_error, shut_down.
  void copy_to(std::string dir, completion done) const;

  /// Creates the run unless it exists; returns the stored meta either way.
  expected<run_meta> create_run_if_absent(const run_meta& meta);

  // -- reads -----------------------------------------------------------------

  /// The run's meta; errc::not_found if absent.
  expected<run_meta> run(std::string_view run_id) const;
  /// All runs, or those with `status`, in run id order. A damaged meta row
  /// fails the whole listing with its corrupt_record error (see scan_runs).
  expected<std::vector<run_meta>> list_runs(
    std::optional<run_status> status = std::nullopt) const;
  /// Like list_runs, but a damaged meta row is reported in `damaged` and
  /// every other run is still listed (recovery must not stop at one bad
  /// row). Errors: storage_error / io_error when LMDB fails.
  expected<run_listing> scan_runs(std::optional<run_status> status = std::nullopt) const;
  /// Up to `max_count` records of the run with seq >= `from_seq`, in seq
  /// order. A damaged record fails the read with corrupt_record (or
  /// unknown_record_type / newer_record_version) naming run and seq; a
  /// broken chain in the log names the run and the seq or log position.
  expected<std::vector<stored_record>> read(std::string_view run_id,
                                            std::uint64_t from_seq = 0,
                                            std::size_t max_count = SIZE_MAX) const;
  /// Highest seq ever appended to the run (kept after truncate_before), or
  /// 0 if it never had a record. Errors: corrupt_record (damaged run head).
  expected<std::uint64_t> last_seq(std::string_view run_id) const;
  /// The run's latest snapshot, if any.
  expected<std::optional<snapshot_entry>> snapshot(std::string_view run_id) const;
  /// Timers due at or before `until_ms`, earliest first, at most `max_count`.
  /// A malformed row is skipped (and logged once), not an error; LMDB
  /// failures are.
  expected<std::vector<timer_entry>> due_timers(std::int64_t until_ms,
                                                std::size_t max_count) const;

  /// The row `key` of `table`; nullopt if there is none. A damaged row
  /// fails with corrupt_record naming the table and key.
  expected<std::optional<record>> row(side_table table, std::string_view key) const;
  /// Up to `max_count` rows of `table` whose key starts with `prefix`, with
  /// keys after `after` (exclusive; empty = from the first), in key order:
  /// page through with the last key returned. A damaged row is returned in
  /// `damaged` and the scan goes on (one bad row must not hide the others).
  expected<row_page> rows(side_table table, std::string_view prefix, std::string_view after,
                          std::size_t max_count) const;
  /// The last `max_count` rows of `table` whose key starts with `prefix`,
  /// in key order (a log's newest entries without reading the older ones);
  /// damaged rows as in rows(), counted in `max_count`.
  expected<row_page> last_rows(side_table table, std::string_view prefix,
                               std::size_t max_count) const;
  /// How many rows of `table` have keys starting with `prefix` (every row
  /// for ""). For "", LMDB's own count (mdb_stat: constant time); for a
  /// prefix, a walk of the matching keys. The rows are not read or checked,
  /// so a damaged row counts too. A table absent (read-only open of an
  /// older directory) has none. Errors: storage_error when LMDB fails.
  expected<std::size_t> count_rows(side_table table, std::string_view prefix) const;

  journal_stats stats() const;
  /// Histograms of the writer and runs per status (journal_metrics); cheap
  /// on a writer, a scan of the runs on a read-only journal. Errors:
  /// storage_error when that scan fails.
  expected<journal_metrics> metrics() const;
  const journal_options& options() const noexcept;

private:
  struct impl;
  explicit journal(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace endure
