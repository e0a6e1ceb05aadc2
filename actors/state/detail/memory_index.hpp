// The memory store's in-memory index: per namespace a cosine graph
// (actors/escalation/cosine_graph.hpp) over the entries' embeddings,
// labelled by entry id, and which (key, expiry) each live id stands for.
// A cache of the rows (memory_rows.hpp), rebuilt or caught up from them at
// open. Not thread-safe: memory_store locks around it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "endure/actors/escalation/cosine_graph.hpp"
#include "endure/actors/state/detail/memory_rows.hpp"
#include "endure/actors/state/memory_types.hpp"

namespace endure::state::detail {

/// A candidate of a query: entry id and cosine similarity.
struct scored_id {
  double score = 0;
  std::uint64_t id = 0;
};

class memory_index {
public:
  explicit memory_index(const memory_options& options);

  /// Makes `id` (with `unit`, checked by the caller) the entry (ns, key),
  /// replacing the one there. An id the namespace's graph already holds (a
  /// checkpoint's) is not inserted again.
  expected<void> put(const std::string& ns, const std::string& key, std::span<const float> unit,
                     std::uint64_t id, std::int64_t expires_ms);
  /// Removes the entry (ns, key); false if there is none.
  bool erase(std::string_view ns, std::string_view key);
  /// The key of entry `id`; null if no entry has it.
  const std::string* key_of(std::uint64_t id) const;
  /// The id of the entry (ns, key), 0 if none.
  std::uint64_t id_of(std::string_view ns, std::string_view key) const;

  /// The k entries of `ns` most similar to `unit`, unexpired at `now_ms`,
  /// best first: exact below options.brute_force_below live entries, else
  /// through the graph, fetching more until k live ones are found or the
  /// graph has nothing more to give.
  std::vector<scored_id> query(std::string_view ns, std::span<const float> unit, std::size_t k,
                               std::int64_t now_ms) const;
  /// (ns, key) of every entry expired at `now_ms`.
  std::vector<std::pair<std::string, std::string>> expired(std::int64_t now_ms) const;

  /// Whether `id` is in the graph of `ns` (a checkpoint held it).
  bool graph_holds(std::string_view ns, std::uint64_t id) const;
  /// After restore: removes from the graphs every label no entry claims
  /// (erased or replaced after the checkpoint, or a damaged row's).
  void drop_unclaimed();

  std::size_t size() const noexcept { return ids_.size(); }  ///< live entries
  std::uint64_t max_id() const noexcept;  ///< largest id any graph held (0: none)

  /// Writes every namespace's graph into `dir` under names carrying
  /// `number`; io_error naming the file on failure.
  expected<std::vector<saved_ns_graph>> save(const std::filesystem::path& dir,
                                             std::uint64_t number) const;
  /// Replaces the graphs with saved ones (no entries yet: put them after).
  /// The error names the file that is unusable; nothing changes then.
  expected<void> load(const std::filesystem::path& dir, std::span<const saved_ns_graph> graphs);

private:
  struct space {
    std::string name;
    escalation::cosine_graph graph;
    std::unordered_map<std::string, std::uint64_t> keys;  ///< key -> id
  };
  struct slot {
    space* home = nullptr;
    const std::string* key = nullptr;  ///< into home->keys (node keys are stable)
    std::int64_t expires_ms = 0;
  };

  space& space_for(const std::string& ns);
  bool live(const slot& s, std::int64_t now_ms) const {
    return s.expires_ms == 0 || now_ms < s.expires_ms;
  }
  std::vector<scored_id> exact(const space& s, std::span<const float> unit, std::size_t k,
                               std::int64_t now_ms) const;
  std::vector<scored_id> approximate(const space& s, std::span<const float> unit, std::size_t k,
                                     std::int64_t now_ms) const;
  /// Rebuilds a graph that holds more removed vectors than live ones
  /// (hnswlib 0.6 never reuses a removed slot): amortized, each rebuild
  /// follows at least as many removals as it re-inserts.
  void compact(space& s);

  memory_options opts_;
  std::map<std::string, space, std::less<>> spaces_;
  std::unordered_map<std::uint64_t, slot> ids_;
};

} // namespace endure::state::detail
