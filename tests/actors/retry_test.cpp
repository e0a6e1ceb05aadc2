// Retries: classification decides, the policy shapes the backoff, the
// backoff is durable, fatal errors are never retried, exhausted retries fail
// the run with the last error, attempt timeouts abandon hung attempts (and
// ignore their late results), a backoff ends at its due time, never
// before, and after a restart only what is left of it is waited.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "actors/runtime_fixture.hpp"
#include "actors/step_gate.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

std::atomic<int> attempts{0};

task<int> flaky(context& ctx, int fail_times) {
  co_return co_await ctx.step("flaky", [fail_times](const step_info& info) {
    ++attempts;
    if (static_cast<int>(info.attempt) <= fail_times)
      throw retryable_error("transient #" + std::to_string(info.attempt));
    return static_cast<int>(info.attempt);
  }).retry(fast(5));
}

task<int> fatal_step(context& ctx, int) {
  co_return co_await ctx.step("charge", [] {
    ++attempts;
    throw fatal_error("card declined");
    return 0;
  }).retry(fast(5));
}

task<int> untyped_throw(context& ctx, int) {
  co_return co_await ctx.step("boom", []() -> int {
    ++attempts;
    throw std::runtime_error("plain exception");
  }).retry(fast(3));
}

task<int> rate_limited(context& ctx, int) {
  co_return co_await ctx.step("api", [](const step_info& info) {
    ++attempts;
    if (info.attempt == 1)
      throw rate_limited_error("429", 300ms);
    return 7;
  }).retry(fast(3));
}

task<int> caught(context& ctx, int) {
  try {
    co_await ctx.step("charge", [] { throw fatal_error("no"); return 0; }).retry(fast(2));
  } catch (const step_failed_error& e) {
    co_return e.info().cls == failure_class::fatal ? 42 : -1;
  }
  co_return 0;
}

step_gate gate;

task<int> hangs(context& ctx, int) {
  auto p = fast(3);
  p.attempt_timeout = 100ms;
  co_return co_await ctx.step("hang", [](const step_info& info) {
    ++attempts;
    if (info.attempt == 1)
      gate.pass("hung");  // hangs until the test lets it return, late
    return static_cast<int>(info.attempt);
  }).retry(p);
}

/// Wall clock (ms) when the second attempt of "slow-retry" began.
std::atomic<std::int64_t> second_attempt_at{0};

/// A step that fails once, then succeeds after a backoff of `backoff_ms`.
task<int> long_backoff(context& ctx, int backoff_ms) {
  retry_policy p;
  p.max_attempts = 2;
  p.initial_interval = std::chrono::milliseconds{backoff_ms};
  p.jitter = false;
  co_return co_await ctx.step("slow-retry", [](const step_info& info) {
    ++attempts;
    if (info.attempt == 1)
      throw retryable_error("first attempt fails");
    second_attempt_at = wall_ms();
    return 99;
  }).retry(p);
}

void all_workflows(workflow_registry& r) {
  r.add("flaky", &flaky);
  r.add("fatal", &fatal_step);
  r.add("untyped", &untyped_throw);
  r.add("rate", &rate_limited);
  r.add("caught", &caught);
  r.add("hangs", &hangs);
  r.add("backoff", &long_backoff);
}

} // namespace

