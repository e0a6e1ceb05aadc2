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
#pragma once

#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <vector>

#include "endure/persistence/options.hpp"

namespace endure::cluster {

struct replica_keeper_options {
  std::string self;
  /// The nodes whose standby this node is: only they may stream to it.
  std::vector<std::string> primaries;
  /// Where the replicas live (DATA_DIR/replicas).
  std::string dir;
  durability mode = durability::sync;
};

caf::actor spawn_replica_keeper(caf::actor_system& sys, replica_keeper_options opts);

} // namespace endure::cluster
