// A cluster of three real node processes on 127.0.0.1 (cluster_node_child),
// talking TLS with the committed test certificates (certs/): placement,
// routing from any node, events across nodes, a node killed with SIGKILL
// and back, and the handshakes that must fail.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/scoped_actor.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <memory>

#include "endure/actors/service/protocol.hpp"
#include "endure/endure.hpp"
#include "endure/net/cluster/cluster_node.hpp"
#include "endure/net/cluster/placement.hpp"
#include "support/child_process.hpp"
#include "support/eventually.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace std::chrono_literals;
namespace svc = endure::service;

namespace {

const std::string certs = std::string{CLUSTER_CERTS_DIR} + "/";
const std::vector<std::string> names = {"a", "b", "c"};

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// The three nodes' cluster files (one per process: its own certificate)
/// and a client's.
struct cluster_files {
  test::temp_dir dir;
  std::map<std::string, std::uint16_t> ports;

  cluster_files() {
    for (auto& n : names)
      ports[n] = free_port();
    for (auto& n : names)
      write(n, "node-" + n, "cluster-ca");
    write("client", "client", "cluster-ca");
    write("rogue", "rogue", "rogue-ca");
  }
  void write(const std::string& file, const std::string& cert, const std::string& ca) const {
    std::ofstream out{path(file)};
    out << "tls:\n  certificate: " << certs << cert << ".pem\n  key: " << certs << cert
        << ".key\n  ca: " << certs << ca << ".pem\nreconnect_ms: 50\nnodes:\n";
    for (auto& n : names)
      out << "  - {name: " << n << ", address: 127.0.0.1:" << ports.at(n) << "}\n";
  }
  std::string path(const std::string& file) const { return dir.path() + "/" + file + ".yaml"; }
  cluster::node_address address(const std::string& n) const {
    return {n, "127.0.0.1", ports.at(n)};
  }
};

struct node_process {
  std::unique_ptr<test::child_process> child;

