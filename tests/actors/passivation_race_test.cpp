// Signals and cancels racing passivation: a run actor that is stopping
// because it passivated (or finished a wait) when a request reaches it must
// not drop the request. Every signal is journaled and consumed exactly once,
// every cancel is journaled and ends the run. Thousands of races, with runs
// that passivate the moment they wait.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "actors/runtime_fixture.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

constexpr int ticks_per_run = 20;

/// Adds up `ticks_per_run` signals; waits (and passivates) before each.
task<int> ticker(context& ctx, int) {
  int sum = 0;
  for (int i = 0; i < ticks_per_run; ++i) {
    auto v = co_await ctx.wait_signal<int>("tick");
    sum += v.value_or(-1'000'000);
  }
  co_return sum;
}

/// Waits for a signal that never comes.
task<int> idler(context& ctx, int) {
  co_await ctx.wait_signal<int>("never");
  co_return 0;
}

void workflows(workflow_registry& r) {
  r.add("ticker", &ticker);
  r.add("idler", &idler);
}

void passivate_at_once(runtime_options& o) { o.passivate_after = 0ms; }

/// Starts `n` runs of `workflow` named prefix0.., returns once all are durable.
void start_all(runtime& rt, const std::string& workflow, const std::string& prefix, int n) {
  // Counted through a shared block: a late answer must not touch a dead frame.
  auto started = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < n; ++i)
    rt.start_async(workflow, prefix + std::to_string(i), to_bytes(0),
                   [started](expected<run_status> s) { started->fetch_add(s ? 1 : 0); });
  REQUIRE(eventually([&] { return started->load() == n; }, 60s));
}

} // namespace

SCENARIO("4,000 signals racing passivation are all journaled and consumed once",
         "[passivation][race]") {
  runtime_fixture f{workflows, passivate_at_once};
  constexpr int runs = 200;
  start_all(f.rt(), "ticker", "t", runs);
  // 4 threads, each signalling every run in turn: a run's next signal
  // usually arrives while its actor is between consuming one and stopping.
  std::atomic<int> refused{0};
  std::string first_refusal;
  std::mutex refusal_mutex;
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t)
    senders.emplace_back([&, t] {
      for (int k = t; k < ticks_per_run; k += 4)
        for (int i = 0; i < runs; ++i)
          if (auto ok = f.rt().signal("t" + std::to_string(i), "tick", k + 1); !ok) {
            std::lock_guard g{refusal_mutex};
            if (refused++ == 0)
              first_refusal = ok.error().to_string();
          }
    });
  for (auto& s : senders)
    s.join();
  INFO("first refusal: " << first_refusal);
  CHECK(refused == 0);
  constexpr int expected_sum = ticks_per_run * (ticks_per_run + 1) / 2;
  for (int i = 0; i < runs; ++i) {
    auto out = f.rt().wait("t" + std::to_string(i), 30s);
    REQUIRE(out);
    REQUIRE(out->status == run_status::completed);
    CHECK(out->value<int>() == expected_sum);
  }
}

SCENARIO("1,000 cancels racing passivation all end their runs", "[passivation][race]") {
  runtime_fixture f{workflows, passivate_at_once};
  constexpr int runs = 1000;
  start_all(f.rt(), "idler", "i", runs);
  // A signal nobody waits for wakes each run (journaled, then it passivates
  // again at once) while the cancel races it.
  std::atomic<int> refused{0};
  std::thread noise([&] {
    for (int i = 0; i < runs; ++i)
      (void)f.rt().signal("i" + std::to_string(i), "noise", 0);
  });
  std::thread cancels([&] {
    for (int i = 0; i < runs; ++i)
      if (!f.rt().cancel("i" + std::to_string(i), "race"))
        ++refused;
  });
  noise.join();
  cancels.join();
  CHECK(refused == 0);
  int cancelled = 0;
  for (int i = 0; i < runs; ++i) {
    auto out = f.rt().wait("i" + std::to_string(i), 30s);
    REQUIRE(out);
    cancelled += out->status == run_status::cancelled ? 1 : 0;
  }
  CHECK(cancelled == runs);
}
