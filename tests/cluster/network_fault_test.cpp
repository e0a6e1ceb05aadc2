// Network faults on loopback. A node that stops reading (its process
// stopped with SIGSTOP: the kernel keeps its connections open and its
// socket buffers fill, but nothing is read or answered): the other nodes'
// runs must not stall, and b's own runs go on when it continues. A
// connection cut (a relay between two nodes drops it, the processes live):
// the nodes reconnect and a replication stream across it loses nothing. A
// standby that stops reading costs its owner no more than buffer_mib of
// stream, and catches up by a copy once it reads again.
#include "cluster/cluster_fixture.hpp"

#include <csignal>

#include "endure/net/cluster/replication/replication.hpp"
#include "support/tcp_proxy.hpp"

using namespace endure;
using namespace endure::test::cluster_fixture;

namespace {

/// SIGCONT at scope exit, so a failed check never leaves a stopped child.
struct stopped {
  pid_t pid;
  explicit stopped(pid_t p) : pid(p) { REQUIRE(::kill(pid, SIGSTOP) == 0); }
  ~stopped() { ::kill(pid, SIGCONT); }
};

/// Start, signal and wait for a new await_go run of `id` through `router`.
void run_through(caf::actor_system& sys, const caf::actor& router, const std::string& id) {
  REQUIRE(ask<run_meta>(sys, router, svc::start_atom::value, std::string{"await_go"}, id,
                        to_bytes(std::string{})));
  REQUIRE(ask<caf::ok_atom>(sys, router, svc::signal_atom::value, id, std::string{"go"},
                            to_bytes(std::string{"x"})));
  auto out = ask<run_outcome>(sys, router, svc::wait_atom::value, id, std::int64_t{20'000});
  REQUIRE(out);
  CHECK(out->value<std::string>() == cluster::rank_nodes(id, names).front() + ":x");
}

} // namespace

SCENARIO("a node that stops reading stalls nothing on the other nodes", "[cluster][faults]") {
  // The silence check off: here a stopped node must stay connected.
  cluster_files files{"failure_detection_ms: 0\n"};
  node_process a{files, "a"}, b{files, "b"}, c{files, "c"};
  client cl{files};
  auto to_c = cl.router(files, "c");
  REQUIRE(test::eventually([&] { return all_up(*cl.sys, to_c); }, 20s));
  auto on_b = run_owned_by("b", "stalled-");
  REQUIRE(ask<run_meta>(*cl.sys, to_c, svc::start_atom::value, std::string{"await_go"}, on_b,
                        to_bytes(std::string{})));
  {
    stopped pause{b.child->pid()};
    // A burst to b fills its socket buffers: c's writes to it back up.
    caf::scoped_actor flood{*cl.sys};
    std::string big(256 * 1024, 'x');
    for (int i = 0; i < 64; ++i)
      flood->send(to_c, svc::signal_atom::value, on_b, std::string{"noise"}, big);
    for (int i = 0; i < 5; ++i) {
      run_through(*cl.sys, to_c, run_owned_by("a", "while-stopped-" + std::to_string(i) + "-"));
      run_through(*cl.sys, to_c, run_owned_by("c", "while-stopped-" + std::to_string(i) + "-"));
    }
  }
  // b continues: what was sent to it arrives, and its run goes on.
  REQUIRE(ask<caf::ok_atom>(*cl.sys, to_c, svc::signal_atom::value, on_b, std::string{"go"},
                            to_bytes(std::string{"y"})));
  auto out = ask<run_outcome>(*cl.sys, to_c, svc::wait_atom::value, on_b, std::int64_t{20'000});
  REQUIRE(out);
  CHECK(out->value<std::string>() == "b:y");
}

SCENARIO("a connection cut between a node and its standby heals and the stream loses nothing",
         "[cluster][faults][replication]") {
  // a reaches b (its standby) only through a relay that the test cuts.
  cluster_files files{"replication: {mode: standby, wait_ms: 60000}\n"};
  test::tcp_proxy relay{files.ports.at("b")};
  files.via["b"] = relay.port();
  files.rewrite();
  node_process b{files, "b"}, c{files, "c"}, a{files, "a"};
  client cl{files};
  auto to_c = cl.router(files, "c");
  REQUIRE(test::eventually([&] { return all_up(*cl.sys, to_c) && relay.accepted() >= 1; }, 20s));

  auto id = run_owned_by("a", "cut-");
  REQUIRE(ask<run_meta>(*cl.sys, to_c, svc::start_atom::value, std::string{"steps"}, id,
                        to_bytes(std::string{"300"})));
  for (int cut = 1; cut <= 3; ++cut) {
    // Some steps go by, then the connection drops; a reconnects through
    // the relay (every reconnect_ms) and its stream to b goes on.
    for (int i = 0; i < 20; ++i)
      (void)a.child->read_line(2s);
    auto before = relay.accepted();
    REQUIRE(relay.cut());
    REQUIRE(test::eventually([&] { return relay.accepted() > before; }, 10s));
  }
  auto out = ask<run_outcome>(*cl.sys, to_c, svc::wait_atom::value, id, std::int64_t{60'000});
  REQUIRE(out);
  CHECK(out->value<std::string>() == "a:300");

  // The outcome was acknowledged, so b's replica holds every step of it,
  // each as a's own journal does.
  auto replica = completed_steps(cluster::replica_dir(files.dir.path() + "/data-b", "a"), id);
  CHECK(replica.size() == 300);
  CHECK(replica == completed_steps(files.dir.path() + "/data-a", id));
  // And b's own runs are reachable from a again.
  auto on_b = run_owned_by("b", "after-cut-");
  REQUIRE(ask<run_meta>(*cl.sys, cl.router(files, "a"), svc::start_atom::value,
                        std::string{"await_go"}, on_b, to_bytes(std::string{})));
}

SCENARIO("a standby that stops reading holds up at most buffer_mib of its owner's stream and "
         "catches up by a copy",
         "[cluster][faults][replication]") {
  cluster_files files{"failure_detection_ms: 0\n"
                      "replication: {mode: standby, wait_ms: 300, buffer_mib: 1}\n"};
  node_process b{files, "b"}, c{files, "c"};
  test::child_options merged;
  merged.merge_stderr = true;  // a's warnings are what this test reads
  node_process a{files, "a", merged};
  client cl{files};
  auto to_c = cl.router(files, "c");
  REQUIRE(test::eventually([&] { return all_up(*cl.sys, to_c); }, 20s));
  auto replica = cluster::replica_dir(files.dir.path() + "/data-b", "a");
  // a streams to b before b stops: a run of a's is in b's replica (after
  // a's first copy, which the stream follows).
  auto first = run_owned_by("a", "streaming-");
  REQUIRE(ask<run_meta>(*cl.sys, to_c, svc::start_atom::value, std::string{"steps"}, first,
                        to_bytes(std::string{"3"})));
  REQUIRE(test::eventually([&] { return completed_steps(replica, first).size() == 3; }, 30s));
  auto id = run_owned_by("a", "held-");
  REQUIRE(ask<run_meta>(*cl.sys, to_c, svc::start_atom::value, std::string{"await_go"}, id,
                        to_bytes(std::string{})));
  {
    stopped pause{b.child->pid()};
    // 16 MiB of signals journaled on a, streamed to b, which reads none:
    // a has at most 1 MiB of it in flight and 1 MiB more held, then gives
    // up the stream for a copy.
    caf::scoped_actor flood{*cl.sys};
    std::string big(256 * 1024, 'x');
    for (int i = 0; i < 64; ++i)
      flood->send(to_c, svc::signal_atom::value, id, std::string{"noise"}, big);
    bool copy_instead = false;
    for (int i = 0; i < 10'000 && !copy_instead; ++i) {
      auto line = a.child->read_line(20s);
      REQUIRE(line);
      copy_instead = line->find("sending it a copy of the journal instead") != std::string::npos;
    }
    CHECK(copy_instead);
  }
  // b reads again: the copy reaches it, and the stream after it.
  REQUIRE(ask<caf::ok_atom>(*cl.sys, to_c, svc::signal_atom::value, id, std::string{"go"},
                            to_bytes(std::string{"y"})));
  auto out = ask<run_outcome>(*cl.sys, to_c, svc::wait_atom::value, id, std::int64_t{20'000});
  REQUIRE(out);
  CHECK(out->value<std::string>() == "a:y");
  auto on_a = completed_steps(files.dir.path() + "/data-a", id);
  CHECK(test::eventually([&] { return completed_steps(replica, id) == on_a; }, 60s));
}