  node_process(const cluster_files& files, const std::string& name) {
    child = std::make_unique<test::child_process>(std::vector<std::string>{
      CLUSTER_NODE_CHILD, files.path(name), name, files.dir.path() + "/data-" + name});
    auto line = child->read_line(20s);
    REQUIRE(line);
    REQUIRE(line->rfind("ready ", 0) == 0);
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
  caf::actor router(const cluster_files& files, const std::string& node) {
    auto r = cluster::connect(*sys, files.address(node));
    REQUIRE(r);
    return *r;
  }
};

/// A request's answer, or the endure error it failed with.
template <class T, class... Ts>
expected<T> ask(caf::actor_system& sys, const caf::actor& to, Ts&&... xs) {
  caf::scoped_actor self{sys};
  expected<T> out = make_error(errc::timeout, "no answer");
  self->request(to, 30s, std::forward<Ts>(xs)...)
    .receive([&](T& x) { out = std::move(x); },
             [&](caf::error& e) { out = svc::error_of(e, "request"); });
  return out;
}

bool all_up(caf::actor_system& sys, const caf::actor& router) {
  auto nodes = ask<std::vector<std::string>>(sys, router, cluster::nodes_atom::value);
  if (!nodes)
    return false;
  for (auto& n : *nodes)
    if (n.find(" away") != std::string::npos)
      return false;
  return true;
}

std::string run_owned_by(const std::string& node, const std::string& prefix) {
  for (int i = 0; i < 10'000; ++i) {
    auto id = prefix + std::to_string(i);
    if (cluster::rank_nodes(id, names).front() == node)
      return id;
  }
  FAIL("no run id ranks " << node << " first");
  return {};
}

} // namespace

SCENARIO("a run started on node a that b owns runs on b and c signals and waits for it") {
  cluster_files files;
  node_process a{files, "a"}, b{files, "b"}, c{files, "c"};
  client cl{files};
  auto to_a = cl.router(files, "a");
  auto to_c = cl.router(files, "c");
  REQUIRE(test::eventually([&] { return all_up(*cl.sys, to_a) && all_up(*cl.sys, to_c); }, 20s));
  caf::scoped_actor subscriber{*cl.sys};
  REQUIRE(ask<caf::ok_atom>(*cl.sys, to_a, svc::subscribe_atom::value,
                            caf::actor{subscriber}, false));

  auto id = run_owned_by("b", "order-");
  auto started = ask<run_meta>(*cl.sys, to_a, svc::start_atom::value, std::string{"await_go"},
                               id, to_bytes(std::string{}));
  REQUIRE(started);
  CHECK(started->id == id);
  REQUIRE(ask<caf::ok_atom>(*cl.sys, to_c, svc::signal_atom::value, id, std::string{"go"},
                            to_bytes(std::string{"hello"})));
  auto out = ask<run_outcome>(*cl.sys, to_c, svc::wait_atom::value, id, std::int64_t{20'000});
  REQUIRE(out);
  REQUIRE(out->status == run_status::completed);
  CHECK(from_bytes<std::string>(out->result) == "b:hello");

  THEN("the subscriber on a heard b's run complete") {
    bool completed = false;
    for (int i = 0; i < 50 && !completed; ++i)
      subscriber->receive(
        [&](svc::event_atom, const run_changed& e) {
          completed = e.run == id && e.status == run_status::completed;
        },
        [&](svc::event_atom, const step_changed&) {},
        [&](svc::event_atom, const request_changed&) {},
        caf::after(10s) >> [&] { i = 50; });
    CHECK(completed);
  }
  THEN("only b has the run, and starting it again from c attaches to it") {
    auto again = ask<run_meta>(*cl.sys, to_c, svc::start_atom::value, std::string{"await_go"},
                               id, to_bytes(std::string{}));
    REQUIRE(again);
    CHECK(again->status == run_status::completed);
    for (auto& n : names) {
      auto runs = ask<std::vector<run_meta>>(*cl.sys, cl.router(files, n),
                                             cluster::list_atom::value);
      REQUIRE(runs);
      auto has = std::any_of(runs->begin(), runs->end(), [&](auto& m) { return m.id == id; });
      CHECK(has == (n == "b"));
    }
  }
  THEN("a run of an unknown id is not found from any node") {
    auto st = ask<run_meta>(*cl.sys, to_c, svc::status_atom::value, std::string{"no-such-run"});
    REQUIRE_FALSE(st);
    CHECK(st.error().code == errc::not_found);
  }
}

SCENARIO("a new run whose first choice is away goes to the next node up") {
  cluster_files files;
  node_process a{files, "a"}, c{files, "c"};
  client cl{files};
  auto to_a = cl.router(files, "a");
  auto id = run_owned_by("b", "spill-");
  auto second = cluster::rank_nodes(id, names)[1];
  auto started = ask<run_meta>(*cl.sys, to_a, svc::start_atom::value, std::string{"where"}, id,
                               to_bytes(std::string{"x"}));
  REQUIRE(started);
  auto out = ask<run_outcome>(*cl.sys, to_a, svc::wait_atom::value, id, std::int64_t{20'000});
  REQUIRE(out);
  CHECK(from_bytes<std::string>(out->result) == second + ":x");
}

SCENARIO("only certificates signed by the cluster's CA get in") {
  cluster_files files;
  node_process a{files, "a"};
  GIVEN("a client whose certificate another CA signed") {
    client rogue{files, "rogue"};
    auto r = cluster::connect(*rogue.sys, files.address("a"));
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("node a") != std::string::npos);
  }
  GIVEN("a client with no certificate") {
    caf::actor_system_config cfg;
    cfg.load<caf::io::middleman>();
    cfg.load<caf::openssl::manager>();
    caf::actor_system sys{cfg};
    CHECK_FALSE(cluster::connect(sys, files.address("a")));
  }
  GIVEN("a plain (not TLS) client") {
    caf::actor_system_config cfg;
    cfg.load<caf::io::middleman>();
    caf::actor_system sys{cfg};
    auto r = sys.middleman().remote_actor("127.0.0.1", files.ports.at("a"));
    CHECK_FALSE(r);
  }
  THEN("a client with the CA's certificate does") {
    client good{files};
    CHECK(cluster::connect(*good.sys, files.address("a")));
  }
}
