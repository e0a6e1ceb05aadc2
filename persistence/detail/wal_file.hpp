// The write-ahead log file of durability::wal (`journal.wal` beside
// data.mdb; persistence/FORMAT.md, "The write-ahead log").
//
// A fixed-size file, zero-filled when created, so that an append and its
// fdatasync rewrite bytes the file already has: one flush, no file-system
// metadata. Two checkpoint slots at its start, then a ring of records:
//
// * A checkpoint says which LMDB transaction data.mdb holds durably (synced)
//   and carries data.mdb's two meta pages as they were then, so that a
//   recovery can put data.mdb back to exactly that snapshot. Slots
//   alternate; the valid one with the higher number wins, so a torn slot
//   write leaves the previous checkpoint in force.
// * A record is one group commit's batches (write_batch_codec), with a
//   sequence number and a checksum. Records after the checkpoint are the
//   commits data.mdb may not hold durably; a scan stops at the first record
//   whose magic, sequence number or checksum does not match (the end of the
//   log: a torn last write, or a record of an earlier lap of the ring).
//
// Not thread-safe: the journal's writer thread (or its open) owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "endure/persistence/error.hpp"

namespace endure::detail {

struct wal_checkpoint {
  /// Increases with every checkpoint written; the higher valid slot wins.
  std::uint64_t number = 0;
  /// The LMDB transaction data.mdb held durably when this was written.
  std::uint64_t lmdb_txnid = 0;
  /// Sequence number and file offset of the first record after it.
  std::uint64_t next_seq = 1;
  std::uint64_t next_offset = 0;
  /// /proc/sys/kernel/random/boot_id of the system that wrote it.
  std::string boot_id;
  /// data.mdb's first two pages (its meta pages) as synced then.
  std::string meta_pages;
};

class wal_file {
public:
  static constexpr std::uint64_t slot_size = 16 * 1024;
  static constexpr std::uint64_t records_begin = 2 * slot_size;
  static constexpr std::uint64_t record_header_size = 32;

  wal_file(wal_file&& o) noexcept;
  wal_file& operator=(wal_file&&) = delete;
  ~wal_file();

  /// Opens an existing log. Errors: io_error; corrupt_record when the file
  /// is not a log of this format or neither slot holds a valid checkpoint
  /// (the message says what to do).
  static expected<wal_file> open(const std::string& path, bool read_only = false);
  /// Creates a log of `size` bytes holding checkpoint `first`: written
  /// zero-filled to `path` + ".new", synced, renamed to `path`, directory
  /// synced, so a crash leaves either no log or a whole one.
  static expected<wal_file> create(const std::string& path, std::uint64_t size,
                                   wal_checkpoint first);

  /// The checkpoint in force (the newest valid slot).
  const wal_checkpoint& checkpoint() const noexcept { return checkpoint_; }
  /// The records after the checkpoint, oldest first, each the payload that
  /// append() was given. Positions the head after the last one.
  expected<std::vector<std::string>> read_records();
  /// Whether a record of `payload_size` bytes fits without overwriting a
  /// record after the checkpoint.
  bool fits(std::size_t payload_size) const noexcept;
  /// Writes one record at the head and flushes it (fdatasync): durable when
  /// this returns. Precondition: fits(payload.size()).
  expected<void> append(std::string_view payload);
  /// Writes `c` (its number and next record set here: the head) into the
  /// other slot and flushes it; records before the head are free again.
  expected<void> write_checkpoint(wal_checkpoint c);
  /// Bytes of records written since the checkpoint.
  std::uint64_t bytes_since_checkpoint() const noexcept { return since_checkpoint_; }
  std::uint64_t size() const noexcept { return size_; }
  const std::string& path() const noexcept { return path_; }

private:
  wal_file(std::string path, int fd, std::uint64_t size);
  expected<void> write_at(std::uint64_t offset, std::string_view bytes) const;
  expected<void> flush() const;
  /// write_at, durable when it returns.
  expected<void> write_durably_at(std::uint64_t offset, std::string_view bytes) const;
  /// Where a record of `total` bytes goes from `offset`: offset itself, or
  /// records_begin when it would run past the end.
  std::uint64_t place(std::uint64_t offset, std::uint64_t total) const noexcept;

  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  wal_checkpoint checkpoint_;
  int checkpoint_slot_ = 0;
  std::uint64_t head_offset_ = 0;  ///< where the next record goes
  std::uint64_t head_seq_ = 1;     ///< its sequence number
  std::uint64_t since_checkpoint_ = 0;
};

/// This boot's id (/proc/sys/kernel/random/boot_id), "unknown" if
/// unreadable (never "", which marks a clean close).
std::string current_boot_id();

} // namespace endure::detail
