// The cluster router's state and its functions, shared by the files that
// make up the router actor (cluster_node.hpp has the contract):
//   cluster_node.cpp       members, lookups, the behavior, the public API;
//   router_membership.cpp  peers connecting, greeting and going away;
//   router_takeover.cpp    mode takeover: watching, taking over, fencing;
//   router_start.cpp       where a new run starts.
// All of it runs inside the router actor (one node_actor per node), so
// none of it locks. Internal to net/cluster.
#pragma once

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "endure/actors/detail/caf_error.hpp"
#include "endure/actors/detail/guarded_reply.hpp"
#include "endure/actors/service/protocol.hpp"
#include "endure/net/cluster/cluster_node.hpp"

namespace endure::cluster::router_detail {

using endure::detail::guarded_reply;
using endure::detail::to_caf_error;
namespace svc = endure::service;

using connect_atom = caf::atom_constant<caf::atom("cl_connect")>;
using boot_atom = caf::atom_constant<caf::atom("cl_boot")>;
using settle_atom = caf::atom_constant<caf::atom("cl_settle")>;
/// (first_start_atom, workflow, id, input) -> (run_meta, node): a start at
/// the id's first choice (start_as_first_choice).
using first_start_atom = caf::atom_constant<caf::atom("cl_first")>;
/// (placed_start_atom, workflow, id, input, on) -> run_meta: a start placed
/// on this node past the id's first choice (start_by_lookup), for node `on`
/// (this node, or one it took over).
using placed_start_atom = caf::atom_constant<caf::atom("cl_placed")>;
/// (spill_atom, from, ids): runs of this node's ids that `from` holds; a
/// full list (replacing the last) after a hello, one id after a start.
using spill_atom = caf::atom_constant<caf::atom("cl_spill")>;
using spill_list_atom = caf::atom_constant<caf::atom("cl_spills")>;
/// Node X -> a peer's router (taken_atom, NAME, X, runtime): X took NAME
/// over and runs its runs on `runtime` (mode takeover).
using taken_atom = caf::atom_constant<caf::atom("cl_taken")>;
/// A node's own timer: NAME has been away for takeover_ms (if `generation`
/// is still its absence's).
using takeover_check_atom = caf::atom_constant<caf::atom("cl_tkcheck")>;

/// How long a node may take to answer a forwarded request beyond the
/// request's own time (a wait), and a lookup.
constexpr auto forward_slack = std::chrono::seconds{30};
constexpr auto lookup_timeout = std::chrono::seconds{5};
/// Runs whose node is remembered; past it the memory starts over (a
/// lookup costs one round to every node).
constexpr std::size_t max_located = 100'000;

struct member {
  std::string name, host;
  std::uint16_t port = 0;
  bool is_self = false;
  bool up = false;
  bool connecting = false;
  caf::actor router;   ///< its cluster actor
  caf::actor runtime;  ///< its runtime::handle()
  /// Taken over (mode takeover): the node that runs its runs now, on
  /// `runtime`, with `router` that node's router (this node: itself).
  std::string hosted_by;
  /// Requests forwarded to it and not yet answered (answered shut_down
  /// when it goes away).
  std::map<std::uint64_t, guarded_reply> pending;
};

struct node_state {
  cluster_config cfg;
  list_runs_fn list_runs;
  std::map<std::string, member> members;
  std::vector<std::string> names;
  std::unordered_map<std::string, std::string> located;  ///< run -> node
  /// Runs whose first choice is this node but that another node holds
  /// (started while this node was away), as that node said in its hello:
  /// run -> node. This node answers starts of its ids from it alone.
  std::unordered_map<std::string, std::string> spilled;
  std::map<caf::actor_addr, std::pair<caf::actor, bool>> subscribers;
  /// Peers not tried yet: requests wait until each was tried once, so a
  /// new run is not placed past a node that is merely still connecting.
  /// A peer that connects to this node counts as tried at its hello, or
  /// when it has had time to say it (settle_time()).
  std::set<std::string> untried;
  std::vector<std::function<void()>> queued;
  std::uint64_t next_token = 0;
  /// This node's replication stream and replica keeper (null when off).
  caf::actor repl_source, repl_keeper;
  std::string standby;
  /// What the stream was last told of its standby (tell_standby()).
  caf::actor told_standby;
  bool told_alone = false;
  /// Mode takeover: a node whose standby this is is taken over once away
  /// this long (0: never). Each absence of a node has a generation; its
  /// timer is void once the node returns.
  std::chrono::milliseconds takeover{0};
  std::map<std::string, std::uint64_t> absence;
  /// Takeover notices from a node not adopted yet (its notice can pass
  /// the answer to this node's hello): host -> (node, runtime).
  std::map<std::string, std::vector<std::pair<std::string, caf::actor>>> early_notices;
  /// The stand-ins other nodes get for this node's gateway and escalation
  /// actor (service_facade.hpp), made on first request.
  std::map<caf::atom_value, caf::actor> facades;
  static inline const char* name = "endure.cluster_node";
};

using node_actor = caf::stateful_actor<node_state>;

// ---- Members and where runs are (cluster_node.cpp)

/// This node's own member.
member& self_member(node_actor* self);

/// Whether `m`'s runs run here (this node took it over).
bool hosted_here(node_actor* self, const member& m);

/// Whether runs whose first choice is `first` are answered by node `by`
/// (`first` itself, or the node that took it over).
bool answers_for(node_actor* self, const std::string& first, const std::string& by);

/// "a, b": the nodes an unavailable run may be on.
std::string away_text(const std::vector<std::string>& away);

/// Calls k with the member that has run `id`, or with null and the nodes
/// that are away (the run may be on one of them) when no reachable one has it.
void locate(node_actor* self, const std::string& id,
            std::function<void(member*, std::vector<std::string>)> k);

/// The answer for run `id` on no reachable node: unavailable, not lost.
caf::error unavailable(const std::string& id, const std::vector<std::string>& away);

/// The node that has run `id` (where_atom).
void where(node_actor* self, guarded_reply rp, const std::string& id);

/// What node `node` lends under `name` (service_atom): its runtime's
/// handle, or a facade of its gateway or escalation actor; made here for
/// this node, else asked of that node's router.
void named_actor(node_actor* self, guarded_reply rp, const std::string& node,
                 caf::atom_value name);

// ---- Peers joining, leaving and greeting (router_membership.cpp)

/// Tells `m` about every subscriber (a node that joined or returned).
void send_subscriptions(node_actor* self, member& m);

/// Answers shut_down every request forwarded to `m` and not answered yet.
void fail_pending(member& m);

/// This node's runs whose first choice is `peer` (for its hello).
std::vector<std::string> spills_for(node_actor* self, const std::string& peer);

/// What `peer` said it holds of this node's ids (replacing what it said
/// before).
void take_spills(node_actor* self, const std::string& peer, const std::vector<std::string>& ids);

/// Peer `name` is up at `router` (its hello, or its answer to this
/// node's): it hears this node's subscribers, spills and takeovers, and a
/// takeover pending for it is void. A peer taken over is told it is
/// fenced instead.
void adopt(node_actor* self, const std::string& name, caf::actor router, caf::actor runtime,
           const std::vector<std::string>& spills);

/// Peer `name` was tried once (greeted, refused, or its settle time
/// passed): requests queued until every peer was tried go on after the last.
void tried(node_actor* self, const std::string& name);

/// Once every peer was tried: now, or after.
void when_settled(node_actor* self, std::function<void()> f);

/// One connection per pair of nodes: the node whose name sorts first
/// connects, the other waits for its hello (two connections between the
/// same two CAF nodes lose messages).
bool initiates(node_actor* self, const std::string& peer);

/// How long a node waits at its start for the hello of a peer that
/// connects to it: the peer tries every `reconnect`, and a TLS connection
/// and the hello take a moment more.
std::chrono::milliseconds settle_time(node_actor* self);

void connect_to(node_actor* self, const std::string& name);

/// Peer `m`'s router went down: requests in its hand fail, its standby
/// watches for a takeover, and the node that initiates tries again.
void went_away(node_actor* self, member& m);

// ---- Takeover (router_takeover.cpp)

/// A node said this one was taken over: its stream fails every commit
/// from now on (journal_source), and the process stops.
void fenced_by_peer(node_actor* self, const std::string& why);

/// Tells this node's stream where its standby is when that changed: the
/// configured node, or the node that took it over (which keeps this node's
/// replica from then on); a null router while it is away; alone_atom when
/// this node took its own standby over (no copy is left to keep).
void tell_standby(node_actor* self);

/// Mode takeover, on this node being `name`'s standby: takes it over once
/// it has been away for takeover_ms.
void watch_for_takeover(node_actor* self, const std::string& name);

/// Node `name`'s runs run here now, on `runtime` (this node took it over):
/// every peer hears it, and a process of `name` still connected is fenced.
void host_here(node_actor* self, const std::string& name, caf::actor runtime);

/// `name` has been away for takeover_ms (unless it returned since).
void take_over(node_actor* self, const std::string& name, std::uint64_t absence);

/// A peer says node `host` took `name` over and runs its runs on
/// `runtime`.
void taken_by_peer(node_actor* self, const std::string& name, const std::string& host,
                   caf::actor runtime);

// ---- Starts (router_start.cpp)

/// Remembers that run `id` is on node `name` (a start took it there).
void remember(node_actor* self, const std::string& id, const std::string& name);

/// After a start that `name` answered with `e`: forgets that run `id` is
/// there unless the node may have made it (went away, timed out).
void forget_refused(node_actor* self, const std::string& id, const std::string& name,
                    const caf::error& e);

/// A start this node answers as the id's first choice (here, or for a
/// router that sent it): at the node that holds a run of the id started
/// while this node was away (it said so in its hello), else here. Answers
/// the run and the node that has it.
void start_as_first_choice(node_actor* self, guarded_reply rp, const std::string& workflow,
                           const std::string& id, const std::string& input);

/// A start whose first choice is away: to the node that already has the
/// id if a reachable one does (asked once each), else to the first node of
/// the ranking that is up.
void start_by_lookup(node_actor* self, guarded_reply rp, const std::string& workflow,
                     const std::string& id, const std::string& input);

/// A start placed here past the id's first choice F: to F after all if
/// this node sees it up (the router that placed it saw it away: a cut
/// link); else here, and F hears of the run as soon as it is up here.
void placed_start(node_actor* self, guarded_reply rp, const std::string& workflow,
                  const std::string& id, const std::string& input, const std::string& on);

/// A start: one round trip to the id's first choice when it is up (it
/// alone knows whether the id was started elsewhere while it was away),
/// else by lookup.
void start_run(node_actor* self, guarded_reply rp, const std::string& workflow,
               const std::string& id, const std::string& input);
// ---- Forwarding (templates: each request type has its reply type)

/// Sends xs to `m`'s runtime and answers `rp` with its reply (type Reply)
/// or error; shut_down at once if `m` goes away first. `seen` is called
/// with the error (null on success) before the answer.
template <class Reply, class... Ts>
void forward_seen_to(node_actor* self, member& m, const caf::actor& target, guarded_reply rp,
                     caf::duration timeout, std::function<void(const caf::error*)> seen,
                     Ts... xs) {
  auto token = ++self->state.next_token;
  m.pending.emplace(token, rp);
  auto done = [self, name = m.name, token] {
    auto it = self->state.members.find(name);
    if (it != self->state.members.end())
      it->second.pending.erase(token);
  };
  self->request(target, timeout, std::move(xs)...)
    .then([rp, done, seen](Reply& r) { done(); seen(nullptr); rp.deliver(std::move(r)); },
          [rp, done, seen](caf::error& e) { done(); seen(&e); rp.deliver(std::move(e)); });
}

template <class Reply, class... Ts>
void forward_seen(node_actor* self, member& m, guarded_reply rp, caf::duration timeout,
                  std::function<void(const caf::error*)> seen, Ts... xs) {
  auto target = m.runtime;
  forward_seen_to<Reply>(self, m, target, std::move(rp), timeout, std::move(seen),
                         std::move(xs)...);
}

/// Sends xs to `m`'s runtime and answers `rp` with its reply (type Reply)
/// or error; shut_down at once if `m` goes away first.
template <class Reply, class... Ts>
void forward(node_actor* self, member& m, guarded_reply rp, caf::duration timeout, Ts... xs) {
  forward_seen<Reply>(self, m, std::move(rp), timeout, [](const caf::error*) {}, std::move(xs)...);
}

/// Routes a request about an existing run: to its node, or an answer
/// saying it is not found / unavailable.
template <class Reply, class... Ts>
void route(node_actor* self, guarded_reply rp, const std::string& id, caf::duration timeout,
           Ts... xs) {
  when_settled(self, [=] {
    locate(self, id, [=](member* m, std::vector<std::string> away) {
      if (m)
        return forward<Reply>(self, *m, rp, timeout, xs...);
      if (!away.empty())
        return rp.deliver(unavailable(id, away));
      forward<Reply>(self, self_member(self), rp, timeout, xs...);  // the runtime's own not_found
    });
  });
}

} // namespace endure::cluster::router_detail
