// Rendezvous hashing (placement.hpp): score(node, run) = XXH64 of the node
// name, a zero byte and the run id; highest score first, ties by name.
#include "endure/net/cluster/placement.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

#include <xxhash.h>

namespace endure::cluster {

namespace {

std::uint64_t score(std::string_view node, std::string_view run) {
  XXH64_state_t* s = XXH64_createState();
  XXH64_reset(s, 0);
  XXH64_update(s, node.data(), node.size());
  char zero = 0;
  XXH64_update(s, &zero, 1);
  XXH64_update(s, run.data(), run.size());
  auto h = XXH64_digest(s);
  XXH64_freeState(s);
  return h;
}

} // namespace

std::vector<std::string> rank_nodes(std::string_view run_id, std::span<const std::string> nodes) {
  std::vector<std::pair<std::uint64_t, const std::string*>> scored;
  scored.reserve(nodes.size());
  for (auto& n : nodes)
    scored.emplace_back(score(n, run_id), &n);
  std::sort(scored.begin(), scored.end(), [](auto& a, auto& b) {
    return a.first != b.first ? a.first > b.first : *a.second < *b.second;
  });
  std::vector<std::string> out;
  out.reserve(scored.size());
  for (auto& [s, n] : scored)
    out.push_back(*n);
  return out;
}

} // namespace endure::cluster
