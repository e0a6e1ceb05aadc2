// The standby's side of replication: one detached actor per node that
// keeps a replica journal of every node whose standby it is, in
// DATA_DIR/replicas/NAME, applying each batch of the owner's stream to it
// in order and acknowledging what it applied. Internal.
//
// A replica is an ordinary endure journal: `endure --data
// DATA_DIR/replicas/NAME inspect RUN` reads it while the keeper writes
// (read-only open), and a takeover opens it as the runtime's journal. A
// stream that cannot continue (another epoch, a gap, a batch that fails
// here) is answered resync_atom, and the owner sends a copy that replaces
// the replica whole (written beside it and renamed over it, so a kill -9
// mid-copy leaves the old replica or the new one, never half of one).
//
// Takeover (take_over_atom, from the router once the primary has been away
// for replication_config::takeover): the keeper closes the replica, writes
// the fence marker durably, then opens a runtime on the replica
// (give_runtime_opener) and answers its handle. From then
// on the primary's attach is answered with why it is fenced.
#pragma once

#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <functional>
#include <map>
#include <vector>

#include "endure/persistence/error.hpp"
#include "endure/persistence/options.hpp"

namespace endure::cluster {

struct replica_keeper_options {
  std::string self;
  /// The nodes whose standby this node is: they may stream to it, and so
  /// may a node whose standby this node took over.
  std::vector<std::string> primaries;
  /// Every node's configured standby (node -> standby).
  std::map<std::string, std::string> standby_of;
  /// Where the replicas live (DATA_DIR/replicas).
  std::string dir;
  durability mode = durability::sync;
};

/// Mode takeover: opens a runtime on a replica's directory (its primary's
/// name, the directory) and answers its handle. Called on the keeper's
/// thread; the caller keeps the runtime until it stops.
using open_runtime_fn =
  std::function<expected<caf::actor>(const std::string& primary, const std::string& dir)>;

/// Gives the keeper its open_runtime_fn; it then runs again the replicas
/// an earlier process of this node took over (their fence markers).
void give_runtime_opener(const caf::actor& keeper, open_runtime_fn open);

/// DIR.taken-over: the fence a takeover writes beside the replica DIR of
/// node NAME. While it is there the replica is this node's to run (a
/// restart runs it again) and NAME's stream is refused.
std::string fence_marker(const std::string& replica_dir);

caf::actor spawn_replica_keeper(caf::actor_system& sys, replica_keeper_options opts);

} // namespace endure::cluster
