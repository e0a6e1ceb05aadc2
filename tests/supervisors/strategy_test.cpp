// Real supervisor actors on the deterministic scheduler: each strategy
// restarts exactly the right children, in the right order, after the
// backoff; transient and temporary children; exceptions become reasons.
#include "sup_fixture.hpp"

#include "endure/supervisors/exit_reasons.hpp"
#include "endure/supervisors/supervisor.hpp"

#include <catch2/catch.hpp>

using namespace endure;
using namespace sup_test;
using strings = std::vector<std::string>;
using std::chrono::milliseconds;

namespace {

supervisor_flags immediate(restart_strategy s) {
  supervisor_flags flags;
  flags.strategy = s;
  flags.intensity = 10;
  flags.period = milliseconds{60'000};
  flags.backoff.initial = milliseconds{0};
  return flags;
}

} // namespace

TEST_CASE_METHOD(coordinator_fixture, "supervisors: each strategy restarts the right children",
                 "[supervisors][strategy]") {
  auto log = std::make_shared<event_log>();
  auto [strategy, expected] = GENERATE(
    std::make_pair(restart_strategy::one_for_one, strings{"stop:b", "start:b"}),
    std::make_pair(restart_strategy::one_for_all,
                   strings{"stop:b", "stop:c", "stop:a", "start:a", "start:b",
                           "start:c"}),
    std::make_pair(restart_strategy::rest_for_one,
                   strings{"stop:b", "stop:c", "start:b", "start:c"}));
  auto sup = spawn_supervisor(sys, immediate(strategy),
                              {worker_spec("a", log), worker_spec("b", log),
                               worker_spec("c", log)});
  REQUIRE(sup);
  own(*sup);
  run();
  REQUIRE(log->events() == strings{"start:a", "start:b", "start:c"});
  log->clear();
  caf::anon_send(log->current("b"), crash_atom::value);
  run();
  CHECK(log->events() == expected);
}

TEST_CASE_METHOD(coordinator_fixture, "supervisors: a restart waits for the backoff",
                 "[supervisors][strategy]") {
  auto log = std::make_shared<event_log>();
  auto flags = immediate(restart_strategy::one_for_one);
  flags.backoff = {milliseconds{100}, milliseconds{1000}, 2.0, 0.0};
  auto sup = spawn_supervisor(sys, flags, {worker_spec("a", log)});
  REQUIRE(sup);
  own(*sup);
  run();
  auto crash_and_wait = [&](milliseconds delay) {
    log->clear();
    caf::anon_send(log->current("a"), crash_atom::value);
    run();
    CHECK(log->events() == strings{"stop:a"});
    advance(delay - milliseconds{1});
    CHECK(log->count("start:a") == 0);
    advance(milliseconds{1});
    CHECK(log->count("start:a") == 1);
  };
  crash_and_wait(milliseconds{100});
  crash_and_wait(milliseconds{200}); // second restart inside the window
  crash_and_wait(milliseconds{400});
}

TEST_CASE_METHOD(coordinator_fixture, "supervisors: transient and temporary children",
                 "[supervisors][strategy]") {
  auto log = std::make_shared<event_log>();
  auto sup = spawn_supervisor(
    sys, immediate(restart_strategy::one_for_all),
    {worker_spec("perm", log), worker_spec("trans", log, restart_type::transient),
     worker_spec("temp", log, restart_type::temporary)});
  REQUIRE(sup);
  own(*sup);
  run();
  auto count = [&] {
    self->send(*sup, count_atom::value);
    run();
    std::uint64_t n = 0;
    self->receive([&](std::uint64_t x) { n = x; },
                  caf::after(std::chrono::seconds(0)) >> [] { FAIL("no reply"); });
    return n;
  };
  CHECK(count() == 3);
  log->clear();
  SECTION("a transient child that finishes normally is left stopped") {
    caf::anon_send(log->current("trans"), finish_atom::value);
    run();
    CHECK(log->events() == strings{"stop:trans"});
    CHECK(count() == 2);
  }
  SECTION("a temporary child that crashes is removed, nothing restarts") {
    caf::anon_send(log->current("temp"), crash_atom::value);
    run();
    CHECK(log->events() == strings{"stop:temp"});
    CHECK(count() == 2);
  }
  SECTION("one_for_all stops a temporary sibling and does not restart it") {
    caf::anon_send(log->current("trans"), crash_atom::value);
    run();
    CHECK(log->events()
          == strings{"stop:trans", "stop:temp", "stop:perm", "start:perm",
                     "start:trans"});
    CHECK(count() == 2);
  }
}

TEST_CASE_METHOD(coordinator_fixture, "supervisors: an exception becomes a readable exit reason",
                 "[supervisors][exceptions]") {
  auto log = std::make_shared<event_log>();
  auto worker = spawn_worker(*self.ptr(), "x", log, worker_kind::normal);
  own(worker);
  self->monitor(worker);
  run();
  caf::anon_send(worker, crash_atom::value);
  run();
  auto reason = next_down_reason();
  CHECK(is(reason, sup_errc::child_exception));
  CHECK(describe(reason) == "child_exception: x crashed");
  CHECK(classify(reason) == exit_kind::abnormal);
  CHECK(classify(caf::exit_reason::user_shutdown) == exit_kind::shutdown);
  CHECK(classify(caf::error{}) == exit_kind::normal);
}

TEST_CASE_METHOD(coordinator_fixture, "supervisors: a failed initial start stops the others",
                 "[supervisors][strategy]") {
  auto log = std::make_shared<event_log>();
  child_spec broken;
  broken.id = "broken";
  broken.start = [](caf::local_actor&) -> caf::actor {
    throw std::runtime_error("no database");
  };
  auto sup = spawn_supervisor(sys, immediate(restart_strategy::one_for_one),
                              {worker_spec("a", log), worker_spec("b", log),
                               broken, worker_spec("never", log)});
  REQUIRE(sup);
  self->monitor(*sup);
  run();
  CHECK(log->events() == strings{"start:a", "start:b", "stop:b", "stop:a"});
  auto reason = next_down_reason();
  CHECK(is(reason, sup_errc::start_failed));
  CHECK(describe(reason) == "start_failed: child \"broken\": no database");
}

TEST_CASE_METHOD(coordinator_fixture, "supervisors: a supervisor whose first child fails exits",
                 "[supervisors][strategy]") {
  child_spec broken;
  broken.id = "broken";
  broken.start = [](caf::local_actor&) { return caf::actor{}; };
  auto sup = spawn_supervisor(sys, immediate(restart_strategy::one_for_one),
                              {broken});
  REQUIRE(sup);
  self->monitor(*sup);
  run();
  auto reason = next_down_reason();
  CHECK(describe(reason)
        == "start_failed: child \"broken\": start function returned no actor");
}

TEST_CASE_METHOD(coordinator_fixture, "supervisors: failed restarts count toward the intensity",
                 "[supervisors][strategy]") {
  auto log = std::make_shared<event_log>();
  auto starts = std::make_shared<int>(0);
  auto flaky = worker_spec("db", log);
  flaky.start = [log, starts](caf::local_actor& sup) -> caf::actor {
    if ((*starts)++ > 0)
      throw std::runtime_error("connection refused");
    return spawn_worker(sup, "db", log, worker_kind::normal);
  };
  auto flags = immediate(restart_strategy::one_for_one);
  flags.intensity = 2;
  auto sup = spawn_supervisor(sys, flags, {flaky});
  REQUIRE(sup);
  self->monitor(*sup);
  run();
  caf::anon_send(log->current("db"), crash_atom::value);
  run();
  // crash (1), failed restart (2), failed restart (3 > 2): give up.
  CHECK(*starts == 3);
  auto reason = next_down_reason();
  CHECK(is(reason, sup_errc::intensity_exceeded));
  CHECK(describe(reason)
        == "intensity_exceeded: child \"db\" restarted too often; last exit: "
           "start_failed: child \"db\": connection refused");
}
