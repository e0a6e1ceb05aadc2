// The cluster tests' fixture: three nodes' cluster files (one per process,
// each with its own committed certificate, ports picked free on
// 127.0.0.1), a node as a real child process (cluster_node_child), a
// client's actor system, and a request's answer as an expected.
#pragma once

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <tuple>

#include "endure/actors/atoms.hpp"
#include "endure/actors/events.hpp"
#include "endure/actors/serialization.hpp"
#include "endure/actors/service/protocol.hpp"
#include "endure/endure.hpp"
#include "endure/net/cluster/cluster_node.hpp"
#include "endure/net/cluster/placement.hpp"
#include "support/actor_ask.hpp"
#include "support/child_process.hpp"
#include "support/eventually.hpp"
#include "support/free_port.hpp"
#include "support/temp_dir.hpp"

namespace endure::test::cluster_fixture {

using namespace std::chrono_literals;
namespace svc = endure::service;
namespace cluster = endure::cluster;


inline const std::string certs = std::string{CLUSTER_CERTS_DIR} + "/";
inline const std::vector<std::string> names = {"a", "b", "c"};


/// The three nodes' cluster files (one per process: its own certificate)
/// and a client's.
struct cluster_files {
  test::temp_dir dir;
  std::map<std::string, std::uint16_t> ports;
  /// Appended to every file (e.g. a replication: section).
  std::string extra;
  /// Node -> the port the other nodes' files give for it (a tcp_proxy in
  /// front of it); its own file keeps the port it listens on.
  std::map<std::string, std::uint16_t> via;

  explicit cluster_files(std::string extra_yaml = {}) : extra(std::move(extra_yaml)) {
    auto picked = test::free_ports(names.size());
    for (std::size_t i = 0; i < names.size(); ++i)
      ports[names[i]] = picked[i];
    for (auto& n : names)
      write(n, "node-" + n, "cluster-ca", n);
    write("client", "client", "cluster-ca");
    write("rogue", "rogue", "rogue-ca");
  }
  void write(const std::string& file, const std::string& cert, const std::string& ca,
             const std::string& node = {}) const {
    std::ofstream out{path(file)};
    if (!node.empty())
      out << "node: " << node << "\n";
    out << "tls:\n  certificate: " << certs << cert << ".pem\n  key: " << certs << cert
        << ".key\n  ca: " << certs << ca << ".pem\nreconnect_ms: 50\nnodes:\n";
    for (auto& n : names) {
      auto port = via.count(n) && n != node ? via.at(n) : ports.at(n);
      out << "  - {name: " << n << ", address: 127.0.0.1:" << port << "}\n";
    }
    out << extra;
  }
  /// Writes the nodes' files again (after `via` changed).
  void rewrite() const {
    for (auto& n : names)
      write(n, "node-" + n, "cluster-ca", n);
  }
  std::string path(const std::string& file) const { return dir.path() + "/" + file + ".yaml"; }
  cluster::node_address address(const std::string& n) const {
    return {n, "127.0.0.1", ports.at(n)};
  }
};

struct node_process {
  std::unique_ptr<test::child_process> child;

  /// `opts.merge_stderr`: its log lines (warnings) come through read_line too.
  node_process(const cluster_files& files, const std::string& name,
               test::child_options opts = {}) {
    child = std::make_unique<test::child_process>(
      std::vector<std::string>{CLUSTER_NODE_CHILD, files.path(name), name,
                               files.dir.path() + "/data-" + name},
      opts);
    // A restarted node's workflows may print while they replay (before
    // the node listens): skip those lines.
    for (int i = 0; i < 100'000; ++i) {
      auto line = child->read_line(20s);
      REQUIRE(line);
      if (line->rfind("ready ", 0) == 0)
        return;
    }
    FAIL("node " << name << " printed no ready line");
  }
};

/// A client process's side: an actor system with the client certificate.
struct client {
  std::unique_ptr<caf::actor_system_config> cfg = std::make_unique<caf::actor_system_config>();
  std::unique_ptr<caf::actor_system> sys;

