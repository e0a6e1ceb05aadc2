// Shutdown: children stop in reverse start order, each within its shutdown
// policy; a child that ignores the exit is killed after its timeout, and a
// killed supervisor takes its children along.
#include "sup_fixture.hpp"

#include "endure/supervisors/exit_reasons.hpp"
#include "endure/supervisors/supervisor.hpp"

#include <catch2/catch.hpp>

using namespace endure;
using namespace sup_test;
using strings = std::vector<std::string>;
using std::chrono::milliseconds;

TEST_CASE_METHOD(coordinator_fixture, "supervisors: shutdown stops children in reverse order",
                 "[supervisors][shutdown]") {
  auto log = std::make_shared<event_log>();
  auto sup = spawn_supervisor(sys, supervisor_flags{},
                              {worker_spec("a", log), worker_spec("b", log),
                               worker_spec("c", log)});
  REQUIRE(sup);
  own(*sup);
  self->monitor(*sup);
  run();
  log->clear();
  self->send_exit(*sup, caf::exit_reason::user_shutdown);
  run();
  CHECK(log->events() == strings{"stop:c", "stop:b", "stop:a"});
  CHECK(next_down_reason() == caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(coordinator_fixture,
                 "supervisors: a child that ignores the exit is killed after its timeout",
                 "[supervisors][shutdown]") {
  auto log = std::make_shared<event_log>();
  auto stubborn = worker_spec("b", log, restart_type::permanent,
                              worker_kind::stubborn);
  stubborn.shutdown = shutdown_policy::after(milliseconds{1000});
  auto sup = spawn_supervisor(sys, supervisor_flags{},
                              {worker_spec("a", log), stubborn,
                               worker_spec("c", log)});
  REQUIRE(sup);
  own(*sup);
  self->monitor(*sup);
  run();
  log->clear();
  self->send_exit(*sup, caf::exit_reason::user_shutdown);
  run();
  THEN("a waits for b, which holds out until the timeout") {
    CHECK(log->events() == strings{"stop:c"});
    advance(milliseconds{999});
    CHECK(log->events() == strings{"stop:c"});
    advance(milliseconds{1});
    CHECK(log->events() == strings{"stop:c", "stop:b", "stop:a"});
    CHECK(next_down_reason() == caf::exit_reason::user_shutdown);
  }
}

TEST_CASE_METHOD(coordinator_fixture, "supervisors: brutal_kill does not wait",
                 "[supervisors][shutdown]") {
  auto log = std::make_shared<event_log>();
  auto stubborn = worker_spec("b", log, restart_type::permanent,
                              worker_kind::stubborn);
  stubborn.shutdown = shutdown_policy::brutal_kill();
  auto sup = spawn_supervisor(sys, supervisor_flags{},
                              {worker_spec("a", log), stubborn});
  REQUIRE(sup);
  own(*sup);
  self->monitor(*sup);
  run();
  log->clear();
  self->send_exit(*sup, caf::exit_reason::user_shutdown);
  run();
  CHECK(log->events() == strings{"stop:b", "stop:a"});
  CHECK(next_down_reason() == caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(coordinator_fixture,
                 "supervisors: infinity waits, and killing the supervisor takes children along",
                 "[supervisors][shutdown]") {
  auto log = std::make_shared<event_log>();
  auto stubborn = worker_spec("b", log, restart_type::permanent,
                              worker_kind::stubborn);
  stubborn.shutdown = shutdown_policy::infinity();
  auto sup = spawn_supervisor(sys, supervisor_flags{},
                              {worker_spec("a", log), stubborn});
  REQUIRE(sup);
  own(*sup);
  self->monitor(*sup);
  run();
  log->clear();
  self->send_exit(*sup, caf::exit_reason::user_shutdown);
  advance(milliseconds{3'600'000});
  CHECK(log->events().empty());
  self->send_exit(*sup, caf::exit_reason::kill);
  run();
  CHECK(next_down_reason() == caf::exit_reason::kill);
  CHECK(log->events() == strings{"stop:a", "stop:b"});
}

TEST_CASE_METHOD(coordinator_fixture,
                 "supervisors: a normal exit message does not stop a supervisor",
                 "[supervisors][shutdown]") {
  auto log = std::make_shared<event_log>();
  auto sup = spawn_supervisor(sys, supervisor_flags{}, {worker_spec("a", log)});
  REQUIRE(sup);
  own(*sup);
  run();
  self->send_exit(*sup, caf::exit_reason::normal);
  run();
  self->send(*sup, count_atom::value);
  run();
  std::uint64_t n = 0;
  self->receive([&](std::uint64_t x) { n = x; },
                caf::after(std::chrono::seconds(0)) >> [] {});
  CHECK(n == 1);
}
