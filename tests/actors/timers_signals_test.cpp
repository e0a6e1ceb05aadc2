// Durable timers and signals: a sleep ends at its due time, never before,
// and after a restart only its remaining time is waited; a signal sent
// before the wait, during it or while the process is down is delivered
// exactly once; a wait with a timeout returns nothing when it expires.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "actors/runtime_fixture.hpp"
#include "actors/step_gate.hpp"
#include "endure/actors/events.hpp"
#include "endure/persistence/journal.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

std::atomic<int> after_sleep{0};
/// Wall clock (ms) when the step after the sleep ran.
std::atomic<std::int64_t> after_sleep_at{0};

task<int> sleeper(context& ctx, int ms) {
  co_await ctx.sleep(std::chrono::milliseconds{ms});
  co_return co_await ctx.step("after", [] {
    after_sleep_at = wall_ms();
    return ++after_sleep;
  });
}

task<std::string> approval(context& ctx, int timeout_ms) {
  auto first = co_await ctx.wait_signal<std::string>("approve", std::chrono::milliseconds{timeout_ms});
  auto second = co_await ctx.wait_signal<std::string>("approve", std::chrono::milliseconds{timeout_ms});
  co_return first.value_or("timeout") + "," + second.value_or("timeout");
}

step_gate gate;

/// A step held at the gate, then the two waits of approval().
task<std::string> busy_then_approval(context& ctx, int) {
  auto hold = [] { gate.pass("busy"); };
  co_await ctx.step("busy", hold);
  co_return co_await approval(ctx, 0);
}

/// The journal whose commits wait_then_step counts, and the count when
/// its step's body started.
std::atomic<const journal*> watched{nullptr};
std::atomic<std::uint64_t> commits_at_step{0};
std::atomic<std::uint64_t> batches_at_step{0};

/// With `hours` > 0 the wait has that timeout (a durable timer of its own).
task<int> wait_then_step(context& ctx, int hours) {
  auto go = co_await ctx.wait_signal<int>("go", std::chrono::hours{hours});
  auto count = [] {
    commits_at_step = watched.load()->stats().commits;
    batches_at_step = watched.load()->stats().batches;
    return 1;
  };
  auto after = co_await ctx.step("after", count);
  co_return go.value_or(0) + after;
}

void workflows(workflow_registry& r) {
  r.add("wait_then_step", &wait_then_step);
  r.add("sleeper", &sleeper);
  r.add("approval", &approval);
  r.add("busy_then_approval", &busy_then_approval);
}

/// The due time (wall ms) of run `id`'s first durable timer, once journaled.
std::int64_t await_timer_due(runtime_fixture& f, const std::string& id) {
  std::vector<timer_scheduled_event> timers;
  REQUIRE(eventually([&] { return !(timers = f.events<timer_scheduled_event>(id)).empty(); }));
  return timers.front().due_ms;
}

} // namespace

