// Layout of one log entry and of one value of the `heads` database
// (documented byte by byte in persistence/FORMAT.md, layout 3).
//
// A log entry is a fixed header (entry format, seq, previous position of the
// same run, run id) sealed by an XXH3-64 over the header seeded with the
// entry's own position, followed by the record envelope unchanged (which
// carries its own checksum). A head is three big-endian numbers sealed by
// an XXH3-64 seeded with a hash of the run id. Both are checked before any
// field is used. Pure functions: no LMDB, any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace endure::detail {

/// Version of the log entry header. Bumped only if the header changes.
inline constexpr std::uint8_t log_entry_format = 1;

/// Key of the log entry at `position` in LMDB's main (unnamed) database:
/// 0xff, then the position as u64 big-endian. Database names are text, so
/// every log key sorts after them and the log grows at the tree's right edge.
std::string position_key(std::uint64_t position);

/// The position a main-database key names; false if the key is not a log
/// key (a database name).
bool position_of_key(std::string_view key, std::uint64_t& position) noexcept;

/// A log entry's fields. `run_id` and `envelope` view the stored bytes.
struct log_entry {
  std::string_view run_id;
  std::uint64_t seq = 0;
  std::uint64_t prev = 0;  ///< position of the run's previous record; 0 = none
  std::string_view envelope;
};

/// Bytes `encode_log_entry` writes for `e`.
std::size_t log_entry_size(const log_entry& e) noexcept;

/// Writes `e`, stored at `position`, into `out` (log_entry_size bytes);
/// used with MDB_RESERVE so the writer copies the envelope only once.
void encode_log_entry(std::uint64_t position, const log_entry& e, char* out) noexcept;

/// Parses the entry stored at `position`. On damage returns false and sets
/// `why`; the header is verified before any field is read.
bool decode_log_entry(std::uint64_t position, std::string_view bytes, log_entry& out,
                      std::string& why);

/// The fields a damaged entry claims, unverified: only the run id's length
/// is checked against the entry. False if even that does not fit.
bool peek_log_entry(std::string_view bytes, log_entry& out) noexcept;

/// Value of the `heads` database: where a run's chain starts.
/// `last_pos == 0` means the run has no stored records (never appended, or
/// all truncated); `last_seq` stays as the highest seq ever appended.
struct run_head {
  std::uint64_t last_pos = 0;  ///< position of the run's newest record
  std::uint64_t last_seq = 0;  ///< its seq: appends must go above it
  std::uint64_t low_seq = 0;   ///< seq of the oldest stored record
};

inline constexpr std::size_t run_head_size = 32;

/// Writes `h`, the head of `run_id`, into `out` (run_head_size bytes; a
/// caller's buffer, as every append writes a head).
void encode_run_head(std::string_view run_id, const run_head& h, char* out) noexcept;

/// False (and `why`) if the value is not a sound head of `run_id`.
bool decode_run_head(std::string_view run_id, std::string_view bytes, run_head& out,
                     std::string& why);

} // namespace endure::detail
