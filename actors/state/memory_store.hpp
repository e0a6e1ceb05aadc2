// The memory store: what a long-running agent remembers, queried on
// demand. Namespaced key-value entries, each with a unit embedding, who
// wrote it (provenance) and an optional expiry; a query returns the k
// entries of a namespace most similar (cosine) to a vector, never an
// expired or erased one.
//
// Durability: the rows in side_table::memory of the journal's LMDB
// environment are the truth (detail/memory_rows.hpp); a write returns once
// its row is durable. The per-namespace hnswlib graphs are a cache, saved
// every options.checkpoint_every writes into files beside the journal and
// restored at open (then caught up from the rows), so an open after kill -9
// answers as before. A damaged row is skipped and counted, never fatal.
//
// Threads: any; queries run concurrently with each other, writes one at a
// time (each waits for its commit). One store per journal: two would
// interleave their ids.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "endure/actors/state/memory_types.hpp"
#include "endure/persistence/error.hpp"

namespace endure {
class journal;
} // namespace endure

namespace endure::state {

/// What open found.
struct memory_open_report {
  std::uint64_t entries = 0;   ///< live entries (expired ones not yet purged too)
  std::uint64_t inserted = 0;  ///< of them, inserted into a graph at open
  std::uint64_t checkpoint = 0;  ///< number of the checkpoint loaded (0: none)
  /// Why a checkpoint was not used (a damaged or missing graph file, another
  /// dim): the graphs were rebuilt from the rows. Empty when it loaded.
  std::string checkpoint_problem;
  std::uint64_t damaged_rows = 0;  ///< rows skipped (each named in the log)
};

class memory_store {
public:
  /// Opens the store over `store` (which must outlive it; its readers
  /// learn the state tags, record_tags.hpp): the last
  /// checkpoint's graphs, then every row, after the batches queued before
  /// the call have landed. Errors: invalid_argument for options that
  /// cannot work (dim 0), the journal's when LMDB fails.
  static expected<std::unique_ptr<memory_store>> open(journal& store, memory_options options);
  ~memory_store();

  const memory_options& options() const noexcept;
  const memory_open_report& opened() const noexcept;

  /// Stores `e`, replacing the entry with its (ns, key). invalid_argument,
  /// naming the entry, for a bad namespace or key, an embedding that is not
  /// options.dim wide, not finite or not of unit length, expires_ms < 0.
  /// Then the journal's errors (nothing changed).
  expected<void> put(memory_entry e);
  /// Stores all of `entries` in one commit (all or none; a later one of the
  /// same (ns, key) wins). Errors as put, naming the first bad entry.
  expected<void> put_all(std::vector<memory_entry> entries);

  /// The entry (ns, key) unless absent or expired at `now_ms`.
  expected<std::optional<memory_entry>> get(std::string_view ns, std::string_view key,
                                            std::int64_t now_ms) const;
  /// Erases (ns, key); false when there was none.
  expected<bool> erase(std::string_view ns, std::string_view key);

  /// The k entries of `ns` most similar to `query` (options.dim wide,
  /// unit length) that are unexpired at `now_ms`, best first; fewer only
  /// when fewer live ones exist. Exact below options.brute_force_below live
  /// entries, approximate (hnswlib) above. invalid_argument for k = 0, a
  /// bad namespace or vector.
  expected<std::vector<memory_hit>> query(std::string_view ns, std::span<const float> query,
                                          std::size_t k, std::int64_t now_ms) const;

  /// Erases every entry expired at `now_ms`; returns how many.
  expected<std::size_t> purge_expired(std::int64_t now_ms);

  /// Saves the graphs and commits a checkpoint row when checkpoint_every
  /// writes were made since the last (or `force` and any were); returns
  /// whether one was written. Writes call it themselves.
  expected<bool> checkpoint(bool force = false);

  std::size_t size() const;  ///< entries held (expired ones not yet purged too)

private:
  struct impl;
  explicit memory_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace endure::state
