// Where a run lives: rendezvous (highest random weight) hashing of the run
// id over the cluster's nodes. Every node computes the same order from the
// same names, with no coordination; adding or removing a node moves only
// the runs whose first choice it is (about 1/n of them).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace endure::cluster {

/// The nodes in order of preference for `run_id`: the first is its owner
/// while it is up, the next ones take new runs while those before are down.
/// Deterministic: depends only on the id and the set of names (not on
/// their order).
std::vector<std::string> rank_nodes(std::string_view run_id, std::span<const std::string> nodes);

} // namespace endure::cluster
