// What the memory crash test's child writes (memory_child.cpp), shared with
// the test that checks it after kill -9: entry i and its vector; random
// unit vectors for the memory tests.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "endure/actors/escalation/embedder.hpp"
#include "endure/actors/state/memory_types.hpp"

namespace endure::test {

inline constexpr std::size_t memory_child_dim = 32;

inline state::memory_options memory_child_options() {
  state::memory_options o;
  o.dim = memory_child_dim;
  o.brute_force_below = 20;  // the graph path from the start
  o.checkpoint_every = 50;   // checkpoints while the child writes
  return o;
}

/// A random direction of `dim` numbers, unit length.
inline std::vector<float> random_unit(std::mt19937& rng, std::size_t dim) {
  std::normal_distribution<float> n;
  std::vector<float> v(dim);
  for (auto& x : v)
    x = n(rng);
  escalation::normalize(v);
  return v;
}

/// Entry i's unit vector: a seeded random direction (apart from the others).
inline std::vector<float> memory_child_vector(int i) {
  std::mt19937 rng(static_cast<std::uint32_t>(i) + 1);
  return random_unit(rng, memory_child_dim);
}

inline std::string memory_child_key(int i) { return "e" + std::to_string(i); }

} // namespace endure::test
