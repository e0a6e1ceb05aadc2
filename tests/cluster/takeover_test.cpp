// Replication mode takeover (net/cluster/replication/), with three real
// node processes over TLS on 127.0.0.1: a's journal streams to b. What a
// user relies on: when a dies by SIGKILL, b runs a's runs to the end after
// takeover_ms, with every step a acknowledged kept (same result, its body
// not run again); a's process, when it returns, runs nothing and stops;
// and b, restarted, runs a's replica again.
#include "cluster/cluster_fixture.hpp"

#include <csignal>
#include <filesystem>
#include <future>
#include <map>

#include "endure/actors/atoms.hpp"
#include "endure/net/cluster/replication/replica_keeper.hpp"
#include "endure/net/cluster/replication/replication.hpp"
#include "support/tcp_proxy.hpp"

using namespace endure;
using namespace endure::test::cluster_fixture;

namespace {

/// The run's outcome through `router`, asked again while the run is
/// unavailable (its node away and not taken over yet), for up to `patience`.
expected<run_outcome> outcome(caf::actor_system& sys, const caf::actor& router,
                              const std::string& id, std::chrono::seconds patience) {
  auto until = std::chrono::steady_clock::now() + patience;
  expected<run_outcome> out = make_error(errc::timeout, "not asked");
  for (int i = 0; i < 1000 && std::chrono::steady_clock::now() < until; ++i) {
    out = ask<run_outcome>(sys, router, svc::wait_atom::value, id, std::int64_t{20'000});
    if (out || out.error().code != errc::shut_down)
      return out;
    std::this_thread::sleep_for(50ms);  // unavailable: asked again, bounded above
  }
  return out;
}

} // namespace

SCENARIO("with mode takeover a killed node's runs complete on its standby and the node is fenced",
         "[cluster][replication][takeover]") {
  cluster_files files{"replication: {mode: takeover, takeover_ms: 500}\n"};
  auto b = std::make_unique<node_process>(files, "b");
  node_process c{files, "c"};
  auto a = std::make_unique<node_process>(files, "a");
  client cl{files};
  auto router = cl.router(files, "c");
  REQUIRE(test::eventually([&] { return all_up(*cl.sys, router); }, 10s));

  auto runs = start_step_runs(*cl.sys, router, "a", "take-", 3, 300);
  // The last step of each run a acknowledged, with its result.
  acks_seen on_a;
  auto& acked_on_a = on_a.last;
  auto take = [&](const std::string& line) { on_a.take(line); };
  for (int i = 0; i < 5000 && on_a.count < 60; ++i) {
    auto line = a->child->read_line(10s);
    REQUIRE(line);
    take(*line);
  }
  a->child->kill_hard();
  for (int i = 0; i < 5000; ++i) {  // what it printed before it died
    auto line = a->child->read_line(2s);
    if (!line)
      break;
    take(*line);
  }
  REQUIRE(on_a.count >= 60);

  for (auto& r : runs) {
    auto out = outcome(*cl.sys, router, r, 60s);
    INFO(r << ": " << (out ? "" : out.error().message));
    REQUIRE(out);
    CHECK(out->status == run_status::completed);
    CHECK(out->value<std::string>() == "b:300");  // its last steps ran on b
  }
  // b ran no step a acknowledged: the first step body b ran of each run
  // follows a's last acknowledged one, and saw its result as a returned it.
  std::map<std::string, acked_step> first_on_b;
  for (int i = 0; i < 5000; ++i) {
    auto line = b->child->read_line(2s);
    if (!line)
      break;
    if (auto ack = parse_ack(*line); ack && !first_on_b.count(ack->run))
      first_on_b[ack->run] = *ack;
  }
  for (auto& [run, last] : acked_on_a) {
    INFO(run << ": a acknowledged step " << last.step);
    REQUIRE(first_on_b.count(run) == 1);
    CHECK(first_on_b[run].step >= last.step);
    if (first_on_b[run].step == last.step)
      CHECK(first_on_b[run].result == last.result);
  }
  auto replica = cluster::replica_dir(files.dir.path() + "/data-b", "a");
  CHECK(std::filesystem::exists(cluster::fence_marker(replica)));
  for (auto& r : runs) {
    auto steps = completed_steps(replica, r);
    CHECK(steps.size() == 300);
    CHECK(steps["s" + std::to_string(acked_on_a[r].step)] == acked_on_a[r].result);
  }
  auto taken_over_by_b = [&] { return nodes_say(*cl.sys, router, "a up (taken over by b)"); };
  CHECK(taken_over_by_b());

  // c's standby was a: b keeps c's replica now, so c's commits go on.
  auto on_c = run_owned_by("c", "on-c-");
  REQUIRE(ask<run_meta>(*cl.sys, router, svc::start_atom::value, std::string{"steps"}, on_c,
                        to_bytes(std::string{"3"})));
  auto c_out = outcome(*cl.sys, router, on_c, 30s);
  REQUIRE(c_out);
  CHECK(c_out->value<std::string>() == "c:3");
  CHECK(completed_steps(cluster::replica_dir(files.dir.path() + "/data-b", "c"), on_c).size()
        == 3);

  // a's process returns on its old data directory: it runs no step, says
  // it was taken over and stops.
  a = std::make_unique<node_process>(files, "a", test::child_options{.merge_stderr = true});
  std::optional<std::string> fenced;
  for (int i = 0; i < 10'000 && !fenced; ++i) {
    auto line = a->child->read_line(20s);
    REQUIRE(line);
    CHECK_FALSE(parse_ack(*line));
    if (line->rfind("fenced ", 0) == 0)
      fenced = line;
  }
  REQUIRE(fenced);
  for (auto& line : a->child->read_all(20s))  // on its way out too
    CHECK_FALSE(parse_ack(line));
  CHECK_THAT(*fenced, Catch::Contains("taken over by its standby b")
                        && Catch::Contains("empty data directory"));
  CHECK(a->child->wait(20s) == 3);
  auto completed = [&](const std::string& r) {
    auto meta = ask<run_meta>(*cl.sys, router, svc::status_atom::value, r);
    return meta && meta->status == run_status::completed;
  };
  for (auto& r : runs)  // still answered, from b
    CHECK(completed(r));

  // b, killed and restarted, runs a's replica again: a new run of a's ids
  // starts there.
  b->child->kill_hard();
  b = std::make_unique<node_process>(files, "b");
  auto id = run_owned_by("a", "after-");
  REQUIRE(test::eventually([&] { return taken_over_by_b(); }, 20s));
  REQUIRE(ask<run_meta>(*cl.sys, router, svc::start_atom::value, std::string{"where"}, id,
                        to_bytes(id)));
  auto out = outcome(*cl.sys, router, id, 30s);
  REQUIRE(out);
  CHECK(out->value<std::string>() == "b:" + id);
  CHECK(completed_steps(replica, id).size() == 1);
  for (auto& r : runs)
    CHECK(completed(r));
}

SCENARIO("in mode takeover a link cut between a live node and its standby alone ends in a "
         "takeover: the node is fenced and nothing it acknowledged is lost",
         "[cluster][replication][takeover][faults]") {
  // a reaches b (its standby) only through a relay; c sees both. When the
  // relay holds the link down, a goes on living: b and c (a majority) take
  // it over, a stops on hearing it from c, and b runs a's runs on from the
  // last step a acknowledged (a acknowledged none b did not apply).
  cluster_files files{"replication: {mode: takeover, takeover_ms: 500}\n"};
  test::tcp_proxy relay{files.ports.at("b")};
  files.via["b"] = relay.port();
  files.rewrite();
  node_process b{files, "b"}, c{files, "c"};
  node_process a{files, "a", test::child_options{.merge_stderr = true}};
  client cl{files};
  auto router = cl.router(files, "c");
  REQUIRE(test::eventually([&] { return all_up(*cl.sys, router) && relay.accepted() >= 1; }, 20s));

  auto runs = start_step_runs(*cl.sys, router, "a", "cut-", 2, 300);
  acks_seen on_a;
  auto& acked_on_a = on_a.last;
  std::optional<std::string> fenced;
  auto take = [&](const std::string& line) {
    if (line.rfind("fenced ", 0) == 0)
      fenced = line;
    on_a.take(line);
  };
  for (int i = 0; i < 5000 && on_a.count < 40; ++i) {
    auto line = a.child->read_line(10s);
    REQUIRE(line);
    take(*line);
  }
  REQUIRE(relay.hold(true));
  // a, alive all along, hears from c that b took it over, and stops.
  for (int i = 0; i < 100'000 && !fenced; ++i) {
    auto line = a.child->read_line(20s);
    REQUIRE(line);
    take(*line);
  }
  REQUIRE(fenced);
  CHECK_THAT(*fenced, Catch::Contains("b took it over"));
  for (auto& line : a.child->read_all(20s))
    take(line);
  CHECK(a.child->wait(20s) == 3);
  CHECK(nodes_say(*cl.sys, router, "a up (taken over by b)"));

  for (auto& r : runs) {
    auto out = outcome(*cl.sys, router, r, 60s);
    INFO(r << ": " << (out ? "" : out.error().message));
    REQUIRE(out);
    CHECK(out->value<std::string>() == "b:300");
  }
  std::map<std::string, acked_step> first_on_b;
  for (int i = 0; i < 5000; ++i) {
    auto line = b.child->read_line(2s);
    if (!line)
      break;
    if (auto ack = parse_ack(*line); ack && !first_on_b.count(ack->run))
      first_on_b[ack->run] = *ack;
  }
  auto replica = cluster::replica_dir(files.dir.path() + "/data-b", "a");
  REQUIRE(acked_on_a.size() == runs.size());  // each run had steps acknowledged on a
  for (auto& r : runs) {
    auto& last = acked_on_a[r];
    INFO(r << ": a acknowledged step " << last.step);
    REQUIRE(first_on_b.count(r) == 1);
    CHECK(first_on_b[r].step >= last.step);
    if (first_on_b[r].step == last.step)
      CHECK(first_on_b[r].result == last.result);
    auto steps = completed_steps(replica, r);
    CHECK(steps.size() == 300);
    CHECK(steps["s" + std::to_string(last.step)] == last.result);
  }
}

SCENARIO("in mode takeover a question of a run whose node was taken over is decided through "
         "any node", "[cluster][replication][takeover]") {
  cluster_files files{"replication: {mode: takeover, takeover_ms: 300}\n"};
  node_process b{files, "b"}, c{files, "c"};
  auto a = std::make_unique<node_process>(files, "a");
  client cl{files};
  auto router = cl.router(files, "c");
  REQUIRE(test::eventually([&] { return all_up(*cl.sys, router); }, 10s));
  auto gateway_of_a = ask<caf::actor>(*cl.sys, router, cluster::service_atom::value,
                                      std::string{"a"}, svc::gateway_name);
  REQUIRE(gateway_of_a);
  caf::scoped_actor watcher{*cl.sys};
  (void)subscribe_to_gateway(watcher, *gateway_of_a);

  auto id = run_owned_by("a", "q/x-");  // a '/' in the run id too
  REQUIRE(ask<run_meta>(*cl.sys, router, svc::start_atom::value, std::string{"asks"}, id,
                        to_bytes(std::string{"Ship it?"})));
  auto request = waiting_request(watcher, id);
  REQUIRE_FALSE(request.empty());

  a->child->kill_hard();
  REQUIRE(test::eventually([&] { return nodes_say(*cl.sys, router, "a up (taken over by b)"); },
                           20s));
  auto gone = ask<caf::actor>(*cl.sys, router, cluster::service_atom::value, std::string{"a"},
                              svc::gateway_name);
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == errc::not_found);
  auto decided = answer(*cl.sys, router, request, "ann", "yes");
  INFO((decided ? *decided : decided.error().message));
  REQUIRE((decided && *decided == "decided"));
  auto out = outcome(*cl.sys, router, id, 30s);
  REQUIRE(out);
  CHECK(from_bytes<std::string>(out->result) == "b:yes");
}

SCENARIO("in mode takeover a commit waits for an absent standby however long",
         "[cluster][replication][takeover]") {
  // Acknowledged on a alone, a step could be lost when b takes a over.
  cluster_files files{"replication: {mode: takeover, takeover_ms: 60000}\n"};
  node_process c{files, "c"};
  auto a = std::make_unique<node_process>(files, "a");  // b, its standby, is not there
  client cl{files};
  auto router = cl.router(files, "c");
  auto id = run_owned_by("a", "waits-");
  auto started = std::async(std::launch::async, [&] {
    return ask<run_meta>(*cl.sys, router, svc::start_atom::value, std::string{"steps"}, id,
                         to_bytes(std::string{"5"}));
  });
  // Past the 2 s a commit waits in mode standby (wait_ms' default).
  CHECK(started.wait_for(3s) == std::future_status::timeout);
  CHECK_FALSE(a->child->read_line(100ms));

  node_process b{files, "b"};
  REQUIRE(started.get());
  auto out = outcome(*cl.sys, router, id, 30s);
  REQUIRE(out);
  CHECK(out->value<std::string>() == "a:5");
  CHECK(completed_steps(cluster::replica_dir(files.dir.path() + "/data-b", "a"), id).size() == 5);
}

SCENARIO("in mode takeover a node that reaches no majority takes nobody over",
         "[cluster][replication][takeover]") {
  // b alone of three: the other side of a cut may well run a and c on.
  cluster_files files{"replication: {mode: takeover, takeover_ms: 300}\n"};
  auto b = std::make_unique<node_process>(files, "b", test::child_options{.merge_stderr = true});
  auto c = std::make_unique<node_process>(files, "c");
  auto a = std::make_unique<node_process>(files, "a");
  client cl{files};
  auto to_b = cl.router(files, "b");
  REQUIRE(test::eventually([&] { return all_up(*cl.sys, to_b); }, 10s));
  c->child->kill_hard();
  auto sees_c_away = [&] { return nodes_say(*cl.sys, to_b, "c away"); };
  REQUIRE(test::eventually(sees_c_away, 10s));
  a->child->kill_hard();
  std::optional<std::string> refused;
  for (int i = 0; i < 10'000 && !refused; ++i) {
    auto line = b->child->read_line(20s);
    REQUIRE(line);
    CHECK(line->find("taking it over") == std::string::npos);
    if (line->find("no takeover without a majority") != std::string::npos)
      refused = line;
  }
  REQUIRE(refused);
  CHECK_THAT(*refused, Catch::Contains("node a") && Catch::Contains("1 of 3"));
  CHECK_FALSE(std::filesystem::exists(
    cluster::fence_marker(cluster::replica_dir(files.dir.path() + "/data-b", "a"))));
}

SCENARIO("in mode takeover a node that hangs is found gone by its silence and taken over "
         "and it is fenced when it wakes",
         "[cluster][replication][takeover]") {
  // SIGSTOP: its connections stay open and say nothing, as a host that
  // lost power would; failure_detection_ms finds it gone.
  cluster_files files{"failure_detection_ms: 2000\n"
                      "replication: {mode: takeover, takeover_ms: 300}\n"};
  node_process b{files, "b"};
  node_process c{files, "c"};
  auto a = std::make_unique<node_process>(files, "a", test::child_options{.merge_stderr = true});
  client cl{files};
  auto router = cl.router(files, "c");
  REQUIRE(test::eventually([&] { return all_up(*cl.sys, router); }, 10s));
  auto id = run_owned_by("a", "hung-");
  REQUIRE(ask<run_meta>(*cl.sys, router, svc::start_atom::value, std::string{"await_go"}, id,
                        to_bytes(std::string{})));
  REQUIRE(::kill(a->child->pid(), SIGSTOP) == 0);
  auto taken = [&] { return nodes_say(*cl.sys, router, "a up (taken over by b)"); };
  auto found = test::eventually(taken, 20s);
  ::kill(a->child->pid(), SIGCONT);
  REQUIRE(found);
  // The run goes on at b; a, awake, runs nothing and stops.
  REQUIRE(ask<caf::ok_atom>(*cl.sys, router, svc::signal_atom::value, id, std::string{"go"},
                            to_bytes(std::string{"y"})));
  auto out = outcome(*cl.sys, router, id, 30s);
  REQUIRE(out);
  CHECK(out->value<std::string>() == "b:y");
  std::optional<std::string> fenced;
  for (int i = 0; i < 10'000 && !fenced; ++i) {
    auto line = a->child->read_line(20s);
    REQUIRE(line);
    if (line->rfind("fenced ", 0) == 0)
      fenced = line;
  }
  REQUIRE(fenced);
  CHECK(a->child->wait(20s) == 3);
}
