// Steps marked run_inline(): the function runs on the run's own thread, not
// on an activity worker, and everything a step promises still holds:
// journaled before the workflow goes on, retried by its policy, replayed
// (not re-run) after a restart.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>

#include "actors/runtime_fixture.hpp"
#include "actors/step_gate.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

std::atomic<int> doubled{0};
std::atomic<int> flaky_attempts{0};

task<int> inline_then_wait(context& ctx, int n) {
  auto twice = [](int x) {
    ++doubled;
    return 2 * x;
  };
  auto flaky = [](int x) {
    if (++flaky_attempts < 3)
      throw retryable_error("not yet");
    return x + 1;
  };
  n = co_await ctx.step("double", twice, n).run_inline();
  n = co_await ctx.step("flaky", flaky, n).retry(fast(5)).run_inline();
  auto extra = co_await ctx.wait_signal<int>("extra");
  co_return n + extra.value_or(0);
}

step_gate gate;

task<int> blocked_pooled_step(context& ctx, int n) {
  auto block = [](int x) {
    gate.pass("block");
    return x;
  };
  co_return co_await ctx.step("block", block, n);
}

task<int> inline_only(context& ctx, int n) {
  auto inc = [](int x) { return x + 1; };
  for (int k = 0; k < 5; ++k)
    n = co_await ctx.step("inc", inc, n).run_inline();
  co_return n;
}

task<int> inline_with_timeout(context& ctx, int n) {
  auto inc = [](int x) { return x + 1; };
  retry_policy p = fast(2);
  p.attempt_timeout = 100ms;
  co_return co_await ctx.step("timed", inc, n).retry(p).run_inline();
}

task<int> signal_then_inline(context& ctx, int n) {
  auto held = [](int x) {
    gate.pass("inline");
    return x;
  };
  auto go = co_await ctx.wait_signal<int>("go");
  co_return co_await ctx.step("held", held, n + go.value_or(0)).run_inline();
}

} // namespace

SCENARIO("a signal's sender is answered without waiting for the inline step it resumed",
         "[workflow]") {
  gate.reset(10s);
  runtime_fixture f{[](workflow_registry& r) { r.add("signal_then_inline", &signal_then_inline); }};
  step_gate::opener open_at_exit{gate};
  REQUIRE(f.rt().start("signal_then_inline", "r4", 1) == run_status::running);
  REQUIRE(f.await_status("r4", run_status::waiting));
  auto sent = std::async(std::launch::async, [&] { return f.rt().signal("r4", "go", 2); });
  // The body runs on the run's thread once the signal's commit is durable,
  // and is held there; the answer that the signal was journaled must not
  // wait for it (a human gateway waits for that answer, one decision at a
  // time).
  REQUIRE(gate.await_waiting("inline"));
  bool answered = sent.wait_for(5s) == std::future_status::ready;
  CHECK(gate.waiting() == 1);  // still held when the answer came
  gate.release("inline");
  REQUIRE(answered);
  CHECK(sent.get());
  auto out = f.rt().wait("r4", 10s);
  REQUIRE(out);
  CHECK(out->value<int>() == 3);
}

SCENARIO("inline steps are journaled, retried and replayed like pooled ones", "[workflow]") {
  doubled = 0;
  flaky_attempts = 0;
  runtime_fixture f{[](workflow_registry& r) { r.add("inline_then_wait", &inline_then_wait); }};
  REQUIRE(f.rt().start("inline_then_wait", "r1", 20) == run_status::running);
  // The run also waits during each retry backoff: first see the third
  // attempt, then the wait for the signal.
  REQUIRE(eventually([] { return flaky_attempts == 3; }));
  REQUIRE(f.await_status("r1", run_status::waiting));
  CHECK(doubled == 1);

  f.reopen();  // a restart: both results come from the journal
  REQUIRE(f.rt().signal("r1", "extra", 100));
  auto out = f.rt().wait("r1", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
  CHECK(out->value<int>() == 141);
  CHECK(doubled == 1);
  CHECK(flaky_attempts == 3);
}

SCENARIO("an inline step needs no activity worker", "[workflow]") {
  gate.reset();
  runtime_fixture f{[](workflow_registry& r) {
                      r.add("blocked", &blocked_pooled_step);
                      r.add("inline_only", &inline_only);
                    },
                    [](runtime_options& o) { o.activity_threads = 1; }};
  step_gate::opener open_at_exit{gate};
  REQUIRE(f.rt().start("blocked", "holder", 1) == run_status::running);
  // The only activity worker is busy until released; inline steps go on.
  REQUIRE(gate.await_waiting("block"));
  REQUIRE(f.rt().start("inline_only", "r2", 0) == run_status::running);
  auto out = f.rt().wait("r2", 10s);
  CHECK(gate.waiting() == 1);  // the worker was held throughout
  gate.release("block");
  REQUIRE(out);
  CHECK(out->value<int>() == 5);
  auto holder = f.rt().wait("holder", 10s);
  REQUIRE(holder);
  CHECK(holder->status == run_status::completed);
}

SCENARIO("an inline step with an attempt timeout fails and says why", "[workflow]") {
  runtime_fixture f{[](workflow_registry& r) { r.add("timed", &inline_with_timeout); }};
  REQUIRE(f.rt().start("timed", "r3", 0) == run_status::running);
  auto out = f.rt().wait("r3", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::failed);
  CHECK_THAT(out->error, Catch::Contains("'timed'") && Catch::Contains("run r3")
                           && Catch::Contains("run_inline()")
                           && Catch::Contains("attempt timeout"));
}
