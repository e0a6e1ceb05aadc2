// A cluster node: the runtime's handle (actors/service/protocol.hpp) made
// reachable from the other nodes over CAF's middleman with TLS
// (caf_openssl), and a router that sends each request to the node that owns
// the run.
//
// handle() speaks exactly the service protocol, so a program switches from
// one node to a cluster by sending to this handle instead of
// runtime::handle(). Where a request goes:
//   * start: to the id's first choice (rank_nodes(id), placement.hpp)
//     when it is up, in one round trip: that node answers for its ids
//     alone, since every peer tells it in its hello which runs of its ids
//     it holds (started while it was away), and it sends the start there.
//     When the first choice is away: to the node that already has a run of
//     that id, if any reachable node has one, else to the next node of the
//     ranking that is up. A run this router remembers on a node that is
//     away is answered shut_down, not started a second time elsewhere.
//   * signal, cancel, release, status, wait, usage: to the node that has
//     the run (found by asking every reachable node once, then
//     remembered). When no reachable node has it and a node is away, the
//     answer is shut_down naming the nodes away: the run may be there and
//     is unavailable, not lost, until its node returns and resumes it.
//   * subscribe / unsubscribe: to every node, including those that join or
//     return later, so a subscriber hears every node's events.
//   * decide: to the node that has the request's run (a request id is
//     "RUN/STEP": gateway::run_of_request), whose human gateway holds the
//     request, as signal is routed; an id naming no run: to this node's
//     runtime, which answers as it does for any unknown request.
// Cluster requests of its own:
//   (nodes_atom) -> std::vector<std::string>   "NAME up|away|self" per node
//   (list_atom)  -> std::vector<run_meta>      this node's runs only
//   (where_atom, run id) -> std::string        the node that has the run
//                                                (errors as for status)
//   (service_atom, node, name) -> caf::actor   what node `node` lends by
//       name, made by its own router: service::runtime_name, its
//       runtime's handle; gateway_name and escalation_name, a stand-in for
//       its human gateway or escalation actor that passes on only their
//       public messages (decide, subscribe; esc_assess, esc_outcome,
//       esc_stats: detail/service_facade.hpp). Messages to the handle
//       travel through the node the asker reached it by, unless the asker
//       is connected to `node` itself: ask `node`'s own router for a
//       handle that lasts as long as `node` does. Errors:
//       invalid_argument (no such node), not_found (another name, or the
//       node was taken over: its process's actors are gone), shut_down
//       (the node is away).
// and between nodes (hello_atom, from, its router, its runtime handle, the
// runs it holds whose first choice is the other) -> (name, runtime handle,
// the same list the other way).
//
// A request forwarded to a node that goes away before it answers is
// answered shut_down at once (not after its timeout). Such an answer, or a
// timeout, says the outcome is unknown: the node may have applied it
// before it went. Ask again once it (or its standby) answers: a signal
// sent again with the same request id is journaled once, and a decision
// already applied is answered invalid_state naming who decided. Nodes connect with
// TLS only: each presents a certificate signed by the cluster's CA and
// refuses peers that do not (caf_openssl verifies both sides); a plain
// connection fails its handshake. A node that is away is tried again every
// cluster_config::reconnect. At its start a node holds requests until it
// tried each peer once: one it connects to (the lower name connects) until
// the attempt ends, one that connects to it until its hello or for
// 2 x reconnect + 2 s.
//
// With replication (replication/replication.hpp), the router tells this
// node's stream when its standby comes and goes, and hands the standby
// side's attach requests to this node's replica keeper.
//
// In replication mode takeover (replication.hpp), a node taken over has
// its runs answered by the node that took it over (the routes above go
// there), and its old process is refused.
//
// The actor system must have been configured with prepare_actor_system
// before it started.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>

#include "endure/net/cluster/cluster_config.hpp"
#include "endure/persistence/error.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/run_meta.hpp"

namespace endure::cluster {

class replication;

using nodes_atom = caf::atom_constant<caf::atom("cl_nodes")>;
using list_atom = caf::atom_constant<caf::atom("cl_list")>;
using hello_atom = caf::atom_constant<caf::atom("cl_hello")>;
using where_atom = caf::atom_constant<caf::atom("cl_where")>;
using service_atom = caf::atom_constant<caf::atom("cl_service")>;

/// Loads CAF's middleman and caf_openssl with the cluster's TLS files and
/// registers the service protocol's message types. Before the system starts.
void prepare_actor_system(caf::actor_system_config& cfg, const cluster_config& cluster);

/// This node's runs, with the ones whose meta is damaged apart (the
/// runtime's journal: journal::scan_runs). For list_atom, and for the
/// hello's list of runs held for a peer's ids (a damaged row still names a
/// run this node holds).
using list_runs_fn = std::function<expected<run_listing>()>;

class cluster_node {
public:
  /// Publishes this node (cfg.self) on its address with TLS and starts
  /// connecting to the others. `runtime` is this node's runtime::handle().
  /// Errors: invalid_argument (cfg.self not a node), io_error (the address
  /// cannot be bound, naming it, or the TLS files do not load).
  /// `repl`: this node's replication (null when off); it must outlive
  /// the node.
  static expected<std::unique_ptr<cluster_node>> start(caf::actor_system& sys,
                                                       cluster_config cfg, caf::actor runtime,
                                                       list_runs_fn list_runs,
                                                       const replication* repl = nullptr);
  ~cluster_node();
  cluster_node(const cluster_node&) = delete;
  cluster_node& operator=(const cluster_node&) = delete;

  /// The router (service protocol, see above).
  const caf::actor& handle() const noexcept { return router_; }
  /// The port it listens on.
  std::uint16_t port() const noexcept { return port_; }

private:
  cluster_node(caf::actor router, std::uint16_t port) : router_(std::move(router)), port_(port) {}
  caf::actor router_;
  std::uint16_t port_;
};

/// A client's connection (no node of its own): node `at`'s router over
/// TLS, with the TLS files prepare_actor_system put in `sys`. Errors:
/// shut_down naming the node when it cannot be reached or refuses the
/// handshake (a certificate its CA did not sign).
expected<caf::actor> connect(caf::actor_system& sys, const node_address& at);

} // namespace endure::cluster
