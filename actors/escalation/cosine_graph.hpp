// One hnswlib graph over unit vectors, so cosine distance is 1 - dot
// product: the piece the escalation matrix's novelty index (a graph per
// task type) and the memory store (a graph per namespace,
// actors/state/memory_index.hpp) share. Labels are the owner's ids; a
// removed label stays in the graph, marked, and is never returned. Saved to
// and loaded from one file, checked against the XXH3-64 of its bytes
// (hnswlib trusts its files). Not thread-safe, except that const calls may
// run concurrently with each other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "endure/persistence/error.hpp"

namespace endure::escalation {

struct graph_options {
  std::size_t dim = 128;           ///< vector width; every vector must have it
  std::size_t graph_degree = 16;   ///< hnswlib M
  std::size_t build_breadth = 40;  ///< hnswlib ef_construction
  std::size_t search_breadth = 64; ///< hnswlib ef at query time
};

/// invalid_argument, the message beginning with `who`, for a vector that
/// is not `dim` wide or holds a value that is not a finite number (NaN
/// would poison every distance).
expected<void> check_vector(std::span<const float> v, std::size_t dim, const std::string& who);

/// A label and its cosine distance (1 - dot product) to a query.
struct graph_hit {
  float distance = 0;
  std::uint64_t label = 0;
};

class cosine_graph {
public:
  explicit cosine_graph(graph_options options);
  ~cosine_graph();
  cosine_graph(cosine_graph&&) noexcept;
  cosine_graph& operator=(cosine_graph&&) noexcept;

  /// Reads a graph saved by save(). corrupt_record naming `file` when it
  /// cannot be read, its bytes do not hash to `hash` or it does not hold
  /// `count` vectors of options.dim (invalid_argument when the width
  /// differs): the owner rebuilds it from its store.
  static expected<cosine_graph> load(const std::filesystem::path& file, graph_options options,
                                     std::uint64_t hash, std::uint64_t count);

  const graph_options& options() const noexcept;

  /// Adds `unit` under `label` (growing the graph as needed). The label
  /// must not be in the graph (hnswlib would replace it in place): owners
  /// give each vector a new id. The vector is checked by the caller.
  expected<void> add(std::span<const float> unit, std::uint64_t label);
  /// Marks `label` removed; a label not in the graph is ignored.
  void remove(std::uint64_t label);
  /// Whether `label` is in the graph and not removed.
  bool contains(std::uint64_t label) const;

  /// Up to k nearest unremoved vectors, nearest first (approximate).
  std::vector<graph_hit> nearest(std::span<const float> unit, std::size_t k) const;
  /// Calls each(label, vector) for every unremoved vector, in insertion
  /// order: for exact searches over small graphs and for rebuilding.
  void for_each(const std::function<void(std::uint64_t, const float*)>& each) const;

  std::size_t size() const noexcept;     ///< vectors held, removed ones too
  std::size_t removed() const noexcept;  ///< of them, removed
  /// The largest label held, removed ones too (0 when empty).
  std::uint64_t max_label() const noexcept;

  /// Writes the graph to `file` through `file`.tmp, fsynced and renamed
  /// into place, and returns the XXH3-64 of its bytes. io_error naming the
  /// file on failure (the temporary file is removed).
  expected<std::uint64_t> save(const std::filesystem::path& file) const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// A graph to save and the file name it goes under.
struct graph_file {
  std::string name;
  const cosine_graph* graph = nullptr;
};

/// Saves each graph into `dir` (created if needed) under its name, then
/// fsyncs the directory; returns each file's hash, in order. io_error, the
/// message beginning with `who`, naming what failed.
expected<std::vector<std::uint64_t>> save_graphs(const std::filesystem::path& dir,
                                                 std::span<const graph_file> graphs,
                                                 const std::string& who);

/// Deletes the graph files of `dir` ("PREFIX*.hnsw" and their ".tmp")
/// other than those named in `keep`: after a checkpoint record is durable,
/// the files of the checkpoints before it and any a crash left behind.
void remove_graph_files(const std::filesystem::path& dir, std::string_view prefix,
                        std::span<const std::string> keep);

} // namespace endure::escalation