  explicit client(const cluster_files& files, const std::string& as = "client") {
    auto c = cluster::load_cluster_config(files.path(as));
    REQUIRE(c);
    cluster::prepare_actor_system(*cfg, *c);
    sys = std::make_unique<caf::actor_system>(*cfg);
  }
  /// Connects to `node`'s router. A node that just printed "ready" may
  /// still refuse the first connection on a loaded machine (seen under
  /// ASan on 2 cores, on main too: about 1 in 9 with three tests at once),
  /// so connecting is retried, bounded; the message of the last refusal
  /// is kept.
  caf::actor router(const cluster_files& files, const std::string& node) {
    std::optional<caf::actor> got;
    std::string last;
    bool ok = test::eventually(
      [&] {
        auto r = cluster::connect(*sys, files.address(node));
        if (r)
          got = *r;
        else
          last = r.error().message;
        return r.has_value();
      },
      std::chrono::seconds{20}, std::chrono::milliseconds{50});
    if (!ok)
      FAIL("cannot connect to node " << node << ": " << last);
    return *got;
  }
};

using endure::test::ask;

inline bool all_up(caf::actor_system& sys, const caf::actor& router) {
  auto nodes = ask<std::vector<std::string>>(sys, router, cluster::nodes_atom::value);
  if (!nodes)
    return false;
  for (auto& n : *nodes)
    if (n.find(" away") != std::string::npos)
      return false;
  return true;
}

/// Whether `router`'s node list has the line `line` ("a up (taken over by
/// b)", "c away").
inline bool nodes_say(caf::actor_system& sys, const caf::actor& router, const std::string& line) {
  auto nodes = ask<std::vector<std::string>>(sys, router, cluster::nodes_atom::value);
  return nodes && std::find(nodes->begin(), nodes->end(), line) != nodes->end();
}

/// "acked RUN I VALUE": printed by the test node's step I+1 body, once step
/// I is acknowledged (node_child.cpp).
struct acked_step {
  std::string run;
  int step = 0;
  std::string result;
  bool operator<(const acked_step& o) const {
    return std::tie(run, step) < std::tie(o.run, o.step);
  }
};

inline std::optional<acked_step> parse_ack(const std::string& line) {
  std::istringstream in{line};
  std::string word;
  acked_step a;
  if (!(in >> word) || word != "acked" || !(in >> a.run >> a.step >> a.result))
    return std::nullopt;
  return a;
}

inline std::string run_owned_by(const std::string& node, const std::string& prefix) {
  for (int i = 0; i < 10'000; ++i) {
    auto id = prefix + std::to_string(i);
    if (cluster::rank_nodes(id, names).front() == node)
      return id;
  }
  FAIL("no run id ranks " << node << " first");
  return {};
}

/// Three nodes without replication, all up as the routers of a and c see
/// them, and a client connected to those two.
struct three_nodes {
  cluster_files files;
  node_process a{files, "a"}, b{files, "b"}, c{files, "c"};
  client cl{files};
  caf::actor to_a = cl.router(files, "a");
  caf::actor to_c = cl.router(files, "c");
  three_nodes() {
    REQUIRE(test::eventually([&] { return all_up(*cl.sys, to_a) && all_up(*cl.sys, to_c); },
                             20s));
  }
};

/// Subscribes `watcher` to the lifecycle events of `gateway` (a node's
/// gateway, from service_atom), then asks it to decide an unknown request
/// from the same actor: once that is answered, the subscription is in.
/// The answer's error (not_found expected).
inline caf::error subscribe_to_gateway(caf::scoped_actor& watcher, const caf::actor& gateway) {
  watcher->send(gateway, atoms::subscribe::value, caf::actor{watcher});
  caf::error out = caf::sec::request_timeout;
  watcher->request(gateway, 30s, atoms::decide::value, std::string{"no-such-run/1"},
                   std::string{"ann"}, std::string{"approve"}, std::string{"{}"},
                   std::string{"test"})
    .receive([&](std::string&) { out = caf::error{}; }, [&](caf::error& e) { out = e; });
  return out;
}

/// The id of the request run `run` raised, from the "waiting" event a
/// subscribed `watcher` hears (at most 20 events or 10 s of silence);
/// empty if none came.
inline std::string waiting_request(caf::scoped_actor& watcher, const std::string& run) {
  std::string request;
  for (int i = 0; i < 20 && request.empty(); ++i)
    watcher->receive(
      [&](atoms::gw_event, const std::string& kind, const std::string& rq, const std::string& of,
          const std::string&) {
        if (kind == "waiting" && of == run)
          request = rq;
      },
      caf::after(10s) >> [&] { i = 20; });
  return request;
}

/// `principal` answers question `request` with `text` (decide, respond)
/// through `router`: "decided", or the error.
inline expected<std::string> answer(caf::actor_system& sys, const caf::actor& router,
                                    const std::string& request, const std::string& principal,
                                    const std::string& text) {
  return ask<std::string>(sys, router, svc::decide_atom::value, request, principal,
                          std::string{"respond"}, nlohmann::json{{"text", text}}.dump(),
                          std::string{"cluster-test"});
}

/// The last step of each run a node acknowledged (its "acked" lines).
struct acks_seen {
  std::map<std::string, acked_step> last;  ///< run -> its highest step acknowledged
  std::size_t count = 0;                   ///< "acked" lines taken
  void take(const std::string& line) {
    if (auto ack = parse_ack(line)) {
      ++count;
      auto& l = last[ack->run];
      if (ack->step > l.step)
        l = *ack;
    }
  }
};

/// Starts `n` runs of the test node's workflow "steps" (`steps` steps
/// each) whose ids `node` owns, through `router`; their ids.
inline std::vector<std::string> start_step_runs(caf::actor_system& sys, const caf::actor& router,
                                                const std::string& node,
                                                const std::string& prefix, int n, int steps) {
  std::vector<std::string> runs;
  for (int i = 0; i < n; ++i) {
    runs.push_back(run_owned_by(node, prefix + std::to_string(i) + "-"));
    REQUIRE(ask<run_meta>(sys, router, svc::start_atom::value, std::string{"steps"}, runs.back(),
                          to_bytes(std::to_string(steps))));
  }
  return runs;
}


/// Step name -> result of every completed step of `run` in the journal at
/// `dir`, read as `endure inspect` reads a live one (read-only).
inline std::map<std::string, std::string> completed_steps(const std::string& dir, const std::string& run) {
  std::map<std::string, std::string> out;
  if (!std::filesystem::exists(std::filesystem::path{dir} / "data.mdb"))
    return out;  // no replica yet
  journal_options o;
  o.data_dir = dir;
  o.read_only = true;
  auto j = journal::open(o);
  if (!j)
    return out;  // a replica being installed (moved aside for a moment)
  register_event_types((*j)->types());
  std::map<std::uint64_t, std::string> name_of;  // step number -> name (step_started)
  auto recs = (*j)->read(run);
  if (!recs && recs.error().code == errc::not_found)
    return out;
  REQUIRE(recs);
  for (auto& r : *recs) {
    auto e = decode_event(r.rec, run, r.seq);
    REQUIRE(e);
    if (auto* s = std::get_if<step_started_event>(&*e))
      name_of[s->step] = s->name;
    if (auto* c = std::get_if<step_completed_event>(&*e)) {
      auto name = c->name.empty() ? name_of[c->step] : c->name;
      CHECK(out.count(name) == 0);  // no step completed twice
      out[name] = from_bytes<std::string>(c->result);
    }
  }
  return out;
}


} // namespace endure::test::cluster_fixture
