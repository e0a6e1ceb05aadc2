// The memory store's in-memory index (memory_index.hpp).
#include "endure/actors/state/detail/memory_index.hpp"

#include <algorithm>
#include <cstdio>

#include <xxhash.h>

namespace endure::state::detail {

namespace {

/// Removed vectors a graph may hold before it is rebuilt, at the least:
/// below this a rebuild would cost more than the dead slots do.
constexpr std::size_t compact_from = 1024;

double dot(std::span<const float> a, const float* b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    sum += static_cast<double>(a[i]) * b[i];
  return sum;
}

void keep_best(std::vector<scored_id>& found, std::size_t k) {
  auto better = [](const scored_id& a, const scored_id& b) {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  };
  auto n = std::min(k, found.size());
  std::partial_sort(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(n), found.end(),
                    better);
  found.resize(n);
}

} // namespace

memory_index::memory_index(const memory_options& options) : opts_(options) {}

memory_index::space& memory_index::space_for(const std::string& ns) {
  auto it = spaces_.find(ns);
  if (it == spaces_.end()) {
    escalation::graph_options g{opts_.dim, opts_.graph_degree, opts_.build_breadth,
                                opts_.search_breadth};
    it = spaces_.emplace(ns, space{ns, escalation::cosine_graph(g), {}}).first;
  }
  return it->second;
}

expected<void> memory_index::put(const std::string& ns, const std::string& key,
                                 std::span<const float> unit, std::uint64_t id,
                                 std::int64_t expires_ms) {
  auto& s = space_for(ns);
  if (!s.graph.contains(id))
    if (auto ok = s.graph.add(unit, id); !ok)
      return ok;
  if (auto old = s.keys.find(key); old != s.keys.end()) {
    if (old->second != id)
      s.graph.remove(old->second);
    ids_.erase(old->second);
    s.keys.erase(old);
  }
  auto it = s.keys.emplace(key, id).first;
  ids_[id] = slot{&s, &it->first, expires_ms};
  compact(s);
  return {};
}

bool memory_index::erase(std::string_view ns, std::string_view key) {
  auto it = spaces_.find(ns);
  if (it == spaces_.end())
    return false;
  auto& s = it->second;
  auto old = s.keys.find(std::string{key});
  if (old == s.keys.end())
    return false;
  s.graph.remove(old->second);
  ids_.erase(old->second);
  s.keys.erase(old);
  compact(s);
  return true;
}

std::uint64_t memory_index::id_of(std::string_view ns, std::string_view key) const {
  auto it = spaces_.find(ns);
  if (it == spaces_.end())
    return 0;
  auto found = it->second.keys.find(std::string{key});
  return found == it->second.keys.end() ? 0 : found->second;
}

const std::string* memory_index::key_of(std::uint64_t id) const {
  auto it = ids_.find(id);
  return it == ids_.end() ? nullptr : it->second.key;
}

bool memory_index::graph_holds(std::string_view ns, std::uint64_t id) const {
  auto it = spaces_.find(ns);
  return it != spaces_.end() && it->second.graph.contains(id);
}

void memory_index::compact(space& s) {
  if (s.graph.removed() < compact_from || s.graph.removed() <= s.keys.size())
    return;
  escalation::cosine_graph fresh(s.graph.options());
  auto dim = opts_.dim;
  s.graph.for_each([&](std::uint64_t label, const float* v) {
    (void)fresh.add(std::span<const float>{v, dim}, label);  // grows; vectors were checked
  });
  s.graph = std::move(fresh);
}

void memory_index::drop_unclaimed() {
  for (auto& [ns, s] : spaces_) {
    std::vector<std::uint64_t> unclaimed;
    s.graph.for_each([&](std::uint64_t label, const float*) {
      auto it = ids_.find(label);
      if (it == ids_.end() || it->second.home != &s)
        unclaimed.push_back(label);
    });
    for (auto label : unclaimed)
      s.graph.remove(label);
    compact(s);
  }
}

std::vector<scored_id> memory_index::exact(const space& s, std::span<const float> unit,
                                           std::size_t k, std::int64_t now_ms) const {
  std::vector<scored_id> found;
  s.graph.for_each([&](std::uint64_t label, const float* v) {
    auto it = ids_.find(label);
    if (it != ids_.end() && live(it->second, now_ms))
      found.push_back({dot(unit, v), label});
  });
  keep_best(found, k);
  return found;
}

std::vector<scored_id> memory_index::approximate(const space& s, std::span<const float> unit,
                                                 std::size_t k, std::int64_t now_ms) const {
  // The graph returns removed vectors never, expired ones (not yet purged)
  // yes: fetch more than k and widen until k live ones came back or the
  // graph holds no more.
  auto held = s.graph.size() - s.graph.removed();
  std::vector<scored_id> found;
  for (auto fetch = std::min(held, std::max(2 * k, k + 16));; fetch = std::min(held, fetch * 4)) {
    found.clear();
    for (auto& hit : s.graph.nearest(unit, fetch)) {
      auto it = ids_.find(hit.label);
      if (it != ids_.end() && live(it->second, now_ms))
        found.push_back({1.0 - static_cast<double>(hit.distance), hit.label});
    }
    if (found.size() >= k || fetch >= held)
      break;
  }
  keep_best(found, k);
  return found;
}

std::vector<scored_id> memory_index::query(std::string_view ns, std::span<const float> unit,
                                           std::size_t k, std::int64_t now_ms) const {
  auto it = spaces_.find(ns);
  if (it == spaces_.end() || k == 0)
    return {};
  auto& s = it->second;
  return s.keys.size() < opts_.brute_force_below ? exact(s, unit, k, now_ms)
                                                 : approximate(s, unit, k, now_ms);
}

std::vector<std::pair<std::string, std::string>> memory_index::expired(std::int64_t now_ms) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& [id, s] : ids_)
    if (!live(s, now_ms))
      out.emplace_back(s.home->name, *s.key);
  return out;
}

