// State behind endure::journal (LevelDB's DB/DBImpl split): the LMDB
// environment, its databases, the data directory lock and the group-commit
// writer. Internal to persistence/.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <iterator>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "endure/persistence/detail/data_dir_lock.hpp"
#include "endure/persistence/detail/lmdb.hpp"
#include "endure/persistence/detail/log_entry.hpp"
#include "endure/persistence/detail/log_tail.hpp"
#include "endure/persistence/detail/wal_file.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/metrics/histogram.hpp"

namespace endure {

struct journal::impl {
  // -- state set at open, then read-only ------------------------------------
  journal_options opts;
  record_types types;
  std::optional<detail::data_dir_lock> lock;
  detail::lmdb_env env;
  MDB_dbi runs_db = 0;
  MDB_dbi log_db = 0;    ///< the main database: position keys -> log entries
  MDB_dbi heads_db = 0;  ///< run id -> run head, as of the heads checkpoint
  MDB_dbi meta_db = 0;   ///< "layout" -> version, "heads_through" -> checkpoint
  MDB_dbi snapshots_db = 0;
  MDB_dbi timers_db = 0;
  /// Side tables (write_batch::put_row), by side_table's value; a read-only
  /// open of a directory written before a table existed leaves it absent.
  std::array<std::optional<MDB_dbi>, std::size(all_side_tables) + 1> side_dbs;
  /// The side table's database; nullopt if absent (read-only opens only).
  std::optional<MDB_dbi> table_dbi(side_table t) const noexcept {
    auto i = static_cast<std::size_t>(t);
    return i < side_dbs.size() ? side_dbs[i] : std::nullopt;
  }

  // -- log positions: writer thread only ------------------------------------
  /// Next free position as of the last commit.
  std::uint64_t next_position = 1;
  /// Next free position inside the transaction being built; reset to
  /// next_position when a group is redone, so an aborted attempt leaves no
  /// hole and no reuse.
  std::uint64_t txn_position = 1;

  // -- run heads past the checkpoint (log_tail.hpp) -------------------------
  /// Log position the stored heads are valid through (writer thread).
  std::uint64_t checkpoint = 0;
  /// Heads moved since the checkpoint, as of the last commit. The writer
  /// reads it freely and changes it under heads_mutex; readers hold
  /// heads_mutex.
  detail::head_map committed_heads;
  /// Heads moved by the transaction being built (writer thread only).
  detail::head_map txn_heads;
  mutable std::mutex heads_mutex;
  /// LMDB transaction id committed_heads matches (under heads_mutex): a read
  /// transaction with another id waits for the writer to publish.
  std::uint64_t heads_txn_id = 0;

  // -- map resizing: readers hold it shared, the writer exclusive -----------
  mutable std::shared_mutex resize_mutex;
  std::atomic<std::size_t> map_size{0};

  // -- the writer's queue ----------------------------------------------------
  struct pending {
    write_batch batch;
    completion done;
    /// Not empty: not a batch but a copy of the environment into this
    /// directory, made once every batch queued before it has committed.
    std::string copy_dir{};
  };
  std::mutex queue_mutex;
  std::condition_variable queue_cv;
  std::vector<pending> queue;
  bool stopping = false;
  /// `queue` is non-empty or `stopping`: read without the mutex while the
  /// writer polls (journal_options::writer_spin).
  std::atomic<bool> wakeup{false};
  /// journal::expect_commit asked the idle writer to poll (under queue_mutex).
  bool expecting = false;
  std::thread writer;

