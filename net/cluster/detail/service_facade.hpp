// What other nodes reach of this node's named service actors
// (cluster_node.hpp, service_atom): the human gateway and the escalation
// actor also take messages meant for their runtime alone (a run ended, a
// deadline, a training outcome's bookkeeping), which must not come from
// another process. A facade stands in for one of them and passes on only
// the messages actors/atoms.hpp documents as theirs to send:
//   gateway:    decide (answered by the gateway), subscribe (one-way)
//   escalation: esc_assess, esc_outcome, esc_stats (answered by it)
// to whichever actor holds the name when the message comes (a restarted
// gateway registers again under the same name); while none does, a
// request is answered shut_down. Anything else is dropped (a request is
// answered CAF's unexpected_message). Internal to net/cluster.
#pragma once

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>

namespace endure::cluster::router_detail {

/// Whether this node lends actor `name` to other nodes through a facade
/// (service::gateway_name, service::escalation_name).
bool has_facade(caf::atom_value name);

/// Spawns the facade for `name` (has_facade(name)), linked to `parent`: it
/// ends with it.
caf::actor spawn_service_facade(caf::event_based_actor* parent, caf::atom_value name);

} // namespace endure::cluster::router_detail
