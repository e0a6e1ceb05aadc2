// A node of a three-node cluster killed with SIGKILL: its runs are reported
// unavailable (not lost, not started elsewhere) while it is away and go on
// when it returns on its own journal.
#include "cluster/cluster_fixture.hpp"

using namespace endure;
using namespace endure::test::cluster_fixture;

SCENARIO("a node killed with SIGKILL: its runs are unavailable and resume when it returns") {
  cluster_files files;
  node_process a{files, "a"}, c{files, "c"};
  auto b = std::make_unique<node_process>(files, "b");
  client cl{files};
  auto to_a = cl.router(files, "a");
  auto to_c = cl.router(files, "c");
  REQUIRE(test::eventually([&] { return all_up(*cl.sys, to_a) && all_up(*cl.sys, to_c); }, 20s));
  auto id = run_owned_by("b", "kill-");
  REQUIRE(ask<run_meta>(*cl.sys, to_a, svc::start_atom::value, std::string{"await_go"}, id,
                        to_bytes(std::string{})));

  // A wait in hand at b when it dies is answered at once, saying so.
  caf::scoped_actor waiter{*cl.sys};
  auto wait = waiter->request(to_a, 120s, svc::wait_atom::value, id, std::int64_t{100'000});
  REQUIRE(ask<run_meta>(*cl.sys, to_a, svc::status_atom::value, id));  // the wait is at b now

  b->child->kill_hard();
  b.reset();
  std::string wait_answer;
  wait.receive([&](run_outcome&) { wait_answer = "an outcome"; },
               [&](caf::error& e) { wait_answer = svc::error_of(e, "wait").message; });
  CHECK_THAT(wait_answer, Catch::Contains("node b went away with the request in hand"));
  expected<run_meta> st = make_error(errc::timeout, "never asked");
  REQUIRE(test::eventually(
    [&] {
      st = ask<run_meta>(*cl.sys, to_c, svc::status_atom::value, id);
      return !st && st.error().code == errc::shut_down;
    },
    10s, 20ms));
  CHECK(st.error().message.find("run " + id) != std::string::npos);
  CHECK(st.error().message.find("b") != std::string::npos);

  WHEN("b returns on its data directory") {
    b = std::make_unique<node_process>(files, "b");
    REQUIRE(test::eventually([&] { return all_up(*cl.sys, to_a) && all_up(*cl.sys, to_c); },
                             20s));
    THEN("a signal from c reaches the run and it completes on b") {
      REQUIRE(ask<caf::ok_atom>(*cl.sys, to_c, svc::signal_atom::value, id, std::string{"go"},
                                to_bytes(std::string{"back"})));
      auto out = ask<run_outcome>(*cl.sys, to_a, svc::wait_atom::value, id,
                                  std::int64_t{20'000});
      REQUIRE(out);
      CHECK(from_bytes<std::string>(out->result) == "b:back");
    }
  }
}
