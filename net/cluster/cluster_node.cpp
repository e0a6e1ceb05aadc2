// The cluster router (cluster_node.hpp): one event-based actor per node
// holding the members (this node and its peers), where runs were found,
// and the subscribers every node is told about.
#include "endure/net/cluster/cluster_node.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/function_view.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/openssl/all.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "endure/actors/detail/caf_error.hpp"
#include "endure/actors/detail/guarded_reply.hpp"
#include "endure/actors/service/protocol.hpp"
#include "endure/net/cluster/detail/ssl_error_queue.hpp"
#include "endure/net/cluster/placement.hpp"
#include "endure/net/cluster/replication/protocol.hpp"
#include "endure/net/cluster/replication/replication.hpp"
#include "endure/persistence/log.hpp"

namespace endure::cluster {

namespace {

using namespace std::chrono_literals;
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
constexpr auto forward_slack = 30s;
constexpr auto lookup_timeout = 5s;
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
  static inline const char* name = "endure.cluster_node";
};

using node_actor = caf::stateful_actor<node_state>;

member& self_member(node_actor* self) { return self->state.members.at(self->state.cfg.self); }

/// Whether `m`'s runs run here (this node took it over).
bool hosted_here(node_actor* self, const member& m) {
  return m.hosted_by == self->state.cfg.self;
}

/// Whether runs whose first choice is `first` are answered by node `by`
/// (`first` itself, or the node that took it over).
bool answers_for(node_actor* self, const std::string& first, const std::string& by) {
  return first == by || self->state.members.at(first).hosted_by == by;
}

/// Tells this node's stream where its standby is when that changed: the
/// configured node, or the node that took it over (which keeps this node's
/// replica from then on); a null router while it is away; alone_atom when
/// this node took its own standby over (no copy is left to keep).
void tell_standby(node_actor* self) {
  auto& st = self->state;
  if (!st.repl_source || st.standby.empty())
    return;
  auto* s = &st.members.at(st.standby);
  if (!s->hosted_by.empty())
    s = &st.members.at(s->hosted_by);
  if (s->is_self) {
    if (!st.told_alone)
      self->send(st.repl_source, replication_detail::alone_atom::value);
    st.told_alone = true;
    st.told_standby = nullptr;
    return;
  }
  auto router = s->up ? s->router : caf::actor{};
  if (router == st.told_standby && !st.told_alone)
    return;
  st.told_alone = false;
  st.told_standby = router;
  self->send(st.repl_source, replication_detail::standby_atom::value, router);
}

/// A node said this one was taken over: its stream fails every commit
/// from now on (journal_source), and the process stops.
void fenced_by_peer(node_actor* self, const std::string& why) {
  auto& st = self->state;
  if (st.repl_source)
    self->send(st.repl_source, replication_detail::fenced_atom::value, why);
  else
    log::error("node " + st.cfg.self + ": " + why);
}

std::string away_text(const std::vector<std::string>& away) {
  std::string out;
  for (auto& n : away)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

/// Tells `m` about every subscriber (a node that joined or returned).
void send_subscriptions(node_actor* self, member& m) {
  for (auto& [addr, sub] : self->state.subscribers)
    self->request(m.runtime, lookup_timeout, svc::subscribe_atom::value, sub.first, sub.second)
      .then([](caf::ok_atom) {}, [](caf::error&) {});
}

/// Answers shut_down every request forwarded to `m` and not answered yet.
void fail_pending(member& m) {
  auto pending = std::move(m.pending);
  m.pending.clear();
  for (auto& [token, rp] : pending)
    rp.deliver(to_caf_error(errc::shut_down,
                            "node " + m.name + " went away with the request in hand; its runs "
                            "resume when it returns (ask again then)"));
}

/// This node's runs whose first choice is `peer` (for its hello).
std::vector<std::string> spills_for(node_actor* self, const std::string& peer) {
  std::vector<std::string> out;
  auto listing = self->state.list_runs();
  if (!listing) {
    log::warn("node " + self->state.cfg.self + " cannot list its runs for node " + peer +
                "'s hello: " + listing.error().message + "; " + peer +
                " will not know which of its ids have their run here");
    return out;
  }
  auto take = [&](const std::string& id) {
    if (answers_for(self, rank_nodes(id, self->state.names).front(), peer))
      out.push_back(id);
  };
  for (auto& r : listing->runs)
    take(r.id);
  for (auto& d : listing->damaged)
    take(d.id);
  return out;
}

/// What `peer` said it holds of this node's ids (replacing what it said
/// before).
void take_spills(node_actor* self, const std::string& peer, const std::vector<std::string>& ids) {
  auto& st = self->state;
  for (auto it = st.spilled.begin(); it != st.spilled.end();)
    it = it->second == peer ? st.spilled.erase(it) : std::next(it);
  for (auto& id : ids)
    if (answers_for(self, rank_nodes(id, st.names).front(), st.cfg.self))
      st.spilled[id] = peer;
}

void adopt(node_actor* self, const std::string& name, caf::actor router, caf::actor runtime,
           const std::vector<std::string>& spills) {
  auto it = self->state.members.find(name);
  if (it == self->state.members.end() || it->second.is_self)
    return;
  auto& m = it->second;
  if (!m.hosted_by.empty())  // taken over: this process of it is fenced
    return self->send(router, replication_detail::fenced_atom::value,
                      "node " + m.hosted_by + " took it over");
  ++self->state.absence[name];  // a takeover pending for it is void
  take_spills(self, name, spills);
  if (m.up && m.router == router)
    return;
  // A node that restarted says hello before its old incarnation's down
  // message may arrive (which then no longer matches m.router): what was
  // forwarded to the old one will not be answered.
  if (m.up)
    fail_pending(m);
  m.router = std::move(router);
  m.runtime = std::move(runtime);
  m.up = true;
  self->monitor(m.router);
  send_subscriptions(self, m);
  // The hello's list was read before the hello: runs made since then are
  // in this one, and any made later are pushed one by one (placed_start).
  self->send(m.router, spill_list_atom::value, self->state.cfg.self, spills_for(self, name));
  tell_standby(self);
  for (auto& [hosted, hm] : self->state.members)
    if (hosted_here(self, hm))
      self->send(m.router, taken_atom::value, hosted, self->state.cfg.self, hm.runtime);
  if (auto early = self->state.early_notices.find(name);
      early != self->state.early_notices.end()) {
    auto notices = std::move(early->second);
    self->state.early_notices.erase(early);
    for (auto& [taken, runtime] : notices)
      self->send(self, taken_atom::value, taken, name, runtime);
  }
}

void tried(node_actor* self, const std::string& name) {
  auto& st = self->state;
  if (!st.untried.erase(name) || !st.untried.empty())
    return;
  auto queued = std::move(st.queued);
  for (auto& f : queued)
    f();
}

/// Once every peer was tried: now, or after.
void when_settled(node_actor* self, std::function<void()> f) {
  if (self->state.untried.empty())
    f();
  else
    self->state.queued.push_back(std::move(f));
}

/// One connection per pair of nodes: the node whose name sorts first
/// connects, the other waits for its hello (two connections between the
/// same two CAF nodes lose messages).
bool initiates(node_actor* self, const std::string& peer) { return self->state.cfg.self < peer; }

/// How long a node waits at its start for the hello of a peer that
/// connects to it: the peer tries every `reconnect`, and a TLS connection
/// and the hello take a moment more.
std::chrono::milliseconds settle_time(node_actor* self) {
  return self->state.cfg.reconnect * 2 + std::chrono::seconds{2};
}

void connect_to(node_actor* self, const std::string& name) {
  auto it = self->state.members.find(name);
  if (it == self->state.members.end())  // the router is published: anyone may send this
    return;
  auto& m = it->second;
  if (m.up || m.connecting || !initiates(self, name))
    return;
  m.connecting = true;
  auto retry = [self, name] {
    self->state.members.at(name).connecting = false;
    self->delayed_send(self, self->state.cfg.reconnect, connect_atom::value, name);
    tried(self, name);
  };
  auto mm = self->home_system().openssl_manager().actor_handle();
  self->request(mm, 10s, caf::connect_atom::value, m.host, m.port)
    .then(
      [self, name, retry](const caf::node_id&, caf::strong_actor_ptr& ptr,
                          const std::set<std::string>&) {
        auto router = caf::actor_cast<caf::actor>(ptr);
        if (!router)
          return retry();
        self->request(router, 10s, hello_atom::value, self->state.cfg.self,
                      caf::actor_cast<caf::actor>(self), self_member(self).runtime,
                      spills_for(self, name))
          .then(
            [self, name, router](const std::string& said, const caf::actor& runtime,
                                 const std::vector<std::string>& spills) {
              self->state.members.at(name).connecting = false;
              if (said == name)
                adopt(self, name, router, runtime, spills);
              else
                self->delayed_send(self, self->state.cfg.reconnect, connect_atom::value, name);
              tried(self, name);
            },
            [self, retry](caf::error& e) {
              // A peer refuses the hello of a node it knows was taken over.
              auto why = endure::detail::from_caf_error(e, "");
              if (why.code == errc::invalid_state)
                fenced_by_peer(self, why.message);
              retry();
            });
      },
      [retry](caf::error&) { retry(); });
}

/// Mode takeover, on this node being `name`'s standby: takes it over once
/// it has been away for takeover_ms.
void watch_for_takeover(node_actor* self, const std::string& name) {
  auto& st = self->state;
  if (st.takeover.count() == 0 || st.cfg.standby_of(name) != st.cfg.self)
    return;
  self->delayed_send(self, st.takeover, takeover_check_atom::value, name, ++st.absence[name]);
}

void went_away(node_actor* self, member& m) {
  // A node taken over stays so while the node running it is away: its own
  // process is refused meanwhile (adopt), and its runs are unavailable.
  if (m.hosted_by.empty())
    watch_for_takeover(self, m.name);
  m.up = false;
  m.router = nullptr;
  m.runtime = nullptr;
  tell_standby(self);
  fail_pending(m);
  if (initiates(self, m.name))
    self->delayed_send(self, self->state.cfg.reconnect, connect_atom::value, m.name);
}

/// Node `name`'s runs run here now, on `runtime` (this node took it over):
/// every peer hears it, and a process of `name` still connected is fenced.
void host_here(node_actor* self, const std::string& name, caf::actor runtime) {
  auto& st = self->state;
  auto& m = st.members.at(name);
  if (m.up && m.hosted_by.empty() && m.router) {
    self->send(m.router, replication_detail::fenced_atom::value,
               "node " + st.cfg.self + " took it over");
    fail_pending(m);
  }
  m.up = true;
  m.router = caf::actor_cast<caf::actor>(self);
  m.runtime = std::move(runtime);
  m.hosted_by = st.cfg.self;
  send_subscriptions(self, m);
  tell_standby(self);
  for (auto& [peer, pm] : st.members)
    if (pm.up && !pm.is_self && pm.hosted_by.empty())
      self->send(pm.router, taken_atom::value, name, st.cfg.self, m.runtime);
}

/// `name` has been away for takeover_ms (unless it returned since).
void take_over(node_actor* self, const std::string& name, std::uint64_t absence) {
  auto& st = self->state;
  auto it = st.members.find(name);
  if (it == st.members.end() || it->second.up || st.absence[name] != absence || !st.repl_keeper)
    return;
  // Only with a majority: a node cut off from the others must not take
  // over a node that runs on where the majority sees it (the other side
  // takes this one over instead).
  std::size_t live = 0;
  for (auto& [peer, pm] : st.members)
    live += pm.is_self || (pm.up && pm.hosted_by.empty()) ? 1 : 0;
  if (live * 2 <= st.members.size()) {
    log::warn("node " + st.cfg.self + ": node " + name + " has been away for "
              + std::to_string(st.takeover.count()) + " ms, but this node reaches "
              + std::to_string(live) + " of " + std::to_string(st.members.size())
              + " nodes (itself included): no takeover without a majority");
    return watch_for_takeover(self, name);
  }
  log::warn("node " + st.cfg.self + ": node " + name + " has been away for "
            + std::to_string(st.takeover.count()) + " ms; taking it over");
  self->request(st.repl_keeper, 120s, replication_detail::take_over_atom::value, name)
    .then([self, name](caf::actor& runtime) { host_here(self, name, std::move(runtime)); },
          [self, name](caf::error& e) {
            log::error("node " + self->state.cfg.self + " cannot take node " + name + " over: "
                       + endure::detail::from_caf_error(e, "").message
                       + "; its runs stay unavailable until it returns (tried again later)");
            if (!self->state.members.at(name).up)
              watch_for_takeover(self, name);
          });
}

/// A peer says node `host` took `name` over and runs its runs on
/// `runtime`.
void taken_by_peer(node_actor* self, const std::string& name, const std::string& host,
                   caf::actor runtime) {
  auto& st = self->state;
  auto it = st.members.find(name);
  auto h = st.members.find(host);
  if (it == st.members.end() || h == st.members.end() || h->second.is_self)
    return;
  if (!h->second.up) {  // its hello's answer is still on its way: after it
    st.early_notices[host].emplace_back(name, std::move(runtime));
    return;
  }
  auto& m = it->second;
  if (m.is_self)
    return fenced_by_peer(self, "node " + host + " took it over");
  if (m.up && m.hosted_by == host && m.runtime == runtime)
    return;
  if (m.up && m.hosted_by.empty() && m.router)  // the old owner, still connected here
    self->send(m.router, replication_detail::fenced_atom::value,
               "node " + host + " took it over");
  if (m.up)
    fail_pending(m);
  m.up = true;
  m.router = h->second.router;
  m.runtime = std::move(runtime);
  m.hosted_by = host;
  ++st.absence[name];
  send_subscriptions(self, m);
  tell_standby(self);
  // The runs held here of the ids `host` now answers for.
  self->send(m.router, spill_list_atom::value, st.cfg.self, spills_for(self, host));
}

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

/// Calls k with the member that has run `id`, or with null and the nodes
/// that are away (the run may be on one of them) when no reachable one has it.
void locate(node_actor* self, const std::string& id,
            std::function<void(member*, std::vector<std::string>)> k) {
  auto& st = self->state;
  if (auto it = st.located.find(id); it != st.located.end()) {
    auto& m = st.members.at(it->second);
    if (m.up || m.is_self)
      return k(&m, {});
    return k(nullptr, {m.name});
  }
  struct lookup {
    std::size_t waiting = 0;
    bool done = false;
    std::vector<std::string> away;
  };
  auto l = std::make_shared<lookup>();
  for (auto& [name, m] : st.members) {
    if (!m.up && !m.is_self)
      l->away.push_back(name);
    else
      ++l->waiting;
  }
  auto finish_one = [self, l, k] {
    if (--l->waiting == 0 && !l->done) {
      l->done = true;
      k(nullptr, l->away);
    }
  };
  for (auto& [name, m] : st.members) {
    if (!m.up && !m.is_self)
      continue;
    self->request(m.runtime, lookup_timeout, svc::status_atom::value, id)
      .then(
        [self, l, k, id, name = name](const run_meta&) {
          if (l->done)
            return;
          l->done = true;
          auto& st = self->state;
          if (st.located.size() >= max_located)
            st.located.clear();
          st.located[id] = name;
          auto& m = st.members.at(name);
          if (m.up || m.is_self)
            k(&m, {});
          else
            k(nullptr, {name});
        },
        [l, finish_one, name = name](caf::error& e) {
          auto why = endure::detail::from_caf_error(e, "");
          if (why.code != errc::not_found)
            l->away.push_back(name);
          finish_one();
        });
  }
}

caf::error unavailable(const std::string& id, const std::vector<std::string>& away) {
  return to_caf_error(errc::shut_down, "run " + id + " is on no reachable node; it may be on "
                                         + away_text(away)
                                         + ", away now: it is unavailable, not lost, and "
                                           "resumes when its node returns");
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

/// The node that has run `id` (where_atom).
void where(node_actor* self, guarded_reply rp, const std::string& id) {
  when_settled(self, [=] {
    locate(self, id, [=](member* m, std::vector<std::string> away) {
      if (m)
        return rp.deliver(m->name);
      if (!away.empty())
        return rp.deliver(unavailable(id, away));
      rp.deliver(to_caf_error(errc::not_found, "no node of the cluster has run " + id));
    });
  });
}

/// Remembers that run `id` is on node `name` (a start took it there).
void remember(node_actor* self, const std::string& id, const std::string& name) {
  auto& st = self->state;
  if (st.located.size() >= max_located)
    st.located.clear();
  st.located[id] = name;
}

/// After a start that `name` answered with `e`: forgets that run `id` is
/// there unless the node may have made it (went away, timed out).
void forget_refused(node_actor* self, const std::string& id, const std::string& name,
                    const caf::error& e) {
  auto code = endure::detail::from_caf_error(e, "").code;
  if (code == errc::shut_down || code == errc::timeout)
    return;
  auto& st = self->state;
  if (auto it = st.located.find(id); it != st.located.end() && it->second == name)
    st.located.erase(it);
}

/// A start this node answers as the id's first choice (here, or for a
/// router that sent it): at the node that holds a run of the id started
/// while this node was away (it said so in its hello), else here. Answers
/// the run and the node that has it.
void start_as_first_choice(node_actor* self, guarded_reply rp, const std::string& workflow,
                           const std::string& id, const std::string& input) {
  when_settled(self, [=] {
    auto& st = self->state;
    auto& first = st.members.at(rank_nodes(id, st.names).front());
    auto* m = hosted_here(self, first) ? &first : &self_member(self);
    if (auto it = st.spilled.find(id); it != st.spilled.end()) {
      m = &st.members.at(it->second);
      if (!m->up)
        return rp.deliver(to_caf_error(
          errc::shut_down, "run " + id + " is on node " + m->name
                             + ", away now: it is unavailable, not lost, and resumes when its "
                               "node returns (start it again then to attach)"));
    }
    auto token = ++st.next_token;
    m->pending.emplace(token, rp);
    self->request(m->runtime, caf::duration{forward_slack}, svc::start_atom::value, workflow, id,
                  input)
      .then(
        [self, rp, token, name = m->name](run_meta& meta) {
          self->state.members.at(name).pending.erase(token);
          rp.deliver(std::move(meta), name);
        },
        [self, rp, token, name = m->name](caf::error& e) {
          self->state.members.at(name).pending.erase(token);
          rp.deliver(std::move(e));
        });
  });
}

/// A start whose first choice is away: to the node that already has the
/// id if a reachable one does (asked once each), else to the first node of
/// the ranking that is up.
void start_by_lookup(node_actor* self, guarded_reply rp, const std::string& workflow,
                     const std::string& id, const std::string& input) {
  locate(self, id, [=](member* m, std::vector<std::string>) {
    auto& st = self->state;
    if (!m) {
      for (auto& name : rank_nodes(id, st.names)) {
        auto& candidate = st.members.at(name);
        if (candidate.up || candidate.is_self) {
          m = &candidate;
          break;
        }
      }
    }
    // Remembered from now (a start the node took in hand when it went
    // away may have made the run), forgotten when the node refused it
    // (an unknown workflow, a bad id: no run there).
    remember(self, id, m->name);
    auto seen = [self, id, name = m->name](const caf::error* e) {
      if (e)
        forget_refused(self, id, name, *e);
    };
    auto target = m->is_self ? caf::actor_cast<caf::actor>(self) : m->router;
    forward_seen_to<run_meta>(self, *m, target, rp, caf::duration{forward_slack + forward_slack},
                              seen, placed_start_atom::value, workflow, id, input, m->name);
  });
}

/// A start placed here past the id's first choice F: to F after all if
/// this node sees it up (the router that placed it saw it away: a cut
/// link); else here, and F hears of the run as soon as it is up here.
void placed_start(node_actor* self, guarded_reply rp, const std::string& workflow,
                  const std::string& id, const std::string& input, const std::string& on) {
  auto& st = self->state;
  auto& first = st.members.at(rank_nodes(id, st.names).front());
  auto target = st.members.find(on);
  auto& here = target != st.members.end() && hosted_here(self, target->second)
                 ? target->second : self_member(self);
  if (hosted_here(self, first))
    return start_as_first_choice(self, rp, workflow, id, input);
  if (!first.is_self && first.up)
    return forward_seen_to<run_meta>(self, first, first.router, rp,
                                     caf::duration{forward_slack + forward_slack},
                                     [](const caf::error*) {}, svc::start_atom::value, workflow,
                                     id, input);
  auto tell = [self, id, name = first.name, holder = here.name](const caf::error* e) {
    if (e)
      return;
    auto& m = self->state.members.at(name);
    if (!m.is_self && m.up)
      self->send(m.router, spill_atom::value, holder, id);
  };
  forward_seen<run_meta>(self, here, rp, caf::duration{forward_slack}, tell,
                         svc::start_atom::value, workflow, id, input);
}

/// A start: one round trip to the id's first choice when it is up (it
/// alone knows whether the id was started elsewhere while it was away),
/// else by lookup.
void start_run(node_actor* self, guarded_reply rp, const std::string& workflow,
               const std::string& id, const std::string& input) {
  when_settled(self, [=] {
    auto& st = self->state;
    if (auto it = st.located.find(id); it != st.located.end()) {
      auto& owner = st.members.at(it->second);
      // Known to be on a node that is away: starting it on another node
      // would make a second run of the id (both resume when it returns).
      if (!owner.up && !owner.is_self)
        return rp.deliver(to_caf_error(
          errc::shut_down, "run " + id + " is on node " + owner.name
                             + ", away now: it is unavailable, not lost, and resumes when its "
                               "node returns (start it again then to attach)"));
      // Remembered on the first choice: ask it again (it knows where the
      // run is, its runtime alone may not).
      if (owner.name != rank_nodes(id, st.names).front())
        return forward<run_meta>(self, owner, rp, caf::duration{forward_slack},
                                 svc::start_atom::value, workflow, id, input);
    }
    auto& first = st.members.at(rank_nodes(id, st.names).front());
    if (!first.up && !first.is_self)
      return start_by_lookup(self, rp, workflow, id, input);
    remember(self, id, first.name);  // until the answer says where (see start_by_lookup)
    auto token = ++st.next_token;
    first.pending.emplace(token, rp);
    auto target = first.is_self ? caf::actor_cast<caf::actor>(self) : first.router;
    self->request(target, caf::duration{forward_slack + forward_slack}, first_start_atom::value,
                  workflow, id, input)
      .then(
        [self, rp, id, token, name = first.name](run_meta& meta, const std::string& holder) {
          self->state.members.at(name).pending.erase(token);
          if (self->state.members.count(holder))
            remember(self, id, holder);
          rp.deliver(std::move(meta));
        },
        [self, rp, id, token, name = first.name](caf::error& e) {
          self->state.members.at(name).pending.erase(token);
          // The first choice answered (it made no run: the holder it knows
          // is away, or refused): forget it. Unanswered (it went away or
          // timed out), it may have made the run: keep it.
          if (e != caf::sec::request_timeout && e != caf::sec::request_receiver_down) {
            auto& st = self->state;
            if (auto it = st.located.find(id); it != st.located.end() && it->second == name)
              st.located.erase(it);
          }
          rp.deliver(std::move(e));
        });
  });
}

caf::behavior node_behavior(node_actor* self) {
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    bool node = false;
    for (auto& [name, m] : st.members)  // a node and those it took over
      if (m.up && m.router && m.router.address() == dm.source) {
        went_away(self, m);
        node = true;
      }
    if (!node)
      st.subscribers.erase(dm.source);
  });
  auto promise = [self] { return guarded_reply{self->make_response_promise()}; };
  auto wait_time = [](std::int64_t ms) {
    // Capped as the runtime caps a wait (ten years): INT64_MAX ms plus the
    // slack overflowed.
    constexpr std::int64_t longest = 10LL * 365 * 24 * 3600 * 1000;
    return caf::duration{std::chrono::milliseconds{std::clamp<std::int64_t>(ms, 0, longest)}
                         + forward_slack};
  };
  caf::duration plain{forward_slack};
  return {
    [self](boot_atom) {
      auto& st = self->state;
      if (st.repl_keeper && st.takeover.count() > 0)  // taken over by an earlier process
        self->request(st.repl_keeper, 120s, replication_detail::hosted_atom::value)
          .then(
            [self](std::vector<std::string>& names, std::vector<caf::actor>& runtimes) {
              for (std::size_t i = 0; i < names.size() && i < runtimes.size(); ++i)
                host_here(self, names[i], runtimes[i]);
            },
            [](caf::error&) {});
      for (auto& [name, m] : self->state.members)
        if (!m.is_self) {
          connect_to(self, name);
          if (!initiates(self, name))
            self->delayed_send(self, settle_time(self), settle_atom::value, name);
        }
    },
    [self](settle_atom, const std::string& name) { tried(self, name); },
    [self](connect_atom, const std::string& name) { connect_to(self, name); },
    [self](takeover_check_atom, const std::string& name, std::uint64_t absence) {
      take_over(self, name, absence);
    },
    [self](taken_atom, const std::string& name, const std::string& host,
           const caf::actor& runtime) {
      if (runtime)
        taken_by_peer(self, name, host, runtime);
    },
    [self](replication_detail::fenced_atom, const std::string& why) {
      fenced_by_peer(self, why);
    },
    [self](hello_atom, const std::string& from, const caf::actor& router,
           const caf::actor& runtime, const std::vector<std::string>& spills)
      -> caf::result<std::string, caf::actor, std::vector<std::string>> {
      auto& st = self->state;
      auto it = st.members.find(from);
      if (it == st.members.end() || it->second.is_self)
        return to_caf_error(errc::invalid_argument,
                            "node '" + from + "' is not a peer in this node's cluster file");
      if (!router || !runtime)
        return to_caf_error(errc::invalid_argument,
                            "hello from node '" + from + "' without its router and runtime");
      if (!it->second.hosted_by.empty())  // invalid_state: the process hears it is fenced
        return to_caf_error(errc::invalid_state,
                            "node " + it->second.hosted_by + " took node " + from
                              + " over; node " + st.cfg.self + " refuses this process of it");
      adopt(self, from, router, runtime, spills);
      tried(self, from);
      return {st.cfg.self, self_member(self).runtime, spills_for(self, from)};
    },
    [self, promise](svc::start_atom, const std::string& workflow, const std::string& id,
                    const std::string& input) { start_run(self, promise(), workflow, id, input); },
    [self, promise](first_start_atom, const std::string& workflow, const std::string& id,
                    const std::string& input) {
      start_as_first_choice(self, promise(), workflow, id, input);
    },
    [self, promise](placed_start_atom, const std::string& workflow, const std::string& id,
                    const std::string& input, const std::string& on) {
      placed_start(self, promise(), workflow, id, input, on);
    },
    [self](spill_atom, const std::string& from, const std::string& id) {
      auto& st = self->state;
      if (st.members.count(from) && from != st.cfg.self
          && answers_for(self, rank_nodes(id, st.names).front(), st.cfg.self))
        st.spilled[id] = from;
    },
    [self](spill_list_atom, const std::string& from, const std::vector<std::string>& ids) {
      auto& st = self->state;
      if (st.members.count(from) && from != st.cfg.self)
        take_spills(self, from, ids);
    },
    [self, promise, plain](svc::signal_atom, const std::string& id, const std::string& name,
                           const std::string& payload) {
      route<caf::ok_atom>(self, promise(), id, plain, svc::signal_atom::value, id, name, payload);
    },
    [self, promise, plain](svc::signal_atom, const std::string& id, const std::string& name,
                           const std::string& payload, const std::string& request) {
      route<caf::ok_atom>(self, promise(), id, plain, svc::signal_atom::value, id, name, payload,
                          request);
    },
    [self, promise, plain](svc::cancel_atom, const std::string& id, const std::string& reason) {
      route<caf::ok_atom>(self, promise(), id, plain, svc::cancel_atom::value, id, reason);
    },
    [self, promise, plain](svc::release_atom, const std::string& id, const std::string& reason) {
      route<caf::ok_atom>(self, promise(), id, plain, svc::release_atom::value, id, reason);
    },
    [self, promise, plain](svc::status_atom, const std::string& id) {
      route<run_meta>(self, promise(), id, plain, svc::status_atom::value, id);
    },
    [self, promise, wait_time](svc::wait_atom, const std::string& id, std::int64_t ms) {
      route<run_outcome>(self, promise(), id, wait_time(ms), svc::wait_atom::value, id, ms);
    },
    [self, promise, plain](svc::usage_atom, const std::string& id) {
      route<run_usage>(self, promise(), id, plain, svc::usage_atom::value, id);
    },
    [self, promise, plain](svc::decide_atom, const std::string& request,
                           const std::string& principal, const std::string& decision,
                           const std::string& payload, const std::string& channel) {
      forward<std::string>(self, self_member(self), promise(), plain, svc::decide_atom::value,
                           request, principal, decision, payload, channel);
    },
    [self](svc::subscribe_atom, const caf::actor& who, bool steps) -> caf::result<caf::ok_atom> {
      auto& st = self->state;
      if (!who)
        return to_caf_error(errc::invalid_argument, "subscribe: no subscriber actor given");
      if (!st.subscribers.count(who.address()))
        self->monitor(who);
      st.subscribers[who.address()] = {who, steps};
      for (auto& [name, m] : st.members)
        if (m.up || m.is_self)
          self->request(m.runtime, lookup_timeout, svc::subscribe_atom::value, who, steps)
            .then([](caf::ok_atom) {}, [](caf::error&) {});
      return caf::ok_atom::value;
    },
    [self](svc::unsubscribe_atom, const caf::actor& who) {
      auto& st = self->state;
      st.subscribers.erase(who.address());
      for (auto& [name, m] : st.members)
        if (m.up || m.is_self)
          self->request(m.runtime, lookup_timeout, svc::unsubscribe_atom::value, who)
            .then([](caf::ok_atom) {}, [](caf::error&) {});
      return caf::ok_atom::value;
    },
    [self](nodes_atom) {
      std::vector<std::string> out;
      for (auto& name : self->state.names) {
        auto& m = self->state.members.at(name);
        out.push_back(name + (m.is_self ? " self" : m.up ? " up" : " away")
                      + (m.hosted_by.empty() ? "" : " (taken over by " + m.hosted_by + ")"));
      }
      return out;
    },
    [self, promise](where_atom, const std::string& id) { where(self, promise(), id); },
    [self](replication_detail::attach_atom a, const std::string& primary, std::uint64_t epoch,
           const caf::actor& source) {
      auto& st = self->state;
      if (st.repl_keeper)
        self->delegate(st.repl_keeper, a, primary, epoch, source);
      else
        self->make_response_promise().deliver(to_caf_error(
          errc::invalid_argument, "node " + st.cfg.self + " keeps no replicas (replication is "
                                  "off in its cluster file)"));
    },
    [self](list_atom) -> caf::result<std::vector<run_meta>> {
      auto listing = self->state.list_runs();
      if (!listing)
        return to_caf_error(listing.error());
      if (!listing->damaged.empty())  // as journal::list_runs: a listing is whole or an error
        return to_caf_error(listing->damaged.front().why);
      return std::move(listing->runs);
    },
  };
}

/// The subscribe handler answers after telling every node: it does so
/// before the replies come back, which is enough (events are hints).
caf::behavior spawn_body(node_actor* self, cluster_config cfg, caf::actor runtime,
                         list_runs_fn list_runs, caf::actor repl_source, caf::actor repl_keeper) {
  auto& st = self->state;
  st.repl_source = std::move(repl_source);
  st.repl_keeper = std::move(repl_keeper);
  st.standby = cfg.standby_of(cfg.self);
  st.takeover = cfg.replication.takeover;
  st.names = cfg.names();
  for (auto& n : cfg.nodes) {
    member m;
    m.name = n.name;
    m.host = n.host;
    m.port = n.port;
    m.is_self = n.name == cfg.self;
    if (m.is_self)
      m.runtime = runtime;
    else  // a peer: connected to (initiates()) or waited for (its hello)
      st.untried.insert(n.name);
    st.members.emplace(n.name, std::move(m));
  }
  st.cfg = std::move(cfg);
  st.list_runs = std::move(list_runs);
  auto b = node_behavior(self);
  return b;
}

} // namespace

