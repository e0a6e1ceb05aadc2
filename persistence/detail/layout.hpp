// The data directory's layout version and the upgrades to layout 3.
//
// Layout 1 kept records in the `journal` database keyed (run, seq); layout 2
// kept them in a `log` database + `heads`; layout 3 keeps the log in LMDB's
// main database and checkpoints `heads` (see persistence/FORMAT.md). The
// version is the `meta` database's key "layout". A writer open upgrades an
// older directory inside the open transaction, so a crash leaves either
// layout whole; a read-only open refuses a directory not yet upgraded. Both
// refuse a layout newer than this build. Runs at journal::open, on the
// opening thread.
#pragma once

#include <cstdint>
#include <string>

#include "endure/persistence/detail/lmdb.hpp"
#include "endure/persistence/error.hpp"

namespace endure::detail {

inline constexpr std::uint32_t current_layout = 3;
/// Layout 4: layout 3's databases, in a directory whose `journal.wal` may
/// hold commits data.mdb lacks (durability::wal), marked so that builds
/// before the write-ahead log, which would write data.mdb without it,
/// refuse the directory (as SQLite marks a database in WAL mode for
/// versions without WAL). A writer open in another mode recovers from the
/// log, removes it and marks the directory layout 3 again.
inline constexpr std::uint32_t wal_layout = 4;

/// The layout-3 databases, opened in the caller's transaction.
struct layout_dbs {
  MDB_dbi log = 0;  ///< LMDB's main database
  MDB_dbi heads = 0;
  MDB_dbi meta = 0;
};

/// Writer open: refuses a newer layout (newer_record_version); moves every
/// record of a layout-1 `journal` database into the log and `heads` (run by
/// run, seq order, envelopes unchanged) or every entry of a layout-2 `log`
/// database into the main database (positions and bytes unchanged), drops
/// the old database, records layout 3 and a heads checkpoint at the log's
/// end, all in `txn`. Returns how many records were moved (0 when there was
/// nothing to do). Errors: newer_record_version, corrupt_record (malformed
/// layout-1 key), invalid_argument (records in both layouts), lmdb errors
/// (map_full: grow the map and redo the whole open transaction).
expected<std::uint64_t> upgrade_layout(MDB_txn* txn, const layout_dbs& dbs,
                                       const std::string& data_dir);

/// Marks the directory wal_layout (`with_log`) or current_layout, in `txn`;
/// writes nothing when it is marked so already. Precondition: the open's
/// upgrade_layout ran.
expected<void> mark_wal_layout(MDB_txn* txn, MDB_dbi meta, bool with_log);

/// Read-only open: succeeds only at layout 3 or 4; an older directory gets
/// invalid_argument saying to open it once with a writer.
expected<void> check_layout_read_only(MDB_txn* txn, const std::string& data_dir);

} // namespace endure::detail
