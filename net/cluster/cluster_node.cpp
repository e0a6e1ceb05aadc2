// The cluster router (cluster_node.hpp): one event-based actor per node
// holding the members (this node and its peers), where runs were found,
// and the subscribers every node is told about. This file: its members,
// lookups, behavior and the public API; detail/router.hpp lists the rest.
#include "endure/net/cluster/cluster_node.hpp"
#include "endure/net/cluster/detail/router.hpp"
#include "endure/net/cluster/detail/service_facade.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/function_view.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/openssl/all.hpp>

#include <algorithm>

#include "endure/actors/gateway/withdraw.hpp"
#include "endure/net/cluster/detail/ssl_error_queue.hpp"
#include "endure/net/cluster/placement.hpp"
#include "endure/net/cluster/replication/protocol.hpp"
#include "endure/net/cluster/replication/replication.hpp"


namespace endure::cluster {

namespace router_detail {

member& self_member(node_actor* self) { return self->state.members.at(self->state.cfg.self); }

bool hosted_here(node_actor* self, const member& m) {
  return m.hosted_by == self->state.cfg.self;
}

bool answers_for(node_actor* self, const std::string& first, const std::string& by) {
  return first == by || self->state.members.at(first).hosted_by == by;
}

std::string away_text(const std::vector<std::string>& away) {
  std::string out;
  for (auto& n : away)
    out += (out.empty() ? "" : ", ") + n;
  return out;
}

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

void named_actor(node_actor* self, guarded_reply rp, const std::string& node,
                 caf::atom_value name) {
  auto& st = self->state;
  auto it = st.members.find(node);
  if (it == st.members.end())
    return rp.deliver(to_caf_error(errc::invalid_argument,
                                   "no node '" + node + "' in this cluster"));
  auto& m = it->second;
  if (!m.hosted_by.empty())
    return rp.deliver(to_caf_error(
      errc::not_found, "node " + node + " was taken over by " + m.hosted_by
                         + ": its process and its named actors are gone; its runs' requests "
                           "are decided through any node (decide)"));
  if (!m.is_self && !m.up)
    return rp.deliver(to_caf_error(errc::shut_down, "node " + node + " is away: ask again when "
                                                    "it returns"));
  if (!m.is_self)
    return forward_seen_to<caf::actor>(self, m, m.router, rp, caf::duration{lookup_timeout},
                                       [](const caf::error*) {}, service_atom::value, node,
                                       name);
  if (name == svc::runtime_name)  // its protocol is all public
    return rp.deliver(self_member(self).runtime);
  if (!has_facade(name))
    return rp.deliver(to_caf_error(
      errc::not_found, "node " + node + " lends nothing named '" + caf::to_string(name)
                         + "' to other nodes (endure, endure_gw, endure_esc)"));
  auto& facade = st.facades[name];
  if (!facade)
    facade = spawn_service_facade(self, name);
  rp.deliver(facade);
}

} // namespace router_detail

namespace {

using namespace std::chrono_literals;
using namespace router_detail;

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
      auto run = gateway::run_of_request(request);
      if (!run)  // no run named in it: the runtime's own answer
        return forward<std::string>(self, self_member(self), promise(), plain,
                                    svc::decide_atom::value, request, principal, decision,
                                    payload, channel);
      route<std::string>(self, promise(), *run, plain, svc::decide_atom::value, request,
                         principal, decision, payload, channel);
    },
    [self, promise, plain](service_atom, const std::string& node, caf::atom_value name) {
      named_actor(self, promise(), node, name);
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
