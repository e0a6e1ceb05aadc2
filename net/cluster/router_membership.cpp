// The cluster router: peers connecting, greeting (hello) and going away
// (detail/router.hpp).
#include "endure/net/cluster/detail/router.hpp"

#include <caf/io/middleman.hpp>
#include <caf/openssl/all.hpp>

#include "endure/net/cluster/placement.hpp"
#include "endure/net/cluster/replication/protocol.hpp"
#include "endure/persistence/log.hpp"

namespace endure::cluster::router_detail {

using namespace std::chrono_literals;

void send_subscriptions(node_actor* self, member& m) {
  for (auto& [addr, sub] : self->state.subscribers)
    self->request(m.runtime, lookup_timeout, svc::subscribe_atom::value, sub.first, sub.second)
      .then([](caf::ok_atom) {}, [](caf::error&) {});
}

void fail_pending(member& m) {
  auto pending = std::move(m.pending);
  m.pending.clear();
  for (auto& [token, rp] : pending)
    rp.deliver(to_caf_error(errc::shut_down,
                            "node " + m.name + " went away with the request in hand; its runs "
                            "resume when it returns (ask again then)"));
}

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

void when_settled(node_actor* self, std::function<void()> f) {
  if (self->state.untried.empty())
    f();
  else
    self->state.queued.push_back(std::move(f));
}

bool initiates(node_actor* self, const std::string& peer) { return self->state.cfg.self < peer; }

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

} // namespace endure::cluster::router_detail