SCENARIO("retryable failures are retried until an attempt succeeds", "[retry]") {
  attempts = 0;
  runtime_fixture f{all_workflows};
  REQUIRE(f.rt().start("flaky", "r", 2));
  auto out = f.rt().wait("r", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
  CHECK(out->value<int>() == 3);
  CHECK(attempts == 3);
}

SCENARIO("exhausted retries fail the run with the last error", "[retry]") {
  attempts = 0;
  runtime_fixture f{all_workflows};
  REQUIRE(f.rt().start("flaky", "r", 10));
  auto out = f.rt().wait("r", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::failed);
  CHECK_THAT(out->error, Catch::Contains("transient #5"));
  CHECK(attempts == 5);
}

SCENARIO("fatal errors are never retried", "[retry]") {
  attempts = 0;
  runtime_fixture f{all_workflows};
  REQUIRE(f.rt().start("fatal", "r", 0));
  auto out = f.rt().wait("r", 10s);
  CHECK(out->status == run_status::failed);
  CHECK_THAT(out->error, Catch::Contains("card declined") && Catch::Contains("fatal"));
  CHECK(attempts == 1);
}

SCENARIO("unclassified exceptions count as retryable", "[retry]") {
  attempts = 0;
  runtime_fixture f{all_workflows};
  REQUIRE(f.rt().start("untyped", "r", 0));
  auto out = f.rt().wait("r", 10s);
  CHECK(out->status == run_status::failed);
  CHECK_THAT(out->error, Catch::Contains("plain exception"));
  CHECK(attempts == 3);
}

SCENARIO("a rate-limited step waits at least its retry-after", "[retry]") {
  attempts = 0;
  runtime_fixture f{all_workflows};
  REQUIRE(f.rt().start("rate", "r", 0));
  auto out = f.rt().wait("r", 10s);
  CHECK(out->value<int>() == 7);
  CHECK(attempts == 2);
  // The journal's clock: the second attempt began at least 300 ms after
  // the first one failed, though the policy's own backoff is 1-5 ms.
  auto failed = f.events<step_failed_event>("r");
  auto started = f.events<step_started_event>("r");
  REQUIRE(failed.size() == 1);
  REQUIRE(started.size() == 2);
  CHECK(failed[0].retry_at_ms - failed[0].at_ms >= 300);
  CHECK(started[1].at_ms >= failed[0].at_ms + 300);
}

SCENARIO("a workflow can catch a step's final failure", "[retry]") {
  runtime_fixture f{all_workflows};
  REQUIRE(f.rt().start("caught", "r", 0));
  auto out = f.rt().wait("r", 10s);
  CHECK(out->status == run_status::completed);
  CHECK(out->value<int>() == 42);
}

SCENARIO("a hung attempt is abandoned after its timeout and retried", "[retry]") {
  attempts = 0;
  gate.reset();
  // One activity thread: attempt 2 queues behind the hung attempt 1, so
  // attempt 1's late result reaches the run while attempt 2 is pending.
  runtime_fixture f{all_workflows, [](runtime_options& o) { o.activity_threads = 1; }};
  step_gate::opener open_at_exit{gate};
  REQUIRE(f.rt().start("hangs", "r", 0));
  REQUIRE(gate.await_waiting("hung"));
  // Abandoned after 100 ms, and attempt 2 started, while attempt 1 hangs.
  REQUIRE(eventually([&] { return f.events<step_started_event>("r").size() == 2; }));
  auto failed = f.events<step_failed_event>("r");
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].attempt == 1);
  CHECK_THAT(failed[0].message, Catch::Contains("timed out"));
  gate.release("hung");  // attempt 1 returns, late, then attempt 2 runs
  auto out = f.rt().wait("r", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
  CHECK(out->value<int>() == 2);  // the late result of attempt 1 was ignored
  auto completed = f.events<step_completed_event>("r");
  REQUIRE(completed.size() == 1);
  CHECK(completed[0].attempt == 2);
  CHECK(attempts == 2);
}

namespace {

/// The journaled failure of attempt 1 of run `id`, with its backoff.
step_failed_event await_first_failure(runtime_fixture& f, const std::string& id) {
  std::vector<step_failed_event> failed;
  REQUIRE(eventually([&] { return !(failed = f.events<step_failed_event>(id)).empty(); }));
  return failed.front();
}

} // namespace

SCENARIO("a durable backoff ends at its due time, never before", "[retry]") {
  attempts = 0;
  runtime_fixture f{all_workflows};
  constexpr std::int64_t backoff_ms = 1000;
  REQUIRE(f.rt().start("backoff", "r", static_cast<int>(backoff_ms)));
  auto failed = await_first_failure(f, "r");
  CHECK(failed.retry_at_ms - failed.at_ms == backoff_ms);
  auto out = f.rt().wait("r", 10s);
  REQUIRE(out);
  CHECK(out->value<int>() == 99);
  CHECK(attempts == 2);
  CHECK(second_attempt_at >= failed.retry_at_ms);
  CHECK(second_attempt_at - failed.retry_at_ms < backoff_ms - 300);  // nor twice as long
}

SCENARIO("after a restart, a durable backoff waits only what is left of it", "[retry]") {
  attempts = 0;
  runtime_fixture f{all_workflows};
  constexpr std::int64_t backoff_ms = 2000;
  REQUIRE(f.rt().start("backoff", "r", static_cast<int>(backoff_ms)));
  auto failed = await_first_failure(f, "r");
  auto due = failed.retry_at_ms;
  CHECK(due - failed.at_ms == backoff_ms);
  // Restart halfway through the backoff. Not synchronisation: the point in
  // time is what this test is about.
  std::this_thread::sleep_until(std::chrono::system_clock::time_point{
    std::chrono::milliseconds{due - backoff_ms / 2}});
  REQUIRE(attempts == 1);
  f.reopen();
  auto out = f.rt().wait("r", 10s);
  REQUIRE(out);
  CHECK(out->value<int>() == 99);
  CHECK(attempts == 2);
  // Never before its due time...
  CHECK(second_attempt_at >= due);
  // ...and not the whole backoff again from the restart, which would begin
  // at least backoff_ms / 2 after the due time.
  CHECK(second_attempt_at - due < backoff_ms / 2 - 300);
  CHECK(f.rt().store().due_timers(INT64_MAX, 10)->empty());
}
