// The replication stream between a node (its journal_source) and its
// standby (the standby's replica_keeper), over the nodes' TLS connection.
// Internal to net/cluster.
//
//   source -> standby's router (attach_atom, primary, epoch, source actor)
//       -> (keeper actor, epoch, through, taken_over): the keeper's replica
//          of `primary` holds the stream of `epoch` through batch `through`
//          (epoch 0: it holds none the source can continue); taken_over,
//          when not empty, says the standby took `primary` over: the
//          source fails every commit (it is fenced)
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
/// Router -> source: the standby's router (invalid: the standby is away);
/// after a takeover of the standby, the router of the node that took it
/// over.
using standby_atom = caf::atom_constant<caf::atom("rp_standby")>;
/// Replication -> keeper, once this process holds its data directory's
/// lock: move back the replicas a kill -9 left aside.
using restore_atom = caf::atom_constant<caf::atom("rp_restore")>;
/// Router -> keeper (take_over_atom, primary) -> its runtime's handle: the
/// primary has been away for takeover_ms (mode takeover).
using take_over_atom = caf::atom_constant<caf::atom("rp_takeovr")>;
/// Router -> keeper (hosted_atom) -> (names, runtime handles) of the
/// replicas it runs (taken over before, by this process or an earlier one).
using hosted_atom = caf::atom_constant<caf::atom("rp_hosted")>;
/// Router -> source: this node took its own standby over; no node is
/// left to keep its replica, so commits are acknowledged here alone.
using alone_atom = caf::atom_constant<caf::atom("rp_alone")>;
/// -> source (fenced_atom, why): a node said this node was taken over.
using fenced_atom = caf::atom_constant<caf::atom("rp_fenced")>;

} // namespace endure::cluster::replication_detail