  // -- the write-ahead log (durability::wal, journal_wal.cpp) ----------------
  /// Open, then the writer thread's. Present in wal mode, and during the
  /// recovery of a directory that has a log.
  std::optional<detail::wal_file> wal;
  /// A read transaction on the last checkpoint's snapshot: LMDB reuses no
  /// page of it, so an OS crash cannot damage what the checkpoint synced.
  detail::lmdb_txn wal_pin;
  std::chrono::steady_clock::time_point wal_checkpointed_at{};
  /// data.mdb's last page at the last checkpoint, and LMDB's page size.
  std::uint64_t wal_checkpoint_last_page = 0;
  std::uint64_t wal_page_size = 4096;
  /// data.mdb's last page now (LMDB's count).
  std::uint64_t wal_last_page() const;
  /// The records after the checkpoint, read at open, applied by wal_open.
  std::vector<std::string> wal_replay;
  /// Set when the log could not be written: every later batch fails with it.
  std::optional<error> wal_failure;
  /// Writer open, before LMDB opens the environment: if the directory has
  /// a log, puts data.mdb back at its checkpoint and reads the records after.
  expected<void> wal_restore();
  /// After the environment opened on a restored data.mdb: checks LMDB is at
  /// the checkpoint (no other process kept it open) and pins it.
  expected<void> wal_check_restored();
  /// After the databases opened: applies the records read by wal_restore,
  /// then checkpoints (wal mode) or removes the log (other modes); creates
  /// the log in wal mode if there is none.
  expected<void> wal_open();
  expected<void> wal_replay_records();
  /// Marks the directory's layout as having a log (detail::wal_layout:
  /// builds before durability wal refuse it) or not.
  expected<void> wal_mark_layout(bool with_log);
  /// Begins wal_pin: a read transaction on the latest snapshot.
  expected<void> wal_pin_snapshot();
  /// Syncs data.mdb, records its meta pages in the log, moves the pin.
  /// `clean`: at close, valid whatever happens to the system later.
  expected<void> wal_checkpoint(bool clean = false);
  expected<detail::wal_checkpoint> wal_checkpoint_record() const;
  /// What wal_append did with a group about to commit.
  enum class wal_step {
    logged,     ///< its record is durable: commit (then checkpoint if due)
    make_room,  ///< the ring is full: abort, checkpoint, redo the group
    split,      ///< larger than the ring, several batches: commit each half
    oversized,  ///< one batch larger than the ring: commit, then a checkpoint
                ///< makes it durable
    failed,     ///< wal_failure is set and the group's batches failed
  };
  /// Before the group's LMDB commit, so that no reader sees a commit before
  /// it is durable: appends its batches (those not `failed`) to the log.
  wal_step wal_append(const std::vector<pending>& group,
                      std::vector<std::optional<error>>& failed);
  /// A group whose record does not fit the ring, committed as two halves
  /// (each splits again if need be), in order.
  bool commit_halves(std::vector<pending>& group, std::vector<std::optional<error>>& failed);
  /// After the LMDB commit: a checkpoint if one is due (or the group was
  /// oversized; if that fails, its batches fail).
  void wal_after_commit(wal_step step, std::vector<std::optional<error>>& failed);
  bool wal_checkpoint_due() const;
  /// Sets wal_failure (`why` and what to do) and fails the group's batches.
  void stop_writing(std::vector<std::optional<error>>& failed, const std::string& why);
  /// Writer stop: a clean checkpoint.
  void wal_close();
  /// Read-only open: refuses a data.mdb an OS crash may have left half
  /// written (a log whose writer did not close it, from another boot).
  expected<void> wal_check_read_only() const;

  // -- counters --------------------------------------------------------------
  std::atomic<std::uint64_t> commits{0};
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> failed_batches{0};

  // -- metrics (journal::metrics) ---------------------------------------------
  metrics::histogram commit_seconds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                    0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
  metrics::histogram batches_per_commit{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048,
                                        4096};
  /// Runs per status (index as run_status_counts), kept by the writer: set
  /// at open, then moved by committed transactions only.
  std::array<std::atomic<std::uint64_t>, 6> run_counts{};
  /// What the transaction being built does to run_counts (writer thread
  /// only); reset when a transaction begins, applied when it commits.
  std::array<std::int64_t, 6> txn_run_deltas{};
  void count_status(run_status s, std::int64_t delta) {
    auto i = static_cast<std::size_t>(s);
    if (i >= 1 && i <= txn_run_deltas.size())  // the codec checks; this guards the index
      txn_run_deltas[i - 1] += delta;
  }
  /// After a commit: applies txn_run_deltas, observes the histograms
  /// (`failed`: the group's batches that were left out).
  void record_commit(std::chrono::steady_clock::time_point began,
                     const std::vector<std::optional<error>>& failed);
  /// Runs per status, read from the runs database in `txn`.
  expected<run_status_counts> count_runs(MDB_txn* txn) const;
  /// Writer open, before the writer starts: sets run_counts from the runs.
  expected<void> start_run_counts();

  /// Opens the LMDB environment and its databases (at journal::open).
  expected<void> open_env();
  /// corrupt_record when data.mdb is shorter than the pages LMDB counts.
  expected<void> check_file_covers_pages(const MDB_envinfo& info) const;
  expected<void> open_dbis();
  /// Writer open: creates the databases and upgrades layout 1, in one txn.
  expected<void> open_dbis_for_writing(MDB_txn* txn);
  /// Read-only open: opens the databases of an upgraded directory.
  expected<void> open_dbis_for_reading(MDB_txn* txn);

