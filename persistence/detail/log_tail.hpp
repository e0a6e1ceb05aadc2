// Run heads checkpoints (layout 3): a step's commit writes only log
// entries; the `heads` database is brought up to date every so often.
//
// The `meta` key "heads_through" holds the checkpoint: every log entry at a
// position at or below it is reflected in the stored heads (a truncation
// writes its run's head at once). An entry past the checkpoint, in the
// log's *tail*, moves its run's head when its position is past the head's
// newest record. So a run's current head is its stored head brought up to
// date by the tail; the writer keeps the heads it moved in memory, and a
// read-only journal (another process) replays the tail.
//
// A damaged tail entry cannot be trusted to say whose it is. If the run id
// it claims is a known run, that run's head is pointed at the damaged entry
// (with the seq it claims, if higher), so reading the run reports the damage
// where it is, as for any damaged link, and never silently ends before it;
// if it names no known run, nothing can be told and the caller gets
// corrupt_record naming the position. Works inside the caller's
// transaction; no LMDB handles kept.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "endure/persistence/detail/lmdb.hpp"
#include "endure/persistence/detail/log_entry.hpp"
#include "endure/persistence/error.hpp"

namespace endure::detail {

/// Hash for maps keyed by std::string and looked up by std::string_view.
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

/// Heads moved past the checkpoint, by run id.
using head_map = std::unordered_map<std::string, run_head, string_hash, std::equal_to<>>;

/// The databases the tail replay reads.
struct tail_dbs {
  MDB_dbi log = 0;    ///< the main database
  MDB_dbi heads = 0;
  MDB_dbi runs = 0;   ///< to tell whether a damaged entry's claimed run exists
  MDB_dbi meta = 0;
};

/// The checkpoint (0 if none was ever written).
expected<std::uint64_t> load_checkpoint(MDB_txn* txn, MDB_dbi meta);
/// Writes the checkpoint. Errors: as lmdb_error.
expected<void> store_checkpoint(MDB_txn* txn, MDB_dbi meta, std::uint64_t through);

/// Moves `head` past the entry `e` stored at `position`, if it is newer.
void advance_head(run_head& head, std::uint64_t position, const log_entry& e) noexcept;

/// Writer open: the heads of every run with entries in the tail, each
/// loaded from `heads` and brought up to date. A run whose stored head is
/// damaged is left out (reading it keeps reporting the damaged head).
/// Errors: corrupt_record (a damaged entry naming no known run),
/// storage_error.
expected<head_map> replay_tail(MDB_txn* txn, const tail_dbs& dbs, std::uint64_t through);

/// Read-only journals: `run_id`'s head as of `txn`: stored, then brought up
/// to date by the tail. Errors: corrupt_record (damaged head, or a damaged
/// tail entry naming no known run), storage_error.
expected<run_head> head_with_tail(MDB_txn* txn, const tail_dbs& dbs,
                                  std::string_view run_id);

} // namespace endure::detail
