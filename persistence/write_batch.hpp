// A write batch: operations applied atomically, in order, by the journal's
// single writer as part of one group commit.
//
// Built on the caller's thread (records are encoded here, not in the
// writer), then handed to journal::commit. Cheap to move.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "endure/persistence/record.hpp"
#include "endure/persistence/run_meta.hpp"

namespace endure {

/// A pending timer: the `timers` database maps (due, run, id) -> nothing.
struct timer_entry {
  std::int64_t due_at_ms = 0;
  std::string run_id;
  std::uint64_t timer_id = 0;
  friend bool operator==(const timer_entry&, const timer_entry&) = default;
};

/// Keyed tables beside the log, for state that is not one run's history:
/// what the layers above own (the human gateway's requests, ...). A row is
/// a record envelope (checksummed) under a key of 1 to 500 bytes.
enum class side_table : std::uint8_t {
  requests = 1,  ///< LMDB database "requests": the human gateway's requests
  /// LMDB database "request_index": which requests are pending (oldest
  /// first) and which need the gateway at a time (actors/gateway/
  /// request_index.hpp), kept in the same batches as the rows.
  request_index = 2,
  /// The escalation actor's (actors/escalation/store.hpp): past inputs by
  /// id, outcomes by sequence number, and its keyed state (decisions by
  /// key, refits, the graph checkpoint).
  escalation_inputs = 3,
  escalation_outcomes = 4,
  escalation_state = 5,
  /// Durable statefulness (actors/state/): task ledgers (tasks, items and
  /// the evidence of every verification), progress logs, artifacts (blobs
  /// by content hash and their provenance) and the memory store.
  ledger = 6,
  progress = 7,
  artifacts = 8,
  memory = 9,
  /// LMDB database "pending_requests": the request index's pending entries
  /// (actors/gateway/request_index.hpp), in a table of their own so that
  /// counting them is LMDB's own entry count, not a walk.
  pending_requests = 10,
};
/// Every side table, for code that opens them all.
inline constexpr side_table all_side_tables[] = {
  side_table::requests,          side_table::request_index,       side_table::escalation_inputs,
  side_table::escalation_outcomes, side_table::escalation_state,     side_table::ledger,
  side_table::progress,          side_table::artifacts,           side_table::memory,
  side_table::pending_requests};

/// The LMDB database name of `t`.
const char* table_name(side_table t) noexcept;

class write_batch {
public:
  enum class op_kind : std::uint8_t {
    create_run, append, set_status, put_snapshot, truncate_before,
    put_timer, erase_timer, erase_timer_if_ended, put_row, erase_row,
  };
  struct op {
    op_kind kind;
    std::string run_id;        ///< put_row, erase_row: the row's key
    /// seq, timer id; set_status: 1 = unless ended; put_row: 1 = if absent,
    /// 2 = if the row's envelope hashes to time_ms (put_row_if)
    std::uint64_t number = 0;
    std::int64_t time_ms = 0;  ///< timestamps, timer due time
    std::string bytes;         ///< encoded record, snapshot, detail text
    run_status status = run_status::running;
    side_table table = side_table::requests;  ///< put_row, erase_row
  };

  /// Creates the run if no run with this id exists; otherwise does nothing
  /// (idempotent start).
  void create_run(const run_meta& meta);
  /// Appends `r` at (run, seq). Seqs of a run start at 1 and increase (gaps
  /// allowed): the batch fails with errc::already_exists if `seq` is at or
  /// below the run's last seq (a journal position is written once), with
  /// errc::invalid_argument for seq 0.
  void append(std::string run_id, std::uint64_t seq, const record& r);
  /// Sets a run's status and detail. Fails with errc::not_found for an
  /// unknown run. With `unless_ended`, a run that has ended (completed,
  /// failed, cancelled) by the time the commit applies keeps its status: a
  /// supervisor's verdict must not overwrite the run's own last word.
  void set_status(std::string run_id, run_status status, std::string detail,
                  std::int64_t now_ms, bool unless_ended = false);
  /// Stores `state` as the run's snapshot taken after `seq` (replacing any
  /// older one).
  void put_snapshot(std::string run_id, std::uint64_t seq, std::string state);
  /// Deletes the run's records with seq < `seq` (after a snapshot).
  void truncate_before(std::string run_id, std::uint64_t seq);
  void put_timer(timer_entry t);
  /// Erases the timer row; erasing one that does not exist is not an error.
  void erase_timer(timer_entry t);
  /// Erases the timer row only if, inside the commit, its run is missing,
  /// has ended (completed, failed, cancelled) or is quarantined: the timer
  /// service's clean-up of rows a run left behind, decided atomically so it
  /// cannot race a release that resumes the run.
  void erase_timer_if_ended(timer_entry t);
  /// Stores `r` as the row `key` of `table`, replacing any row there. With
  /// `if_absent`, an existing row fails the whole batch with
  /// errc::already_exists (nothing of it is written, so rows written
  /// alongside, such as index entries, never describe a row that was not
  /// stored). A key outside 1..500 bytes fails the batch with
  /// errc::invalid_argument.
  void put_row(side_table table, std::string key, const record& r, bool if_absent = false);
  /// Stores `r` as the row `key` of `table` only if that row holds exactly
  /// `expected` when the commit applies (compared by a 64-bit hash of the
  /// envelopes); otherwise, or if the row is gone, leaves it as it is and
  /// the rest of the batch still applies. For a write prepared against a
  /// row that its owner may have written again before the batch commits
  /// (a decision handed to a run that commits late): the newer row wins.
  void put_row_if(side_table table, std::string key, const record& r, const record& expected);
  /// Erases the row; erasing one that does not exist is not an error.
  void erase_row(side_table table, std::string key);
  /// Appends `o` as ops() returns it (a batch decoded from a replication
  /// stream, write_batch_codec.hpp); the journal checks it at commit like
  /// the ops the methods above build.
  void push_op(op o) { ops_.push_back(std::move(o)); }
  /// Moves `other`'s operations to the end of this batch (one atomic unit).
  void splice(write_batch&& other);

  bool empty() const noexcept { return ops_.empty(); }
  std::size_t size() const noexcept { return ops_.size(); }
  const std::vector<op>& ops() const noexcept { return ops_; }

private:
  std::vector<op> ops_;
};

} // namespace endure
