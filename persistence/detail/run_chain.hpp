// A run's records as a chain through the log (layout 3: entries live in
// LMDB's main database under position keys, see log_entry.hpp).
//
// A run's head (stored in `heads` as of the last checkpoint and brought up
// to date from the log's tail, see log_tail.hpp) names its newest record's
// position; each log entry holds the position of the same run's previous
// record. Reading a run walks that chain backwards with point lookups and
// checks every link: header checksum, run id, seqs strictly falling,
// positions strictly falling, and the walk ends exactly at the run's lowest
// stored seq. Any break is a corrupt_record naming the run and the seq (or,
// where the seq is unknown, the log position and the last good seq); other
// runs are unaffected.
// Works inside any LMDB transaction; the caller owns it.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "endure/persistence/detail/lmdb.hpp"
#include "endure/persistence/detail/log_entry.hpp"
#include "endure/persistence/error.hpp"

namespace endure::detail {

/// The run's head, or a zero head if the run never had a record.
/// Errors: corrupt_record (damaged head), storage_error.
expected<run_head> load_head(MDB_txn* txn, MDB_dbi heads, std::string_view run_id);

/// Writes the run's head. Errors: as lmdb_error (map_full, ...).
expected<void> store_head(MDB_txn* txn, MDB_dbi heads, std::string_view run_id,
                          const run_head& head);

/// Writes `e` at `position` with MDB_APPEND: positions only grow, so the
/// put lands at the B-tree's right edge. Errors: as lmdb_error.
expected<void> append_link(MDB_txn* txn, MDB_dbi log, std::uint64_t position,
                           const log_entry& e);

/// One past the log's last position (1 for an empty log). `log` is the
/// main database: its keys are database names, then the log's positions.
expected<std::uint64_t> next_free_position(MDB_txn* txn, MDB_dbi log);

/// One stored record found by the walk; `envelope` views the transaction's
/// pages and is valid until it ends.
struct chain_link {
  std::uint64_t position = 0;
  std::uint64_t seq = 0;
  std::string_view envelope;
};

/// The run's stored records with seq >= `from_seq`, oldest first. Envelopes
/// are not decoded (a damaged envelope is reported by whoever decodes it).
expected<std::vector<chain_link>> walk_chain(MDB_txn* txn, MDB_dbi log,
                                             std::string_view run_id,
                                             const run_head& head,
                                             std::uint64_t from_seq);

} // namespace endure::detail
