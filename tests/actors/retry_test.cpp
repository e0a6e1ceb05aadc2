// Retries: classification decides, the policy shapes the backoff, the
// backoff is durable, fatal errors are never retried, exhausted retries fail
// the run with the last error, attempt timeouts abandon hung attempts.
#include <catch2/catch.hpp>

#include <atomic>

#include "actors/runtime_fixture.hpp"

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

task<int> hangs(context& ctx, int) {
  auto p = fast(3);
  p.attempt_timeout = 100ms;
  co_return co_await ctx.step("hang", [](const step_info& info) {
    ++attempts;
    if (info.attempt == 1)
      std::this_thread::sleep_for(1s);  // abandoned; its late result is ignored
    return static_cast<int>(info.attempt);
  }).retry(p);
}

task<int> long_backoff(context& ctx, int) {
  retry_policy p;
  p.max_attempts = 2;
  p.initial_interval = 1500ms;
  p.jitter = false;
  co_return co_await ctx.step("slow-retry", [](const step_info& info) {
    ++attempts;
    if (info.attempt == 1)
      throw retryable_error("first attempt fails");
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
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(f.rt().start("rate", "r", 0));
  auto out = f.rt().wait("r", 10s);
  CHECK(out->value<int>() == 7);
  CHECK(std::chrono::steady_clock::now() - t0 >= 300ms);
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
  runtime_fixture f{all_workflows};
  REQUIRE(f.rt().start("hangs", "r", 0));
  auto out = f.rt().wait("r", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
  CHECK(out->value<int>() == 2);  // the late result of attempt 1 was ignored
}

SCENARIO("a durable backoff survives a restart", "[retry]") {
  attempts = 0;
  runtime_fixture f{all_workflows};
  REQUIRE(f.rt().start("backoff", "r", 0));
  // Wait until attempt 1 failed and its backoff is journaled, then restart.
  for (int i = 0; i < 200 && f.rt().store().due_timers(INT64_MAX, 1)->empty(); ++i)
    std::this_thread::sleep_for(5ms);
  REQUIRE(attempts == 1);
  auto t0 = std::chrono::steady_clock::now();
  f.reopen();
  auto out = f.rt().wait("r", 10s);
  REQUIRE(out);
  CHECK(out->value<int>() == 99);
  CHECK(attempts == 2);
  // The restart did not start the backoff over, nor skip it.
  CHECK(std::chrono::steady_clock::now() - t0 < 1500ms + 1s);
  CHECK(f.rt().store().due_timers(INT64_MAX, 10)->empty());
}
