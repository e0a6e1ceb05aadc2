// A graceful shutdown (~runtime, a deploy) costs a step in flight nothing:
// its result is journaled when it returns within the deadline, it is not
// run again, and it never counts towards the poison-step limit. A step that
// outlives the deadline is journaled as interrupted (not a crash) and runs
// again at the next start; shutdown itself is bounded by the deadline even
// when a step body never returns.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "endure/actors/events.hpp"
#include "actors/runtime_fixture.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

/// A gate step bodies wait at until the test opens it.
struct gate {
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  int waiting = 0;

  void pass() {
    std::unique_lock g{m};
    ++waiting;
    cv.notify_all();
    // Bounded: a runtime that joined instead of detaching would hang the
    // test here; after a minute the body gives up and the test fails.
    cv.wait_for(g, std::chrono::seconds{60}, [this] { return open; });
    --waiting;
    cv.notify_all();
  }
  /// True once `n` bodies wait at the gate (bounded wait).
  bool await_waiting(int n) {
    std::unique_lock g{m};
    return cv.wait_for(g, 10s, [&] { return waiting >= n; });
  }
  void release() {
    std::lock_guard g{m};
    open = true;
    cv.notify_all();
  }
};

std::atomic<int> executions{0};
std::atomic<int> body_ms{0};
/// Static: a body abandoned at shutdown may still be inside it when the
/// test that held it ends.
gate held_bodies;

task<int> long_step(context& ctx, int n) {
  auto work = [](int x) {
    ++executions;
    std::this_thread::sleep_for(std::chrono::milliseconds{body_ms.load()});
    return x + 1;
  };
  co_return co_await ctx.step("work", work, n);
}

task<int> gated(context& ctx, int n) {
  auto work = [](int x) {
    ++executions;
    held_bodies.pass();
    return x + 1;
  };
  co_return co_await ctx.step("work", work, n);
}

void workflows(workflow_registry& r) {
  r.add("long_step", &long_step);
  r.add("gated", &gated);
}

/// The run's step_interrupted and step_started records.
std::pair<int, int> interrupted_and_started(const journal& store, const std::string& run) {
  int interrupted = 0, started = 0;
  auto recs = store.read(run);
  REQUIRE(recs);
  for (auto& r : *recs) {
    auto ev = decode_event(r.rec, run, r.seq);
    REQUIRE(ev);
    interrupted += std::holds_alternative<step_interrupted_event>(*ev) ? 1 : 0;
    started += std::holds_alternative<step_started_event>(*ev) ? 1 : 0;
  }
  return {interrupted, started};
}

} // namespace

SCENARIO("a step in flight at shutdown finishes, is journaled and is not run again",
         "[shutdown]") {
  executions = 0;
  body_ms = 300;
  runtime_fixture f{workflows};
  REQUIRE(f.rt().start("long_step", "l", 1));
  for (int i = 0; i < 1000 && executions == 0; ++i)
    std::this_thread::sleep_for(1ms);
  REQUIRE(executions == 1);  // the body is running now
  f.close();
  REQUIRE(executions == 1);
  {
    auto j = f.open_journal();
    CHECK(j->run("l")->status == run_status::completed);  // finished within the deadline
  }
  f.open();
  CHECK(f.ended("l", 10s).value<int>() == 2);
  CHECK(executions == 1);
}

SCENARIO("six deploys during a step longer than the deadline do not quarantine it",
         "[shutdown]") {
  executions = 0;
  body_ms = 400;
  auto deadline = std::chrono::milliseconds{50};
  runtime_fixture f{workflows, [&](runtime_options& o) { o.shutdown_timeout = deadline; }};
  REQUIRE(f.rt().start("long_step", "d", 1));
  for (int deploy = 1; deploy <= 6; ++deploy) {
    for (int i = 0; i < 2000 && executions < deploy; ++i)
      std::this_thread::sleep_for(1ms);
    REQUIRE(executions == deploy);  // the step's attempt is running
    f.reopen();                     // the deploy: shut down, start again
  }
  deadline = 10s;  // the next deploy waits long enough
  f.reopen();
  auto out = f.rt().wait("d", 20s);
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
  auto [interrupted, started] = interrupted_and_started(f.rt().store(), "d");
  CHECK(interrupted >= 6);
  CHECK(started == interrupted + 1);
}

SCENARIO("shutdown is bounded by its deadline when a step body never returns", "[shutdown]") {
  executions = 0;
  auto& g = held_bodies;
  {
    runtime_fixture f{workflows, [](runtime_options& o) { o.shutdown_timeout = 1500ms; }};
    REQUIRE(f.rt().start("gated", "g", 1));
    REQUIRE(g.await_waiting(1));
    auto t0 = std::chrono::steady_clock::now();
    f.close();  // the body is still held at the gate
    auto took = std::chrono::steady_clock::now() - t0;
    // One deadline, not one per layer (run actor, then the pool's join):
    // twice the deadline would be 3 s.
    CHECK(took >= 1500ms);
    CHECK(took < 2800ms);
    auto j = f.open_journal();
    CHECK(interrupted_and_started(*j, "g").first == 1);
  }
  // The abandoned body returns after the runtime and its actor system are
  // gone: its result is dropped, nothing is touched (ASan watches).
  g.release();
  std::unique_lock lk{g.m};
  CHECK(g.cv.wait_for(lk, 10s, [&] { return g.waiting == 0; }));
}