void prepare_actor_system(caf::actor_system_config& cfg, const cluster_config& cluster) {
  (void)detail::ssl_error_queue_fix_linked();
  cfg.load<caf::io::middleman>();
  cfg.load<caf::openssl::manager>();
  cfg.openssl_certificate = cluster.tls.certificate;
  cfg.openssl_key = cluster.tls.key;
  cfg.openssl_cafile = cluster.tls.ca;
  cfg.openssl_passphrase = cluster.tls.passphrase;
  if (cluster.failure_detection.count() > 0) {
    // A host that vanishes (power, a cut cable) closes no connection.
    auto timeout = std::chrono::duration_cast<caf::timespan>(cluster.failure_detection);
    cfg.set("middleman.heartbeat-interval", caf::timespan{timeout / 5});
    cfg.set("middleman.connection-timeout", timeout);
  }
  svc::add_message_types(cfg);
  cfg.add_message_type<std::vector<run_meta>>("endure.run_meta_list");
}

expected<std::unique_ptr<cluster_node>> cluster_node::start(caf::actor_system& sys,
                                                            cluster_config cfg,
                                                            caf::actor runtime,
                                                            list_runs_fn list_runs,
                                                            const replication* repl) {
  auto* me = cfg.find(cfg.self);
  if (!me)
    return make_error(errc::invalid_argument,
                      "this node '" + cfg.self + "' is not among the cluster's nodes");
  auto host = me->host;
  auto port = me->port;
  auto router = sys.spawn(spawn_body, std::move(cfg), std::move(runtime), std::move(list_runs),
                          repl ? repl->source() : caf::actor{},
                          repl ? repl->keeper() : caf::actor{});
  auto bound = caf::openssl::publish(router, port, host.c_str(), true);
  if (!bound) {
    caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
    return make_error(errc::io_error, "cannot listen on " + host + ":" + std::to_string(port)
                                        + " with TLS: " + sys.render(bound.error())
                                        + " (is the port taken, or do the TLS files not load?)");
  }
  caf::anon_send(router, boot_atom::value);
  return std::unique_ptr<cluster_node>(new cluster_node(std::move(router), *bound));
}

cluster_node::~cluster_node() {
  // caf/openssl/unpublish.hpp does not compile in CAF 0.17.6: ask its
  // middleman actor directly.
  auto mm = caf::make_function_view(router_.home_system().openssl_manager().actor_handle());
  (void)mm(caf::unpublish_atom::value, router_.address(), port_);
  caf::anon_send_exit(router_, caf::exit_reason::user_shutdown);
}

expected<caf::actor> connect(caf::actor_system& sys, const node_address& at) {
  auto r = caf::openssl::remote_actor(sys, at.host, at.port);
  if (!r)
    return make_error(errc::shut_down,
                      "cannot reach node " + at.name + " at " + at.host + ":"
                        + std::to_string(at.port) + " over TLS: " + sys.render(r.error())
                        + " (is it running, and is this certificate signed by its CA?)");
  return std::move(*r);
}

} // namespace endure::cluster
