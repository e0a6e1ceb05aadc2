// The replication stream between a node (its journal_source) and its
// standby (the standby's replica_keeper), over the nodes' TLS connection.
// Internal to net/cluster.
//
//   source -> standby's router (attach_atom, primary, epoch, source actor)
//       -> (keeper actor, epoch, through): the keeper's replica of
//          `primary` holds the stream of `epoch` through batch `through`
//          (epoch 0: it holds none the source can continue)
//   source -> keeper  (batches_atom, primary, epoch, first, [batch bytes])
//       one-way; batch numbers first, first+1, ... of the epoch
//   keeper -> source  (ack_atom, epoch, through): applied through `through`
//   keeper -> source  (resync_atom, epoch, why): the replica cannot go on
//       (a gap, a batch that fails): the source sends a copy
//   source -> keeper  (copy_atom, primary, epoch, through, offset, bytes,
//       last) -> through: one piece of a journal copy holding the epoch's
//       batches through `through`; at `last` the keeper's replica is it
//
// An epoch is a random number a source draws when its process starts: a
// restarted owner's stream is a new epoch, which the standby takes as a
// copy first (the owner may have committed batches it never sent).
#pragma once

#include <caf/atom.hpp>

namespace endure::cluster::replication_detail {

using attach_atom = caf::atom_constant<caf::atom("rp_attach")>;
using batches_atom = caf::atom_constant<caf::atom("rp_batch")>;
using ack_atom = caf::atom_constant<caf::atom("rp_ack")>;
using resync_atom = caf::atom_constant<caf::atom("rp_resync")>;
using copy_atom = caf::atom_constant<caf::atom("rp_copy")>;
/// Router -> source: the standby's router (invalid: the standby is away).
using standby_atom = caf::atom_constant<caf::atom("rp_standby")>;
/// Replication -> keeper, once this process holds its data directory's
/// lock: move back the replicas a kill -9 left aside.
using restore_atom = caf::atom_constant<caf::atom("rp_restore")>;

} // namespace endure::cluster::replication_detail
