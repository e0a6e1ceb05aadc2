// The memory store's rows in side_table::memory (persistence/FORMAT.md):
//
//   "e/" + ns + "\0" + key  -> entry (tag 77), little-endian: u64 id,
//                              i64 created_ms, i64 expires_ms, u64 step,
//                              then u32-length-prefixed run id, session,
//                              text and embedding (floats)
//   "s/checkpoint"          -> the graphs saved, one per namespace (tag 78)
//
// A namespace holds no NUL, so the first NUL of a key ends it and keys of
// one namespace are one prefix ("a" and "a/b" do not share one). Pure;
// internal to memory_store.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "endure/actors/state/memory_types.hpp"
#include "endure/persistence/error.hpp"
#include "endure/persistence/record.hpp"

namespace endure::state::detail {

inline constexpr std::string_view memory_checkpoint_key = "s/checkpoint";

/// The row key of (ns, key), and the prefix of every row of `ns`.
std::string memory_row_key(std::string_view ns, std::string_view key);
std::string memory_ns_prefix(std::string_view ns);
/// (ns, key) of a row key; corrupt_record for a key that is not one.
expected<std::pair<std::string, std::string>> split_memory_row_key(std::string_view row_key);

/// The entry row of `e` under store id `id` (its graph label).
record memory_entry_record(const memory_entry& e, std::uint64_t id);
/// An entry row's fields, pointing into its payload (no copies: an open
/// reads every row).
struct memory_row_view {
  std::uint64_t id = 0;
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
  std::uint64_t step = 0;
  std::string_view run_id, session, text;
  std::string_view embedding;  ///< the floats' bytes
  std::vector<float> floats() const;
};
/// corrupt_record naming the row for a payload that does not decode.
expected<memory_row_view> view_memory_entry(std::string_view row_key, const record& r);

/// An entry row read back (ns and key from its row key) and its id;
/// corrupt_record naming the row for anything that does not decode.
expected<std::pair<memory_entry, std::uint64_t>> parse_memory_entry(std::string_view row_key,
                                                                    const record& r);

/// One namespace's graph in a checkpoint.
struct saved_ns_graph {
  std::string ns;
  std::string file;           ///< name inside the graph directory
  std::uint64_t vectors = 0;  ///< held, removed ones too
  std::uint64_t hash = 0;     ///< XXH3-64 of the file
};
struct memory_checkpoint {
  std::uint64_t number = 0;   ///< increases with each checkpoint (file names)
  std::size_t dim = 0;
  std::vector<saved_ns_graph> graphs;
};
record memory_checkpoint_record(const memory_checkpoint& c);
expected<memory_checkpoint> parse_memory_checkpoint(const record& r);

} // namespace endure::state::detail
