// The memory store's value types (memory_store.hpp): an entry, where it
// came from, a query's hit, and the store's options. Plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "endure/actors/escalation/embedder.hpp"

namespace endure::state {

/// Who wrote an entry: the run, the session of a long-running agent, the
/// step (its position in the run). Empty/0 for writes from outside a run.
struct provenance {
  std::string run_id;
  std::string session;
  std::uint64_t step = 0;
  friend bool operator==(const provenance&, const provenance&) = default;
};

struct memory_entry {
  /// 1 to 100 bytes: '/'-separated segments of [A-Za-z0-9._-] (like a task
  /// id), e.g. "agent-7/facts". Namespaces are disjoint: "a" holds nothing
  /// of "a/b".
  std::string ns;
  std::string key;   ///< 1 to 200 bytes, any bytes
  std::string text;  ///< what is remembered (any size; kept in LMDB only)
  /// Unit length, the store's dim wide, finite (memory_options::dim).
  std::vector<float> embedding;
  provenance from;
  std::int64_t created_ms = 0;  ///< Unix ms
  std::int64_t expires_ms = 0;  ///< Unix ms; 0 = never
  friend bool operator==(const memory_entry&, const memory_entry&) = default;
};

/// One answer of a query: an entry and its cosine similarity to the query.
/// Also what the context assembler (context_assembler.hpp) takes; there a
/// higher score ranks first and a NaN score is left out. The members after
/// score have defaults, so {key, text, score} builds one.
struct memory_hit {
  std::string key;
  std::string text;
  double score = 0;  ///< cosine similarity, -1..1 (1: same direction)
  provenance from{};
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
  friend bool operator==(const memory_hit&, const memory_hit&) = default;
};

struct memory_options {
  /// Width of every embedding. Default: the built-in embedder's (128).
  std::size_t dim = escalation::default_embedding_dim;
  /// A namespace with fewer live entries than this is searched exactly (a
  /// scan of its vectors); from this size on through its hnswlib graph.
  /// Default 1,000: measured (bench/memory --threshold, dim 64, top-10),
  /// an exact scan costs what a graph search does at about 1,500 entries
  /// (75 us against 86 us at 1,000; 120 against 100 at 2,000), and below
  /// that it is both faster and exact.
  std::size_t brute_force_below = 1'000;
  /// hnswlib M / ef_construction / ef of the namespaces' graphs. Defaults
  /// 16 / 40 / 128. Measured (bench/memory, 50,000 notes, dim 64): ef 64
  /// gave the exact top-1 for 75% of queries, 128 for 92% at twice the
  /// query time (p50 0.14 -> 0.25 ms); ef_construction 100 did not raise it
  /// and cost 3 times the insert time.
  std::size_t graph_degree = 16;
  std::size_t build_breadth = 40;
  std::size_t search_breadth = 128;
  /// Where graph checkpoint files go. Empty: "memory" inside the journal's
  /// data directory. Default: empty.
  std::filesystem::path graph_dir;
  /// Writes between graph checkpoints, at the least (0: none; every open
  /// then rebuilds the graphs from the rows): a checkpoint waits for this
  /// many writes or a quarter of the entries held, whichever is more, since
  /// each one saves every graph. Default 20,000: an open after kill -9
  /// inserts again at most that many vectors, or a quarter of the store.
  std::uint64_t checkpoint_every = 20'000;
};

/// Whether `ns` is a valid namespace (memory_entry::ns).
bool valid_namespace(std::string_view ns) noexcept;

} // namespace endure::state
