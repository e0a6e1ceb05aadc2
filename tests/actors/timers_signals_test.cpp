// Durable timers and signals: a sleep survives a restart; a signal sent
// before the wait, during it or while the process is down is delivered
// exactly once; a wait with a timeout returns nothing when it expires.
#include <catch2/catch.hpp>

#include <atomic>

#include "actors/runtime_fixture.hpp"
#include "actors/events.hpp"
#include "persistence/journal.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

std::atomic<int> after_sleep{0};

task<int> sleeper(context& ctx, int ms) {
  co_await ctx.sleep(std::chrono::milliseconds{ms});
  co_return co_await ctx.step("after", [] { return ++after_sleep; });
}

task<std::string> approval(context& ctx, int timeout_ms) {
  auto first = co_await ctx.wait_signal<std::string>("approve", std::chrono::milliseconds{timeout_ms});
  auto second = co_await ctx.wait_signal<std::string>("approve", std::chrono::milliseconds{timeout_ms});
  co_return first.value_or("timeout") + "," + second.value_or("timeout");
}

void workflows(workflow_registry& r) {
  r.add("sleeper", &sleeper);
  r.add("approval", &approval);
}

} // namespace

SCENARIO("a durable sleep survives a restart", "[timer]") {
  after_sleep = 0;
  runtime_fixture f{workflows};
  REQUIRE(f.rt().start("sleeper", "s", 800));
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 200 && f.rt().store().due_timers(INT64_MAX, 1)->empty(); ++i)
    std::this_thread::sleep_for(5ms);
  f.reopen();
  auto out = f.rt().wait("s", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took >= 700ms);   // the sleep was not skipped...
  CHECK(took < 800ms + 2s);  // ...nor started over after the restart
  CHECK(after_sleep == 1);
}

SCENARIO("signals are delivered exactly once, whenever they arrive", "[signal]") {
  runtime_fixture f{workflows};
  GIVEN("a signal sent before the run waits for it") {
    REQUIRE(f.rt().start("approval", "a", 0));
    // The first wait may or may not have begun: either way both land once.
    REQUIRE(f.rt().signal("a", "approve", std::string{"one"}));
    REQUIRE(f.rt().signal("a", "approve", std::string{"two"}));
    auto out = f.rt().wait("a", 10s);
    CHECK(out->value<std::string>() == "one,two");
  }
  GIVEN("a signal sent while the run waits, and another after a restart") {
    REQUIRE(f.rt().start("approval", "b", 0));
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
    REQUIRE(f.rt().start("approval", "c", 100));
    auto out = f.rt().wait("c", 10s);
    CHECK(out->value<std::string>() == "timeout,timeout");
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
  for (int i = 0; i < 2000 && f.rt().stats().live_actors > 0; ++i)
    std::this_thread::sleep_for(5ms);
  CHECK(f.rt().stats().live_actors == 0);
  CHECK(f.rt().store().run("p")->status == run_status::waiting);
  REQUIRE(f.rt().signal("p", "approve", std::string{"x"}));
  REQUIRE(f.rt().signal("p", "approve", std::string{"y"}));
  CHECK(f.rt().wait("p", 10s)->value<std::string>() == "x,y");
}