  /// Polls `wakeup` for up to `spin`.
  void spin_for_work(std::chrono::microseconds spin) const;
  /// Runs on the writer thread until `stopping` and the queue is empty.
  void writer_loop();
  /// Stores the heads moved since the checkpoint when the writer stops.
  void checkpoint_at_close();
  /// Commits one group of batches, then calls each completion (or hands
  /// the committed ones to opts.sink).
  void commit_group(std::vector<pending>& group);
  /// The transaction of commit_group: applies the batches not `failed`
  /// (redone without those that fail), commits; false if nothing committed.
  /// `log`: through the write-ahead log if there is one (not while replaying it).
  bool commit_group_txn(std::vector<pending>& group, std::vector<std::optional<error>>& failed,
                        bool log = true);
  /// Commits `group`, running its copies (pending::copy_dir) in queue order.
  void commit_in_order(std::vector<pending>& group);
  /// journal::copy_to on the writer thread.
  expected<void> copy_env(const std::string& dir);
  /// Applies one batch inside `txn`; any error leaves the txn to be aborted.
  expected<void> apply(MDB_txn* txn, const write_batch& batch);
  /// The head of the run a batch is appending to, read once and written
  /// once for a batch's consecutive appends to one run (a step's batch
  /// holds its step_completed and the next step's step_started).
  struct open_head {
    const std::string* run_id = nullptr;  ///< null: none loaded
    detail::run_head head;
    bool dirty = false;
  };
  /// The append op: one log entry at the right edge; the head is updated
  /// in `open` (flush_head keeps it).
  expected<void> append(MDB_txn* txn, const write_batch::op& op, open_head& open);
  /// Makes `open` hold `run_id`'s head: kept if it already does, else the
  /// previous one is flushed and this one read. Errors: not_found for a run
  /// never created.
  expected<void> open_head_of(MDB_txn* txn, const std::string& run_id, open_head& open);
  /// Keeps `open`'s head in txn_heads if it changed; empties `open`.
  void flush_head(open_head& open);
  /// The truncate_before op: deletes the run's older links, moves its head.
  expected<void> truncate(MDB_txn* txn, const write_batch::op& op);
  /// put_row / erase_row of a write batch (journal_rows.cpp).
  expected<void> put_row(MDB_txn* txn, const write_batch::op& op);
  expected<void> erase_row(MDB_txn* txn, const write_batch::op& op);
  /// The writer's view of a run's head: this transaction's, else the last
  /// commit's, else the stored one.
  expected<detail::run_head> writer_head(MDB_txn* txn, std::string_view run_id) const;
  /// Stores every head moved since the checkpoint and the checkpoint itself
  /// (the log's end in `txn`).
  expected<void> store_checkpoint(MDB_txn* txn);
  /// Writer open: brings the heads up to date from the log's tail (a crash
  /// leaves one) and checkpoints them.
  expected<void> recover_heads(MDB_txn* txn);
  /// After a commit: makes this transaction's heads those readers see
  /// (emptied when it checkpointed) and records the commit's id.
  void publish_heads(bool checkpointed);
  /// Readers: the run's head as of `txn`; nullopt when the writer committed
  /// after `txn` began and has not published yet (begin a new one).
  std::optional<expected<detail::run_head>> head_as_of(MDB_txn* txn,
                                                       std::string_view run_id) const;
  /// The databases the tail replay reads.
  detail::tail_dbs tail() const { return {log_db, heads_db, runs_db, meta_db}; }

  /// Doubles the map up to opts.max_map_size; false if already at the max.
  bool grow_map();

  /// Logs (once per journal) that the timers database holds a row whose
  /// key does not parse; due_timers skips such rows.
  void warn_malformed_timer(std::size_t key_size) const;
  mutable std::atomic<bool> warned_malformed_timer{false};

  /// Begins a read transaction under the shared resize lock.
  template <class F>
  auto read(F&& fn) const -> decltype(fn(static_cast<MDB_txn*>(nullptr)));
  /// As read, with the run's head as of the transaction: fn(txn, head).
  template <class F>
  auto read_with_head(std::string_view run_id, F&& fn) const
    -> decltype(fn(static_cast<MDB_txn*>(nullptr), detail::run_head{}));
};

template <class F>
auto journal::impl::read(F&& fn) const
  -> decltype(fn(static_cast<MDB_txn*>(nullptr))) {
  std::shared_lock guard{resize_mutex};
  auto txn = detail::lmdb_txn::begin(env.get(), MDB_RDONLY);
  if (!txn)
    return std::move(txn).error();
  return fn(txn->get());
}

template <class F>
auto journal::impl::read_with_head(std::string_view run_id, F&& fn) const
  -> decltype(fn(static_cast<MDB_txn*>(nullptr), detail::run_head{})) {
  // Retried only while a commit is between LMDB and publish_heads: a few
  // microseconds, and each retry sees a newer commit.
  for (;;) {
    std::shared_lock guard{resize_mutex};
    auto txn = detail::lmdb_txn::begin(env.get(), MDB_RDONLY);
    if (!txn)
      return std::move(txn).error();
    auto head = head_as_of(txn->get(), run_id);
    if (!head) {
      txn->abort();
      guard.unlock();
      std::this_thread::yield();
      continue;
    }
    if (!*head)
      return std::move(*head).error();
    return fn(txn->get(), **head);
  }
}

} // namespace endure
