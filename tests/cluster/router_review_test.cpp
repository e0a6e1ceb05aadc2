// Router defects found in review (net/cluster/cluster_node.cpp), each with
// real node processes: a message that killed the router, a wait "for as
// long as it takes" answered timeout at once, and a run started a second
// time on another node while the node known to have it is away.
#include "cluster/cluster_fixture.hpp"

using namespace endure;
using namespace endure::test::cluster_fixture;

namespace {

// The router's internal message (cluster_node.cpp), as any holder of a
// certificate of the cluster's CA can send it.
using cl_connect_atom = caf::atom_constant<caf::atom("cl_connect")>;

} // namespace

SCENARIO("a peer name the router does not know does not kill the router") {
  cluster_files files;
  node_process a{files, "a"};
  client cl{files};
  auto to_a = cl.router(files, "a");
  caf::anon_send(to_a, cl_connect_atom::value, std::string{"no-such-node"});
  caf::anon_send(to_a, cluster::hello_atom::value, std::string{"b"}, caf::actor{}, caf::actor{});
  auto nodes = ask<std::vector<std::string>>(*cl.sys, to_a, cluster::nodes_atom::value);
  REQUIRE(nodes);
  // A hello with no actors is refused: b is not marked up with null handles.
  CHECK(std::find(nodes->begin(), nodes->end(), "b up") == nodes->end());
}

SCENARIO("a wait with the longest timeout is not answered timeout at once") {
  cluster_files files;
  node_process a{files, "a"}, b{files, "b"}, c{files, "c"};
  client cl{files};
  auto to_a = cl.router(files, "a");
  REQUIRE(test::eventually([&] { return all_up(*cl.sys, to_a); }, 20s));
  auto id = run_owned_by("b", "long-");
  REQUIRE(ask<run_meta>(*cl.sys, to_a, svc::start_atom::value, std::string{"await_go"}, id,
                        to_bytes(std::string{})));
  auto ms = GENERATE(std::numeric_limits<std::int64_t>::max(), std::int64_t{1'000'000'000'000'000});
  caf::scoped_actor waiter{*cl.sys};
  auto wait = waiter->request(to_a, 60s, svc::wait_atom::value, id, ms);
  REQUIRE(ask<caf::ok_atom>(*cl.sys, to_a, svc::signal_atom::value, id, std::string{"go"},
                            to_bytes(std::string{"late"})));
  std::string answer;
  wait.receive([&](run_outcome& o) { answer = from_bytes<std::string>(o.result); },
               [&](caf::error& e) { answer = svc::error_of(e, "wait").message; });
  CHECK(answer == "b:late");
}

SCENARIO("a start of a run whose known node is away is refused and not run twice") {
  cluster_files files;
  node_process a{files, "a"}, c{files, "c"};
  auto b = std::make_unique<node_process>(files, "b");
  client cl{files};
  auto to_a = cl.router(files, "a");
  REQUIRE(test::eventually([&] { return all_up(*cl.sys, to_a); }, 20s));
  auto id = run_owned_by("b", "twice-");
  REQUIRE(ask<run_meta>(*cl.sys, to_a, svc::start_atom::value, std::string{"await_go"}, id,
                        to_bytes(std::string{})));
  // b refused this one (no such workflow): no run of it is there.
  auto refused = run_owned_by("b", "refused-");
  auto no_wf = ask<run_meta>(*cl.sys, to_a, svc::start_atom::value, std::string{"no-such-wf"},
                             refused, to_bytes(std::string{}));
  REQUIRE_FALSE(no_wf);
  CHECK(no_wf.error().code == errc::not_found);
  b->child->kill_hard();
  b.reset();
  REQUIRE(test::eventually(
    [&] {
      auto st = ask<run_meta>(*cl.sys, to_a, svc::status_atom::value, id);
      return !st && st.error().code == errc::shut_down;
    },
    10s, 20ms));
  auto again = ask<run_meta>(*cl.sys, to_a, svc::start_atom::value, std::string{"await_go"}, id,
                             to_bytes(std::string{}));
  REQUIRE_FALSE(again);
  CHECK(again.error().code == errc::shut_down);
  auto elsewhere = ask<run_meta>(*cl.sys, to_a, svc::start_atom::value, std::string{"where"},
                                 refused, to_bytes(std::string{"x"}));
  CHECK(elsewhere);
  for (auto& n : {"a", "c"}) {
    auto runs = ask<std::vector<run_meta>>(*cl.sys, cl.router(files, n), cluster::list_atom::value);
    REQUIRE(runs);
    CHECK(std::none_of(runs->begin(), runs->end(), [&](auto& m) { return m.id == id; }));
  }
}

// The highest-named node connects to no one: it used to answer requests
// before its peers' hellos arrived, so just after it (re)started every
// other node looked away and a start of a run that another node has made a
// second run of the id on it.
SCENARIO("a restarted node that connects to no one does not start a run other nodes have") {
  cluster_files files;
  node_process a{files, "a"}, b{files, "b"};
  auto c = std::make_unique<node_process>(files, "c");
  client cl{files};
  auto to_a = cl.router(files, "a");
  REQUIRE(test::eventually([&] { return all_up(*cl.sys, to_a); }, 20s));
  auto id = run_owned_by("a", "restart-");
  REQUIRE(ask<run_meta>(*cl.sys, to_a, svc::start_atom::value, std::string{"await_go"}, id,
                        to_bytes(std::string{})));
  c->child->kill_hard();
  c.reset();
  c = std::make_unique<node_process>(files, "c");
  auto to_c = cl.router(files, "c");
  auto again = ask<run_meta>(*cl.sys, to_c, svc::start_atom::value, std::string{"await_go"}, id,
                             to_bytes(std::string{}));
  REQUIRE(again);
  auto on_c = ask<std::vector<run_meta>>(*cl.sys, to_c, cluster::list_atom::value);
  REQUIRE(on_c);
  CHECK(std::none_of(on_c->begin(), on_c->end(), [&](auto& m) { return m.id == id; }));
}
