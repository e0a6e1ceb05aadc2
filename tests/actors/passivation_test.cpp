// 10,000 runs waiting on signals are passivated: no actor and no coroutine
// is held for them, and a signal brings any of them back to finish.
#include <catch2/catch.hpp>

#include <fstream>
#include <atomic>
#include <memory>

#include "actors/runtime_fixture.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

task<int> wait_for_go(context& ctx, int n) {
  auto go = co_await ctx.wait_signal<int>("go");
  co_return n + go.value_or(0);
}

long resident_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return 0;
}

} // namespace

SCENARIO("10,000 waiting runs are passivated and woken by their signals", "[passivation]") {
  runtime_fixture f{[](workflow_registry& r) { r.add("wait_for_go", &wait_for_go); },
                    [](runtime_options& o) { o.passivate_after = 20ms; }};
  constexpr int runs = 10'000;
  auto rss_before = resident_kib();
  // Shared with the callbacks, which run on actor threads and may outlive
  // this scope if the test fails.
  auto started = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < runs; ++i)
    f.rt().start_async("wait_for_go", "w" + std::to_string(i), to_bytes(i),
                       [started](expected<run_status> r) { *started += r ? 1 : 0; });
  REQUIRE(eventually([&] { return *started == runs; }, 60s));
  // A run passivates once its waiting status is queued for the journal; the
  // last of those commits may land just after the last actor stopped.
  auto waiting = [&] { return f.rt().store().list_runs(run_status::waiting)->size(); };
  CHECK(eventually([&] { return f.rt().stats().live_actors == 0 && waiting() == runs; }, 30s,
                   10ms));
  CHECK(f.rt().stats().live_actors == 0);
  CHECK(waiting() == runs);
  auto grown_mib = (resident_kib() - rss_before) / 1024;
  INFO("resident memory grew by " << grown_mib << " MiB for " << runs << " passivated runs");
#if !defined(__SANITIZE_ADDRESS__)  // ASan's quarantine and shadow memory dwarf ours
  CHECK(grown_mib < 256);
#endif

  for (int i = 0; i < runs; i += 1000)
    REQUIRE(f.rt().signal("w" + std::to_string(i), "go", 1));
  for (int i = 0; i < runs; i += 1000) {
    auto out = f.rt().wait("w" + std::to_string(i), 30s);
    REQUIRE(out);
    CHECK(out->value<int>() == i + 1);
  }
}

namespace {

task<int> step_then_wait(context& ctx, int n) {
  auto twice = [](int x) { return 2 * x; };
  auto a = co_await ctx.step("twice", twice, n);
  auto t = co_await ctx.now();
  auto go = co_await ctx.wait_signal<int>("go");
  co_return a + go.value_or(0) + (t > 0 ? 0 : -1000);
}

} // namespace

SCENARIO("a run waiting after completed steps is recorded waiting and passivated",
         "[passivation]") {
  runtime_fixture f{[](workflow_registry& r) { r.add("step_then_wait", &step_then_wait); },
                    [](runtime_options& o) { o.passivate_after = 20ms; }};
  for (int i = 0; i < 20; ++i)
    REQUIRE(f.rt().start("step_then_wait", "p" + std::to_string(i), i));
  for (int i = 0; i < 20; ++i)
    CHECK(f.await_status("p" + std::to_string(i), run_status::waiting));
  CHECK(eventually([&] { return f.rt().stats().live_actors == 0; }));
  for (int i = 0; i < 20; ++i)
    REQUIRE(f.rt().signal("p" + std::to_string(i), "go", 1));
  for (int i = 0; i < 20; ++i)
    CHECK(f.rt().wait("p" + std::to_string(i), 10s)->value<int>() == 2 * i + 1);
}
