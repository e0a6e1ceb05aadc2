// The novelty input N of the escalation score: how far an input lies from
// the past inputs of its task type. One HNSW graph (hnswlib) per task type
// over unit vectors, so cosine distance is 1 - dot product. The graphs are
// a cache: the vectors' home is the store (LMDB), a graph is saved at
// checkpoints and caught up from the store at start. Not thread-safe: one
// owner (the escalation actor, a benchmark).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "endure/persistence/error.hpp"

namespace endure::escalation {

struct novelty_options {
  std::size_t dim = 128;             ///< vector width; every vector must have it
  std::size_t neighbours = 5;        ///< k of "the k nearest past inputs"
  std::size_t graph_degree = 16;     ///< hnswlib M
  /// hnswlib ef_construction. 40: inserts are what a start spends catching
  /// up after a checkpoint (100 doubles that: 20,000 inserts took 7.5 s
  /// against 3.5 s at 120,000 stored), and a mean distance to 5 neighbours
  /// does not need the last bit of recall.
  std::size_t build_breadth = 40;
  std::size_t search_breadth = 64;   ///< hnswlib ef at query time (>= neighbours)
};

/// One saved graph: what a checkpoint record keeps to find and trust it.
struct saved_graph {
  std::string task_type;
  std::string file;          ///< name inside the checkpoint directory
  std::uint64_t vectors = 0; ///< inputs in it
  std::uint64_t hash = 0;    ///< XXH3-64 of the file's bytes
  std::size_t dim = 0;       ///< vector width
};

class novelty_index {
public:
  explicit novelty_index(novelty_options options = {});
  ~novelty_index();
  novelty_index(novelty_index&&) noexcept;
  novelty_index& operator=(novelty_index&&) noexcept;

  const novelty_options& options() const noexcept;

  /// Mean cosine distance from `unit` to its k nearest past inputs of
  /// `task_type` (fewer when fewer are stored), clamped to [0, 1]: 0 for an
  /// input seen before, 1 for a task type with no past inputs or a zero
  /// vector. invalid_argument for a vector of the wrong width or with a
  /// value that is not finite.
  expected<double> novelty(std::string_view task_type, std::span<const float> unit) const;

  /// Stores `unit` as a past input of `task_type` under `id` (the store's
  /// key; ids increase across all types). invalid_argument for a vector of
  /// the wrong width or a value that is not finite, already_exists for an
  /// id not above the last one (hnswlib would silently replace a repeat).
  expected<void> add(std::string_view task_type, std::span<const float> unit, std::uint64_t id);

  /// Inputs stored, in all types.
  std::size_t size() const noexcept;
  /// The largest id stored (0 when empty): the next must be above it.
  std::uint64_t max_id() const noexcept;

  /// Writes every graph into `dir` (created if needed) under names that
  /// carry `checkpoint` (so the previous checkpoint's files stay valid until
  /// the new record is committed; the caller deletes them after), each
  /// through a temporary file renamed into place after fsync, and returns
  /// what a checkpoint record keeps. io_error naming the file on failure.
  /// A short write is not seen here: load() refuses the file (hnswlib
  /// checks its size), and the graphs are rebuilt from the store.
  expected<std::vector<saved_graph>> save(const std::filesystem::path& dir,
                                          std::uint64_t checkpoint = 0) const;

  /// Replaces the graphs with those saved in `dir`. Each file must have the
  /// recorded hash, width and count, else corrupt_record (invalid_argument
  /// for another width) naming it: the caller rebuilds from the store
  /// instead, hnswlib trusts its files. Nothing changes on failure.
  expected<void> load(const std::filesystem::path& dir, std::span<const saved_graph> graphs);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace endure::escalation
