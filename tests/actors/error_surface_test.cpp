// Errors are surfaced, never dropped: refusals come back as typed errors
// (not_found, invalid_state, timeout), a failed write is retried or restarts
// the run rather than being forgotten, a quarantine is reported only once it
// is durable, and one damaged run does not stop recovery of the others.
// Storage faults are injected through journal_options::inject_fault.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <sstream>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "endure/actors/offline_control.hpp"
#include "actors/runtime_fixture.hpp"
#include "endure/persistence/log.hpp"
#include "support/file_damage.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

/// endure's log, captured for the scope of a test (the ring buffer sink
/// locks its own mutex for writers and for reading).
struct captured_log {
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink =
    std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  captured_log() {
    auto logger = std::make_shared<spdlog::logger>("endure-test", sink);
    logger->set_pattern("%l|%v");
    log::use_logger(logger);
  }
  ~captured_log() { log::use_logger(nullptr); }
  std::string text() {
    std::string all;
    for (auto& line : sink->last_formatted())
      all += line;
    return all;
  }
};

std::atomic<bool> bug_fixed{false};

task<int> parked(context& ctx, int n) {
  auto go = co_await ctx.wait_signal<int>("go");
  co_return n + go.value_or(-1000);
}

task<int> quick(context& ctx, int n) {
  auto twice = [](int x) { return 2 * x; };
  co_return co_await ctx.step("twice", twice, n);
}

/// Crashes (a bug in workflow code) until bug_fixed, then waits for "go".
task<int> buggy(context& ctx, int n) {
  if (!bug_fixed)
    throw std::out_of_range("index past the end of the plan");
  auto go = co_await ctx.wait_signal<int>("go");
  co_return n + go.value_or(-1000);
}

/// Waits for "go", then sleeps `ms`.
task<int> go_then_sleep(context& ctx, int ms) {
  auto go = co_await ctx.wait_signal<int>("go");
  co_await ctx.sleep(std::chrono::milliseconds{ms});
  co_return ms + go.value_or(-1000);
}

std::atomic<int> flaky_calls{0};

/// One step that fails once, then succeeds after a short backoff.
task<int> flaky_once(context& ctx, int n) {
  auto body = [](int x) {
    if (flaky_calls++ == 0)
      throw retryable_error("the service blinked");
    return x + 1;
  };
  co_return co_await ctx.step("flaky", body, n).retry(fast(3));
}

void workflows(workflow_registry& r) {
  r.add("parked", &parked);
  r.add("quick", &quick);
  r.add("buggy", &buggy);
  r.add("go_then_sleep", &go_then_sleep);
  r.add("flaky_once", &flaky_once);
}

bool has_op(const write_batch& b, write_batch::op_kind kind, const std::string& run,
            std::optional<run_status> status = std::nullopt) {
  for (auto& op : b.ops())
    if (op.kind == kind && op.run_id == run && (!status || op.status == *status))
      return true;
  return false;
}

} // namespace

SCENARIO("refusals come back as typed errors", "[errors]") {
  bug_fixed = false;
  runtime_fixture f{workflows, [](runtime_options& o) { o.run_restarts.intensity = 0; }};
  auto& rt = f.rt();
  auto unknown = rt.signal("nobody", "go", 1);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == errc::not_found);
  CHECK(rt.cancel("nobody", "x").error().code == errc::not_found);
  CHECK(rt.release("nobody", "x").error().code == errc::not_found);
  CHECK(rt.wait("nobody", 1s).error().code == errc::not_found);

  REQUIRE(rt.start("quick", "done", 4));
  REQUIRE(f.ended("done", 10s).value<int>() == 8);
  auto late = rt.signal("done", "go", 1);
  REQUIRE_FALSE(late);
  CHECK(late.error().code == errc::invalid_state);
  CHECK_THAT(late.error().message, Catch::Contains("run done has already completed"));
  CHECK(rt.cancel("done", "x").error().code == errc::invalid_state);
  auto not_quarantined = rt.release("done", "x");
  CHECK(not_quarantined.error().code == errc::invalid_state);
  CHECK_THAT(not_quarantined.error().message, Catch::Contains("not quarantined"));

  // A quarantined run takes signals (journaled for after its release) but
  // not a cancel, which must follow a release.
  REQUIRE(rt.start("buggy", "bug", 1));
  REQUIRE(f.ended("bug", 10s).status == run_status::quarantined);
  REQUIRE(rt.signal("bug", "go", 41));
  auto refused = rt.cancel("bug", "x");
  CHECK(refused.error().code == errc::invalid_state);
  CHECK_THAT(refused.error().message, Catch::Contains("release it first"));
  bug_fixed = true;
  REQUIRE(rt.release("bug", "fixed"));
  auto out = rt.wait("bug", 10s);
  REQUIRE(out);
  CHECK(out->value<int>() == 42);
}

