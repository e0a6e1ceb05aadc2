// Options of a journal (one LMDB environment per data directory).
//
// Plain struct, every field documented with its default, in LevelDB's style.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "endure/persistence/error.hpp"

namespace endure {

class write_batch;
class commit_sink;

/// How hard each group commit pushes data to stable storage.
enum class durability : std::uint8_t {
  /// fsync data and meta page on every commit: survives an OS crash or power
  /// loss. The default.
  sync,
  /// fsync data but not the meta page (MDB_NOMETASYNC): an OS crash may lose
  /// the last commits but never corrupts the environment.
  nometasync,
  /// No fsync (MDB_NOSYNC): survives a process crash (kill -9, OOM), since
  /// the data is in the OS page cache; an OS crash or power loss may lose
  /// recent commits (the environment stays consistent on a file system that
  /// keeps write order, not guaranteed elsewhere).
  nosync,
  /// One flush per commit, of a write-ahead log (`journal.wal`) instead of
  /// LMDB's two (its pages, then its meta page): survives an OS crash or
  /// power loss like sync. LMDB commits without syncing and is synced at
  /// checkpoints (journal_options::wal_*); a writer open recovers from the
  /// log. A directory may switch modes: a writer open in another mode
  /// recovers from the log first, then removes it.
  wal,
};

/// "sync", "nometasync", "nosync" or "wal".
const char* to_string(durability d) noexcept;

struct journal_options {
  /// Directory holding data.mdb, lock.mdb and the LOCK file; created if
  /// missing. Default: none, must be set.
  std::string data_dir;
  /// Durability of each commit. Default: durability::sync.
  durability mode = durability::sync;
  /// Initial size of the LMDB map in bytes; grown by doubling on
  /// MDB_MAP_FULL. Default: 64 MiB.
  std::size_t initial_map_size = std::size_t{64} << 20;
  /// The map never grows beyond this; past it, writes fail with
  /// errc::map_full. Default: 64 GiB.
  std::size_t max_map_size = std::size_t{64} << 30;
  /// Most write batches the group-commit writer folds into one transaction.
  /// Default: 4096.
  std::size_t max_batches_per_commit = 4096;
  /// After a commit, the writer thread polls this long for the next batch
  /// before it sleeps. A run that writes again right away (its next step)
  /// then finds the writer awake instead of paying a thread wake-up
  /// (~20-30 us on a VM) per commit; the price is at most this much CPU
  /// after each burst of writes. Zero: sleep at once. Default: 200 us.
  std::chrono::microseconds writer_spin{200};
  /// The writer stores the run heads (and a checkpoint) once this many log
  /// entries were appended since the last checkpoint; in between, a step's
  /// commit writes only its log entries (persistence/FORMAT.md, layout 3).
  /// Lower: less log for a read-only reader (`endure inspect`) to replay
  /// per read; higher: fewer commits that also write heads. Must be > 0.
  /// Default: 4096.
  std::size_t heads_checkpoint_entries = 4096;
  /// durability::wal: the size of `journal.wal`, written once with zeros
  /// when the log is created (a larger file changes nothing once made).
  /// At least 96 KiB. Default: 64 MiB.
  std::uint64_t wal_size = std::uint64_t{64} << 20;
  /// durability::wal: a checkpoint (a sync of data.mdb) comes when this much
  /// time passed since the last one, at the next commit ...
  std::chrono::milliseconds wal_checkpoint_interval{1000};
  /// ... or when the log holds this many bytes of records, or data.mdb
  /// grew this much (pages freed since the last checkpoint are not reused
  /// until the next). The checkpoint's sync runs on the writer thread, so
  /// smaller means more commits that wait behind a sync of data.mdb (a
  /// slower tail) but less of the file touched and mapped by a busy
  /// process; larger, the reverse. bench/README.md has both measured at
  /// 2, 8 and 16 MiB. Default: 8 MiB.
  std::uint64_t wal_checkpoint_bytes = std::uint64_t{8} << 20;
  /// Open read-only: no lock file, no writer thread; writes fail with
  /// errc::invalid_argument. Lets `endure inspect` read a journal a live
  /// process holds. Default: false.
  bool read_only = false;
  /// Fault injection, for tests of the layers above (LevelDB's Env for
  /// storage faults): called on the writer thread once for every batch
  /// before it is applied; an error it returns fails that batch, and only
  /// it, exactly as an LMDB error would. Must be quick and must not call
  /// the journal. Default: none.
  std::function<expected<void>(const write_batch&)> inject_fault{};
  /// Where every committed batch goes before it is acknowledged
  /// (commit_sink.hpp): the sink then completes it, e.g. once a standby
  /// received it. Default: none, the writer completes each batch itself.
  std::shared_ptr<commit_sink> sink{};
};

} // namespace endure
