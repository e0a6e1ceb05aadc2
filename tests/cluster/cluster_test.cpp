// A cluster of three real node processes on 127.0.0.1 (cluster_node_child),
// talking TLS with the committed test certificates (certs/): placement,
// routing from any node, events across nodes, and the handshakes that
// must fail.
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include "cluster/cluster_fixture.hpp"

#include "endure/actors/atoms.hpp"

using namespace endure;
using namespace endure::test::cluster_fixture;

SCENARIO("a run started on node a that b owns runs on b and c signals and waits for it") {
  three_nodes up;
  auto& files = up.files;
  auto& cl = up.cl;
  auto to_a = up.to_a, to_c = up.to_c;
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

SCENARIO("any node finds each node's human gateway and escalation actor by name and a decision "
         "sent to any node reaches the gateway of the request's run") {
  three_nodes up;
  auto& cl = up.cl;
  auto to_a = up.to_a, to_c = up.to_c;
  auto gateway_of_b = ask<caf::actor>(*cl.sys, to_a, cluster::service_atom::value,
                                      std::string{"b"}, svc::gateway_name);
  REQUIRE(gateway_of_b);
  REQUIRE(*gateway_of_b);
  // Subscribed from this process, across nodes; a request to the gateway
  // from the same actor afterwards is answered after the subscription.
  caf::scoped_actor watcher{*cl.sys};
  auto unknown = subscribe_to_gateway(watcher, *gateway_of_b);
  CHECK(svc::error_of(unknown, "decide").code == errc::not_found);

  auto id = run_owned_by("b", "asks-");
  REQUIRE(ask<run_meta>(*cl.sys, to_a, svc::start_atom::value, std::string{"asks"}, id,
                        to_bytes(std::string{"Ship it?"})));
  auto request = waiting_request(watcher, id);
  REQUIRE_FALSE(request.empty());

  // What only b's runtime may tell its gateway does not pass: a "run
  // ended" would withdraw the question (the decision below would then be
  // refused), and a deadline request is refused.
  watcher->send(*gateway_of_b, atoms::run_ended::value, id,
                static_cast<std::uint8_t>(run_status::completed));
  std::optional<caf::error> internal;
  watcher->request(*gateway_of_b, 30s, atoms::deadline::value, request)
    .receive([](std::string&) {}, [&](caf::error& e) { internal = e; });
  REQUIRE(internal);
  CHECK(*internal == caf::sec::unexpected_message);

  // Decided through c, answered by b's gateway (c's has no such request).
  auto decided = answer(*cl.sys, to_c, request, "ann", "yes");
  INFO((decided ? *decided : decided.error().message));
  REQUIRE((decided && *decided == "decided"));
  auto out = ask<run_outcome>(*cl.sys, to_a, svc::wait_atom::value, id, std::int64_t{20'000});
  REQUIRE(out);
  CHECK(from_bytes<std::string>(out->result) == "b:yes");
  auto again = answer(*cl.sys, to_a, request, "bob", "no");
  REQUIRE_FALSE(again);
  CHECK(again.error().code == errc::invalid_state);  // decided already, says b's gateway

  // c's escalation actor, found through a, answers its own message.
  auto escalation_of_c = ask<caf::actor>(*cl.sys, to_a, cluster::service_atom::value,
                                         std::string{"c"}, svc::escalation_name);
  REQUIRE(escalation_of_c);
  auto stats = ask<std::string>(*cl.sys, *escalation_of_c, atoms::esc_stats::value);
  REQUIRE(stats);
  CHECK_THAT(*stats, Catch::Contains("model_version"));

  auto no_node = ask<caf::actor>(*cl.sys, to_a, cluster::service_atom::value, std::string{"z"},
                                 svc::gateway_name);
  REQUIRE_FALSE(no_node);
  CHECK(no_node.error().code == errc::invalid_argument);
  auto no_name = ask<caf::actor>(*cl.sys, to_c, cluster::service_atom::value, std::string{"b"},
                                 caf::atom("nothing"));
  REQUIRE_FALSE(no_name);
  CHECK(no_name.error().code == errc::not_found);
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

SCENARIO("a run started while its first choice was away is attached to when that node returns",
         "[cluster]") {
  cluster_files files;
  node_process b{files, "b"};
  node_process c{files, "c"};
  client cl{files};
  auto id = run_owned_by("a", "spill-");
  auto first = ask<run_meta>(*cl.sys, cl.router(files, "c"), svc::start_atom::value,
                             std::string{"await_go"}, id, to_bytes(std::string{}));
  REQUIRE(first);  // on b or c: a is away
  auto holder = ask<std::string>(*cl.sys, cl.router(files, "c"), cluster::where_atom::value, id);
  REQUIRE(holder);
  CHECK(*holder != "a");

  node_process a{files, "a"};
  auto at_a = cl.router(files, "a");
  REQUIRE(test::eventually([&] { return all_up(*cl.sys, at_a); }, 10s));
  // a answers starts of its ids in one round trip: it knows from the
  // holder's hello that the id is there, so the start attaches to that run.
  auto again = ask<run_meta>(*cl.sys, at_a, svc::start_atom::value, std::string{"await_go"}, id,
                             to_bytes(std::string{}));
  REQUIRE(again);
  CHECK(again->created_at_ms == first->created_at_ms);
  auto where = ask<std::string>(*cl.sys, at_a, cluster::where_atom::value, id);
  REQUIRE(where);
  CHECK(*where == *holder);
  auto on_a = ask<std::vector<run_meta>>(*cl.sys, at_a, cluster::list_atom::value);
  REQUIRE(on_a);
  CHECK(std::none_of(on_a->begin(), on_a->end(), [&](const run_meta& m) { return m.id == id; }));
  // And a signal through a reaches it there.
  REQUIRE(ask<caf::ok_atom>(*cl.sys, at_a, svc::signal_atom::value, id, std::string{"go"},
                            to_bytes(std::string{"x"})));
  auto out = ask<run_outcome>(*cl.sys, at_a, svc::wait_atom::value, id, std::int64_t{20'000});
  REQUIRE(out);
  CHECK(out->value<std::string>() == *holder + ":x");
}
