// Intensity exceeded -> the supervisor stops its children and exits with a
// reason that says so; its parent decides. Checked through two levels, on
// the deterministic scheduler and on real threads.
#include "sup_fixture.hpp"

#include "endure/supervisors/exit_reasons.hpp"
#include "endure/supervisors/supervisor.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace endure;
using namespace sup_test;
using strings = std::vector<std::string>;
using std::chrono::milliseconds;

namespace {

supervisor_flags flags_with(int intensity) {
  supervisor_flags flags;
  flags.intensity = intensity;
  flags.period = milliseconds{60'000};
  flags.backoff.initial = milliseconds{0};
  return flags;
}

// top (intensity 1): [mid (intensity 0): [w], s]
std::vector<child_spec> two_levels(const log_ptr& log) {
  auto mid = supervisor_child("mid", flags_with(0), {worker_spec("w", log)});
  REQUIRE(mid);
  return {*mid, worker_spec("s", log)};
}

void check_escalated(const caf::error& reason) {
  INFO("reason: " << describe(reason));
  CHECK(is(reason, sup_errc::intensity_exceeded));
  auto text = describe(reason);
  // The chain names the child at each level and the original exception.
  CHECK(text.find("child \"mid\"") != std::string::npos);
  CHECK(text.find("child \"w\"") != std::string::npos);
  CHECK(text.find("child_exception: w crashed") != std::string::npos);
}

} // namespace

TEST_CASE_METHOD(coordinator_fixture, "supervisors: escalation through two levels",
                 "[supervisors][escalation]") {
  auto log = std::make_shared<event_log>();
  auto top = spawn_supervisor(sys, flags_with(1), two_levels(log));
  REQUIRE(top);
  own(*top);
  self->monitor(*top);
  run();
  // mid starts w from its own first turn, so s may start first: each
  // supervisor orders its own children, not its grandchildren.
  auto started = log->ids("start");
  std::sort(started.begin(), started.end());
  REQUIRE(started == strings{"s", "w"});
  log->clear();
  WHEN("w crashes once") {
    caf::anon_send(log->current("w"), crash_atom::value);
    run();
    THEN("mid gives up at once and top restarts mid, which starts a new w") {
      CHECK(log->events() == strings{"stop:w", "start:w"});
    }
    AND_WHEN("w crashes again") {
      log->clear();
      caf::anon_send(log->current("w"), crash_atom::value);
      run();
      THEN("top exceeds its intensity, stops s and exits naming the chain") {
        CHECK(log->events() == strings{"stop:w", "stop:s"});
        check_escalated(next_down_reason());
      }
    }
  }
}

TEST_CASE("supervisors: escalation through two levels on real threads",
          "[supervisors][escalation]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto log = std::make_shared<event_log>();
  caf::scoped_actor self{sys};
  log->notify(self);
  auto await_start = [&](const std::string& id) {
    std::string who;
    self->receive([&](started_atom, const std::string& x) { who = x; },
                  caf::after(std::chrono::seconds(10)) >> [] {});
    return who == id;
  };
  auto top = spawn_supervisor(sys, flags_with(1), two_levels(log));
  REQUIRE(top);
  self->monitor(*top);
  // w and s start in either order (see above).
  auto first = await_start("w");
  auto second = await_start("w");
  REQUIRE(first != second);
  caf::anon_send(log->current("w"), crash_atom::value);
  REQUIRE(await_start("w"));
  // Watch s too: its down message proves top stopped it (the log's stop
  // entry could race with top's own down message on real threads).
  auto s = log->current("s");
  self->monitor(s);
  caf::anon_send(log->current("w"), crash_atom::value);
  caf::error reason;
  bool top_down = false;
  bool s_down = false;
  for (int i = 0; i < 2; ++i)
    self->receive(
      [&](caf::down_msg& msg) {
        if (msg.source == top->address()) {
          reason = msg.reason;
          top_down = true;
        } else if (msg.source == s.address()) {
          s_down = msg.reason == caf::exit_reason::user_shutdown;
        }
      },
      caf::after(std::chrono::seconds(10)) >> [] {});
  REQUIRE(top_down);
  CHECK(s_down);
  check_escalated(reason);
  log->notify({});
}