std::uint64_t memory_index::max_id() const noexcept {
  std::uint64_t out = 0;
  for (auto& [ns, s] : spaces_)
    out = std::max(out, s.graph.max_label());
  return out;
}

expected<std::vector<saved_ns_graph>> memory_index::save(const std::filesystem::path& dir,
                                                         std::uint64_t number) const {
  std::vector<escalation::graph_file> files;
  for (auto& [ns, s] : spaces_) {
    char name[64];
    std::snprintf(name, sizeof name, "memory-%llu-%016llx.hnsw",
                  static_cast<unsigned long long>(number),
                  static_cast<unsigned long long>(XXH3_64bits(ns.data(), ns.size())));
    files.push_back({name, &s.graph});
  }
  auto hashes = escalation::save_graphs(dir, files, "memory store");
  if (!hashes)
    return std::move(hashes).error();
  std::vector<saved_ns_graph> out;
  std::size_t i = 0;
  for (auto& [ns, s] : spaces_) {
    out.push_back({ns, files[i].name, s.graph.size(), (*hashes)[i]});
    ++i;
  }
  return out;
}

expected<void> memory_index::load(const std::filesystem::path& dir,
                                  std::span<const saved_ns_graph> graphs) {
  decltype(spaces_) loaded;
  escalation::graph_options g{opts_.dim, opts_.graph_degree, opts_.build_breadth,
                              opts_.search_breadth};
  for (auto& saved : graphs) {
    auto graph = escalation::cosine_graph::load(dir / saved.file, g, saved.hash, saved.vectors);
    if (!graph)
      return make_error(graph.error().code, "memory store: " + graph.error().message);
    loaded.emplace(saved.ns, space{saved.ns, std::move(*graph), {}});
  }
  spaces_ = std::move(loaded);
  ids_.clear();
  return {};
}

} // namespace endure::state::detail