SCENARIO("a durable sleep ends at its due time, never before", "[timer]") {
  after_sleep = 0;
  runtime_fixture f{workflows};
  constexpr std::int64_t sleep_ms = 1000;
  REQUIRE(f.rt().start("sleeper", "s", static_cast<int>(sleep_ms)));
  auto due = await_timer_due(f, "s");
  auto out = f.rt().wait("s", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
  CHECK(after_sleep == 1);
  CHECK(after_sleep_at >= due);
  CHECK(after_sleep_at - due < sleep_ms - 300);  // nor twice as long
}

SCENARIO("a sleep longer than a timer hop ends at its due time on a run that stays live",
         "[timer]") {
  // The run actor's own timer message waits at most a second at a time
  // (run_state::send_timer), re-sent until the due time.
  after_sleep = 0;
  runtime_fixture f{workflows};  // passivation after 60 s: the actor stays
  constexpr std::int64_t sleep_ms = 2500;
  REQUIRE(f.rt().start("sleeper", "s", static_cast<int>(sleep_ms)));
  auto due = await_timer_due(f, "s");
  auto out = f.rt().wait("s", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
  CHECK(f.rt().stats().steps_executed >= 1);
  CHECK(after_sleep == 1);
  CHECK(after_sleep_at >= due);
  CHECK(after_sleep_at - due < 500);
}

SCENARIO("after a restart, a durable sleep waits only what is left of it", "[timer]") {
  after_sleep = 0;
  runtime_fixture f{workflows};
  constexpr std::int64_t sleep_ms = 2000;
  REQUIRE(f.rt().start("sleeper", "s", static_cast<int>(sleep_ms)));
  auto due = await_timer_due(f, "s");
  // Restart halfway through the sleep. Not synchronisation: the point in
  // time is what this test is about.
  std::this_thread::sleep_until(std::chrono::system_clock::time_point{
    std::chrono::milliseconds{due - sleep_ms / 2}});
  f.reopen();
  auto out = f.rt().wait("s", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
  CHECK(after_sleep == 1);
  // Never before its due time...
  CHECK(after_sleep_at >= due);
  // ...and not the whole duration again from the restart, which would end
  // at least sleep_ms / 2 after the due time.
  CHECK(after_sleep_at - due < sleep_ms / 2 - 300);
}

SCENARIO("a signal and the wait it ends share one commit with the step that follows",
         "[signal]") {
  for (auto [passivated, hours] : {std::pair{false, 0}, std::pair{true, 0}, std::pair{true, 24}}) {
    INFO((passivated ? "the run passivated first" : "the run's actor waiting")
         << (hours ? ", its wait with a timeout" : ""));
    runtime_fixture f{workflows, [passivated](runtime_options& o) {
                        if (passivated)
                          o.passivate_after = 10ms;
                      }};
    watched = &f.rt().store();
    REQUIRE(f.rt().start("wait_then_step", "w", hours));
    REQUIRE(f.await_status("w", run_status::waiting));
    if (passivated)
      REQUIRE(eventually([&] { return f.rt().stats().live_actors == 0; }));
    REQUIRE(f.settle_commits());
    auto before = f.rt().store().stats();
    REQUIRE(f.rt().signal("w", "go", 41));
    auto out = f.rt().wait("w", 10s);
    REQUIRE(out);
    CHECK(out->value<int>() == 42);
    // The step's body runs once its start is durable: that one commit also
    // holds the signal and the wait's end, and nothing else was written
    // (a woken run used to store its wait's timer row again, in a batch
    // of its own).
    CHECK(commits_at_step - before.commits == 1);
    CHECK(batches_at_step - before.batches == 1);
    watched = nullptr;
  }
}

SCENARIO("signals are delivered exactly once, whenever they arrive", "[signal]") {
  runtime_fixture f{workflows};
  GIVEN("signals sent before the run waits for them") {
    gate.reset();
    step_gate::opener open_at_exit{gate};
    REQUIRE(f.rt().start("busy_then_approval", "a", 0));
    REQUIRE(gate.await_waiting("busy"));  // the run is in its step, not waiting yet
    REQUIRE(f.rt().signal("a", "approve", std::string{"one"}));
    REQUIRE(f.rt().signal("a", "approve", std::string{"two"}));
    gate.release("busy");
    auto out = f.rt().wait("a", 10s);
    CHECK(out->value<std::string>() == "one,two");
  }
  GIVEN("a signal sent while the run waits, and another after a restart") {
    REQUIRE(f.rt().start("approval", "b", 0));
    REQUIRE(f.await_status("b", run_status::waiting));
    REQUIRE(f.rt().signal("b", "approve", std::string{"first"}));
    f.reopen();
    REQUIRE(f.rt().signal("b", "approve", std::string{"second"}));
    CHECK(f.rt().wait("b", 10s)->value<std::string>() == "first,second");
  }
  GIVEN("a signal sent while the process is down") {
    REQUIRE(f.rt().start("approval", "down", 0));
    REQUIRE(f.rt().signal("down", "approve", std::string{"before"}));
    REQUIRE(f.await_status("down", run_status::waiting));
    f.close();
    {
      auto j = f.open_journal();
      REQUIRE(deliver_signal_offline(*j, "down", "approve", to_bytes(std::string{"offline"})));
      CHECK_FALSE(deliver_signal_offline(*j, "nobody", "approve", to_bytes(1)));
    }
    f.open();
    CHECK(f.rt().wait("down", 10s)->value<std::string>() == "before,offline");
  }
  GIVEN("a wait whose timeout expires") {
    auto t0 = wall_ms();
    REQUIRE(f.rt().start("approval", "c", 100));
    auto out = f.rt().wait("c", 10s);
    CHECK(out->value<std::string>() == "timeout,timeout");
    CHECK(wall_ms() - t0 >= 2 * 100);  // two waits, neither ended early
  }
  GIVEN("a signal to a finished run") {
    REQUIRE(f.rt().start("approval", "d", 10));
    REQUIRE(f.rt().wait("d", 10s));
    auto r = f.rt().signal("d", "approve", std::string{"late"});
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("completed"));
  }
}

SCENARIO("a waiting run is passivated and woken by its signal", "[signal][passivation]") {
  runtime_fixture f{workflows, [](runtime_options& o) { o.passivate_after = 50ms; }};
  REQUIRE(f.rt().start("approval", "p", 0));
  REQUIRE(f.await_status("p", run_status::waiting));
  CHECK(eventually([&] { return f.rt().stats().live_actors == 0; }));
  REQUIRE(f.rt().signal("p", "approve", std::string{"x"}));
  REQUIRE(f.rt().signal("p", "approve", std::string{"y"}));
  CHECK(f.rt().wait("p", 10s)->value<std::string>() == "x,y");
}
