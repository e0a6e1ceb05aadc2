// The index of the requests table: which requests are pending, oldest
// first (what `endure inbox` lists), and which need the human gateway at a
// time (a reminder falling due; a decided outcome not yet delivered to its
// run). Kept in the side tables pending_requests ('p' keys) and
// request_index (the rest), always in the same write batch as the row it
// describes, by everyone who writes rows (the gateway, the raising step,
// `endure approve` with no process running), so the gateway's start and the
// inbox's first page read a few index rows instead of every request, and
// the inbox counts the pending ones with LMDB's entry count of their table
// instead of a walk. Keys (persistence/FORMAT.md):
//
//   'p' + created_ms + id   a pending request (table pending_requests)
//   'd' + due_ms + id       the gateway acts at due_ms: the next reminder,
//                           or 0 for an outcome to deliver
//   "indexed.2"             every row has its entries (written by the
//                           gateway's first start on a directory from before
//                           this form of the index; readers scan the rows
//                           without it, or while "indexed", the mark of the
//                           first form, is still there)
//
// Times are i64 big-endian with the sign bit flipped, so key order is time
// order. An entry is a hint, the row is the truth: readers check the row and
// skip (the gateway erases) an entry that no longer matches it. Pure
// functions (but index_complete); any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "endure/actors/gateway/human_request.hpp"
#include "endure/persistence/error.hpp"
#include "endure/persistence/write_batch.hpp"

namespace endure {
class journal;
}

namespace endure::gateway {

/// The record tag of an index entry (persistence/FORMAT.md: 64- later layers).
inline constexpr std::uint16_t request_index_tag = 65;

inline constexpr std::string_view pending_prefix = "p";
inline constexpr std::string_view due_prefix = "d";
/// The mark that every row has its entries, pending ones in their own table.
inline constexpr std::string_view indexed_key = "indexed.2";
/// The mark of the index's first form (pending entries in request_index),
/// which builds before pending_requests write and keep: while it is there
/// the index is not this build's, and the gateway's next start rebuilds it.
inline constexpr std::string_view first_form_indexed_key = "indexed";

/// The entries a row should have: empty strings where it has none.
struct index_keys {
  std::string pending;  ///< 'p' key while pending
  std::string due;      ///< 'd' key: next reminder, or 0 for an undelivered outcome
  friend bool operator==(const index_keys&, const index_keys&) = default;
};
index_keys keys_of(const human_request& r);

/// The table an entry of `kind` ('p' or 'd') lives in.
side_table index_table(char kind) noexcept;

/// Whether readers may trust the index of `store`'s requests: the mark of
/// this form is there, and neither the mark nor an entry of the first form
/// (request_index holds no 'p' key); false: read the rows themselves.
expected<bool> index_complete(const journal& store);

/// Adds to `b` what makes the index match `after`, whose row had the
/// entries `before` ({} for a new row): erases the keys that changed, puts
/// the new ones, and erases the pending entry of a row that is not pending
/// (which a build before the pending table may have left). Put the row in
/// the same batch.
void update_index(write_batch& b, const index_keys& before, const human_request& after);

/// The key of time `at_ms` under `prefix` ('p' or 'd'), without an id: the
/// first key of that moment, to seek with.
std::string index_key_at(std::string_view prefix, std::int64_t at_ms);

/// A 'p' or 'd' key taken apart; nullopt for any other key.
struct index_entry {
  char kind = 0;  ///< 'p' or 'd'
  std::int64_t at_ms = 0;
  std::string id;
};
std::optional<index_entry> parse_index_key(std::string_view key);

/// The value of every entry (an empty record: the key says it all).
record index_record();

} // namespace endure::gateway
