// Network faults on loopback: a node that stops reading (its process
// stopped with SIGSTOP: the kernel keeps its connections open and its
// socket buffers fill, but nothing is read or answered). The other nodes'
// runs must not stall: starts, signals and waits for runs a and c own go on
// while b is stopped, and b's own runs go on when it continues.
#include "cluster/cluster_fixture.hpp"

#include <csignal>

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
  cluster_files files;
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
