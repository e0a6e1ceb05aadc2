// Timer rows belong to runs that still wait on them: the commit that ends a
// run (completed, failed, cancelled) or quarantines it erases them, a
// release stores them again, and the timer service erases any it finds for
// a run that ended. So no number of cancelled sleepers can crowd out a live
// one, and no ended run is woken again and again.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <thread>

#include "actors/runtime_fixture.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

/// Timer rows stored for `run` (all of them, due or not).
std::size_t timer_rows(const journal& store, const std::string& run) {
  auto all = store.due_timers(INT64_MAX, SIZE_MAX);
  REQUIRE(all);
  std::size_t n = 0;
  for (auto& t : *all)
    n += t.run_id == run ? 1 : 0;
  return n;
}

std::size_t all_timer_rows(const journal& store) {
  auto all = store.due_timers(INT64_MAX, SIZE_MAX);
  REQUIRE(all);
  return all->size();
}

task<int> nap(context& ctx, int ms) {
  co_await ctx.sleep(std::chrono::milliseconds{ms});
  co_return ms;
}

} // namespace

SCENARIO("20,000 cancelled sleepers do not delay one live sleeper", "[timers]") {
  constexpr int sleepers = 20'000;
  auto passivate = std::chrono::milliseconds{60'000};
  runtime_fixture f{[](workflow_registry& r) { r.add("nap", &nap); },
                    [&](runtime_options& o) { o.passivate_after = passivate; }};
  auto started = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < sleepers; ++i)
    f.rt().start_async("nap", "c" + std::to_string(i), to_bytes(600'000),
                       [started](expected<run_status> s) { started->fetch_add(s ? 1 : 0); });
  REQUIRE(eventually([&] { return started->load() == sleepers; }, 60s));
  // Cancelled from 4 threads; each cancel is journaled before it returns.
  std::atomic<int> refused{0};
  std::mutex first_mutex;
  std::string first_refusal;
  std::vector<std::thread> cancellers;
  for (int t = 0; t < 4; ++t)
    cancellers.emplace_back([&, t] {
      for (int i = t; i < sleepers; i += 4)
        if (auto ok = f.rt().cancel("c" + std::to_string(i), "not needed"); !ok) {
          std::lock_guard g{first_mutex};
          if (refused++ == 0)
            first_refusal = ok.error().to_string();
        }
    });
  for (auto& t : cancellers)
    t.join();
  INFO("first refusal: " << first_refusal);
  REQUIRE(refused == 0);
  for (int i = 0; i < sleepers; i += 997)
    CHECK(f.ended("c" + std::to_string(i), 30s).status == run_status::cancelled);
  // Every cancelled run's row went with the commit that ended it.
  for (int i = 0; i < 2000 && all_timer_rows(f.rt().store()) > 0; ++i)
    std::this_thread::sleep_for(5ms);
  CHECK(all_timer_rows(f.rt().store()) == 0);

  // Rows an older endure (or a crash-loop quarantine) left behind, all
  // due: more than the timer service reads in one tick (10,000).
  f.close();
  {
    auto j = f.open_journal();
    write_batch b;
    for (int i = 0; i < sleepers; ++i)
      b.put_timer({1000 + i, "c" + std::to_string(i), 0});
    REQUIRE(j->commit(std::move(b)));
  }
  passivate = 10ms;  // the live sleeper is parked: only the timer service wakes it
  f.open();
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(f.rt().start("nap", "live", 1000));
  auto out = f.rt().wait("live", 30s);
  auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
  CHECK(took >= 1000ms);  // woken when due, not before
  CHECK(took < 1000ms + 10s);
  CHECK(timer_rows(f.rt().store(), "live") == 0);
}

namespace {

task<int> nap_v1(context& ctx, int ms) {
  co_await ctx.sleep(std::chrono::milliseconds{ms});
  co_return ms;
}

/// The same workflow name with different code: replay finds a sleep where
/// this asks for a step (non-determinism), so the run is quarantined.
task<int> nap_v2(context& ctx, int ms) {
  auto f = [](int x) { return x; };
  co_return co_await ctx.step("not a sleep", f, ms);
}

} // namespace

SCENARIO("a quarantine erases a sleeper's timer row and its release stores it again",
         "[timers]") {
  bool v2 = false;
  runtime_fixture f{[&](workflow_registry& r) {
                      if (v2)
                        r.add("nap", &nap_v2);
                      else
                        r.add("nap", &nap_v1);
                    },
                    [](runtime_options& o) { o.passivate_after = 10ms; }};
  REQUIRE(f.rt().start("nap", "q", 5000));
  for (int i = 0; i < 2000 && timer_rows(f.rt().store(), "q") == 0; ++i)
    std::this_thread::sleep_for(5ms);
  REQUIRE(timer_rows(f.rt().store(), "q") == 1);

  v2 = true;  // deploy code that changed under the live run
  f.reopen();
  // Parked (waiting) runs are not resumed at open; a signal brings it back
  // at once (and is journaled for it, quarantined or not).
  REQUIRE(f.rt().signal("q", "poke", 0));
  auto quarantined = f.rt().wait("q", 10s);
  REQUIRE(quarantined);
  REQUIRE(quarantined->status == run_status::quarantined);
  CHECK_THAT(quarantined->error, Catch::Contains("non-determinism"));
  CHECK(timer_rows(f.rt().store(), "q") == 0);

  v2 = false;  // roll back, then release: the sleep resumes where it was
  f.reopen();
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(f.rt().release("q", "rolled back"));
  for (int i = 0; i < 2000 && timer_rows(f.rt().store(), "q") == 0; ++i)
    std::this_thread::sleep_for(5ms);
  CHECK(timer_rows(f.rt().store(), "q") == 1);
  // Passivated again within 10 ms: only the restored row can wake it.
  auto out = f.rt().wait("q", 20s);
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
  CHECK(std::chrono::steady_clock::now() - t0 < 15s);
}

SCENARIO("the timer service erases rows left behind by runs that ended", "[timers]") {
  runtime_fixture f{[](workflow_registry& r) { r.add("nap", &nap); }};
  REQUIRE(f.rt().start("nap", "done", 1));
  REQUIRE(f.ended("done", 10s).status == run_status::completed);
  f.close();
  {  // as an older endure, or a crash-loop quarantine, left them
    auto j = f.open_journal();
    write_batch b;
    for (std::uint64_t i = 0; i < 3; ++i)
      b.put_timer({1000 + static_cast<std::int64_t>(i), "done", i});
    b.put_timer({1000, "never-created", 0});
    REQUIRE(j->commit(std::move(b)));
    REQUIRE(all_timer_rows(*j) == 4);
  }
  f.open();
  for (int i = 0; i < 2000 && all_timer_rows(f.rt().store()) > 0; ++i)
    std::this_thread::sleep_for(5ms);
  CHECK(all_timer_rows(f.rt().store()) == 0);
}