SCENARIO("a wait that times out says so and leaves no waiter behind", "[errors]") {
  runtime_fixture f{workflows};
  REQUIRE(f.rt().start("parked", "p", 1));
  for (int i = 0; i < 100; ++i) {
    auto out = f.rt().wait("p", 5ms);
    REQUIRE_FALSE(out);
    REQUIRE(out.error().code == errc::timeout);
  }
  CHECK_THAT(f.rt().wait("p", 5ms).error().message, Catch::Contains("did not end within 5 ms"));
  CHECK(f.rt().stats().waits == 0);
  REQUIRE(f.rt().signal("p", "go", 1));
  CHECK(f.ended("p", 10s).value<int>() == 2);
  CHECK(f.rt().stats().waits == 0);
}

SCENARIO("a signal whose consuming commit failed is consumed after the restart", "[errors]") {
  std::atomic<int> injected{0};
  captured_log logged;
  runtime_fixture f{workflows, [&](runtime_options& o) {
                      o.passivate_after = 10ms;
                      o.journal.inject_fault = [&](const write_batch& b) -> expected<void> {
                        // The commit that consumes "go" and arms the sleep's timer.
                        if (has_op(b, write_batch::op_kind::put_timer, "s") && injected++ == 0)
                          return make_error(errc::io_error, "injected: the disk hiccupped");
                        return {};
                      };
                    }};
  REQUIRE(f.rt().start("go_then_sleep", "s", 300));
  REQUIRE(f.rt().signal("s", "go", 7));
  auto out = f.rt().wait("s", 20s);
  REQUIRE(out);
  REQUIRE(out->status == run_status::completed);
  CHECK(out->value<int>() == 307);  // the signal, consumed once after the restart
  CHECK(injected >= 2);  // the lost write, then the one the restart made
  CHECK_THAT(logged.text(), Catch::Contains("run s: journal write failed"));
}

SCENARIO("a quiet write that failed is logged and the run restarts from its journal",
         "[errors]") {
  flaky_calls = 0;
  std::atomic<int> injected{0};
  captured_log logged;
  runtime_fixture f{workflows, [&](runtime_options& o) {
                      o.journal.inject_fault = [&](const write_batch& b) -> expected<void> {
                        // The retry's start: not awaited by the run (erases its backoff timer).
                        if (has_op(b, write_batch::op_kind::erase_timer, "r")
                            && !has_op(b, write_batch::op_kind::put_timer, "r")
                            && injected++ == 0)
                          return make_error(errc::io_error, "injected: the disk hiccupped");
                        return {};
                      };
                    }};
  REQUIRE(f.rt().start("flaky_once", "r", 1));
  auto out = f.rt().wait("r", 20s);
  REQUIRE(out);
  REQUIRE(out->status == run_status::completed);
  CHECK(out->value<int>() == 2);
  CHECK(injected >= 1);
  CHECK_THAT(logged.text(), Catch::Contains("run r: journal write failed")
                              && Catch::Contains("restarts from its journal"));
}

SCENARIO("a quarantine is reported only once it is durable", "[errors]") {
  bug_fixed = false;
  std::atomic<int> injected{0};
  captured_log logged;
  runtime_fixture f{workflows, [&](runtime_options& o) {
                      o.run_restarts.intensity = 0;
                      o.journal.inject_fault = [&](const write_batch& b) -> expected<void> {
                        if (has_op(b, write_batch::op_kind::set_status, "q",
                                   run_status::quarantined)
                            && injected++ < 2)
                          return make_error(errc::disk_full, "injected: no space left");
                        return {};
                      };
                    }};
  REQUIRE(f.rt().start("buggy", "q", 1));
  auto out = f.rt().wait("q", 20s);
  REQUIRE(out);
  CHECK(out->status == run_status::quarantined);
  CHECK(f.rt().store().run("q")->status == run_status::quarantined);
  CHECK(injected == 3);
  CHECK_THAT(logged.text(), Catch::Contains("run q could not be quarantined"));
}

SCENARIO("one run with damaged meta does not stop recovery of the others", "[errors]") {
  captured_log logged;
  runtime_fixture f{workflows};
  f.close();
  {  // three runs journaled while no runtime ran, as `endure start` does
    auto j = f.open_journal();
    for (auto id : {"good-1", "damaged", "good-2"})
      REQUIRE(start_offline(*j, id, "quick", to_bytes(5)));
    write_batch b;  // a marker only the damaged run's meta holds
    b.set_status("damaged", run_status::running, "META-MARKER-0123456789", 1);
    REQUIRE(j->commit(std::move(b)));
  }
  REQUIRE(flip_bit_near(f.dir() + "/data.mdb", "META-MARKER-0123456789", 8) > 0);
  f.open();
  for (auto id : {"good-1", "good-2"}) {
    auto out = f.rt().wait(id, 10s);
    REQUIRE(out);
    CHECK(out->value<int>() == 10);
  }
  CHECK_THAT(logged.text(), Catch::Contains("run damaged is not resumed"));
  auto damaged = f.rt().signal("damaged", "go", 1);
  REQUIRE_FALSE(damaged);
  CHECK(damaged.error().code == errc::corrupt_record);
}
