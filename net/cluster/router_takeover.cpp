// The cluster router in mode takeover (detail/router.hpp): a standby
// watching the node it keeps a replica of, taking it over with a majority,
// telling every node, and fencing the old owner's process.
#include "endure/net/cluster/detail/router.hpp"

#include "endure/net/cluster/replication/protocol.hpp"
#include "endure/persistence/log.hpp"

namespace endure::cluster::router_detail {

using namespace std::chrono_literals;

void fenced_by_peer(node_actor* self, const std::string& why) {
  auto& st = self->state;
  if (st.repl_source)
    self->send(st.repl_source, replication_detail::fenced_atom::value, why);
  else
    log::error("node " + st.cfg.self + ": " + why);
}

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

void watch_for_takeover(node_actor* self, const std::string& name) {
  auto& st = self->state;
  if (st.takeover.count() == 0 || st.cfg.standby_of(name) != st.cfg.self)
    return;
  self->delayed_send(self, st.takeover, takeover_check_atom::value, name, ++st.absence[name]);
}

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

} // namespace endure::cluster::router_detail
