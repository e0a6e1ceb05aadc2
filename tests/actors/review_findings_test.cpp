// Throwaway tests of the adversarial review (not to be committed).
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <future>

#include "actors/events.hpp"
#include "actors/runtime_fixture.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

std::atomic<int> crash_count{0};

/// Crashes (a bug) the first time, then waits for a signal.
task<int> crash_once_then_wait(context& ctx, int) {
  co_await ctx.step("first", [] { return 1; });
  if (crash_count.fetch_add(1) == 0)
    throw std::runtime_error("a bug that the restart no longer hits");
  auto v = co_await ctx.wait_signal<int>("go");
  co_return v.value_or(-1);
}

/// Crashes (a bug) before its first await, the first time only.
task<int> crash_at_once(context& ctx, int) {
  if (crash_count.fetch_add(1) == 0)
    throw std::runtime_error("a bug on the first line, hit once");
  auto v = co_await ctx.wait_signal<int>("go");
  co_return v.value_or(-1);
}

void reg1(workflow_registry& r) {
  r.add("crash_once", &crash_once_then_wait);
  r.add("crash_at_once", &crash_at_once);
}

} // namespace

TEST_CASE("R1: a signal to a run whose actor crashed and awaits its restart",
          "[review][r1]") {
  crash_count = 0;
  runtime_fixture f{reg1, [](runtime_options& o) {
                      o.run_restarts.backoff.initial = 1500ms;
                      o.run_restarts.backoff.max = 1500ms;
                      o.run_restarts.backoff.jitter = 0;
                    }};
  REQUIRE(f.rt().start("crash_once", "c1", 0));
  REQUIRE(eventually([] { return crash_count.load() >= 1; }));
  REQUIRE(eventually([&] { return f.rt().stats().live_actors == 0; }));
  // The run exists and is running: the signal must be journaled.
  auto ok = f.rt().signal("c1", "go", 7);
  INFO("signal: " << (ok ? std::string{"ok"} : ok.error().to_string()));
  CHECK(ok);
  auto out = f.rt().wait("c1", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
}

TEST_CASE("R1b: start (attach) to a run whose actor crashed and awaits its restart",
          "[review][r1b]") {
  crash_count = 0;
  runtime_fixture f{reg1, [](runtime_options& o) {
                      o.run_restarts.backoff.initial = 1500ms;
                      o.run_restarts.backoff.max = 1500ms;
                      o.run_restarts.backoff.jitter = 0;
                    }};
  REQUIRE(f.rt().start("crash_once", "c2", 0));
  REQUIRE(eventually([] { return crash_count.load() >= 1; }));
  REQUIRE(eventually([&] { return f.rt().stats().live_actors == 0; }));
  auto again = f.rt().start("crash_once", "c2", 0);  // idempotent attach
  INFO("attach: " << (again ? std::string{to_string(*again)} : again.error().to_string()));
  CHECK(again);
  // The attach must not make the run crash (crash_count counts body runs).
  std::this_thread::sleep_for(2500ms);
  auto meta = f.rt().store().run("c2");
  REQUIRE(meta);
  INFO("status " << to_string(meta->status) << " detail " << meta->detail);
  CHECK(meta->status != run_status::quarantined);
  REQUIRE(f.rt().signal("c2", "go", 1));
  auto out = f.rt().wait("c2", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
}

TEST_CASE("R0: a workflow that throws before its first await, once", "[review][r0]") {
  crash_count = 0;
  runtime_fixture f{reg1};
  auto s = f.rt().start("crash_at_once", "c0", 0);
  INFO("start: " << (s ? std::string{"ok"} : s.error().to_string()));
  REQUIRE(s);
  INFO("start answered " << to_string(*s));
  // One crash, then the restart (100 ms backoff) runs the workflow fine.
  REQUIRE(eventually([] { return crash_count.load() >= 2; }, 5s));
  auto meta = f.rt().store().run("c0");
  REQUIRE(meta);
  INFO("status " << to_string(meta->status) << " detail " << meta->detail);
  CHECK(meta->status != run_status::quarantined);
}

namespace {

/// Holds the next batch that appends to `run` on the writer thread until
/// released (bounded), so a test chooses what is "in flight".
struct writer_hold {
  std::mutex m;
  std::condition_variable cv;
  std::string run;
  bool armed = false, holding = false, released = false;
  int held_batches = 0;

  expected<void> on_batch(const write_batch& b) {
    std::unique_lock g{m};
    if (!armed)
      return {};
    bool appends = false;
    for (auto& op : b.ops())
      appends |= op.kind == write_batch::op_kind::append && op.run_id == run;
    if (!appends)
      return {};
    armed = false;
    holding = true;
    ++held_batches;
    cv.notify_all();
    cv.wait_for(g, 10s, [&] { return released; });
    holding = false;
    return {};
  }
  void arm(const std::string& r) {
    std::lock_guard g{m};
    run = r;
    armed = true;
    released = false;
  }
  bool await_holding() {
    std::unique_lock g{m};
    return cv.wait_for(g, 10s, [&] { return holding; });
  }
  void release() {
    std::lock_guard g{m};
    released = true;
    cv.notify_all();
  }
};

writer_hold hold;

struct simple_gate {
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  int entered = 0;
  void pass() {
    std::unique_lock g{m};
    ++entered;
    cv.notify_all();
    cv.wait_for(g, 10s, [&] { return open; });
  }
  bool await_entered(int n) {
    std::unique_lock g{m};
    return cv.wait_for(g, 10s, [&] { return entered >= n; });
  }
  void release() {
    std::lock_guard g{m};
    open = true;
    cv.notify_all();
  }
};

simple_gate body_gate;
std::atomic<int> after_step{0};

/// A step, then a bug hit once (the restart gets past it), then two waits.
task<int> step_then_crash_once(context& ctx, int) {
  co_await ctx.step("a", [] {
    body_gate.pass();
    return 1;
  });
  if (after_step.fetch_add(1) == 0)
    throw std::runtime_error("a bug after step a, hit once");
  auto first = co_await ctx.wait_signal<int>("go");
  auto second = co_await ctx.wait_signal<int>("go", 300ms);
  co_return first.value_or(0) * 10 + second.value_or(0);
}

void reg2(workflow_registry& r) { r.add("step_then_crash_once", &step_then_crash_once); }

} // namespace

TEST_CASE("R2: a signal whose commit is in flight when its run actor crashes",
          "[review][r2]") {
  after_step = 0;
  runtime_fixture f{reg2, [](runtime_options& o) {
                      o.journal.inject_fault = [](const write_batch& b) { return hold.on_batch(b); };
                    }};
  REQUIRE(f.rt().start("step_then_crash_once", "d1", 0));
  REQUIRE(body_gate.await_entered(1));
  hold.arm("d1");
  std::atomic<bool> signal_done{false};
  expected<void> signal_result;
  std::thread sender([&] {
    signal_result = f.rt().signal("d1", "go", 7);
    signal_done = true;
  });
  REQUIRE(hold.await_holding());  // the signal's commit is in the writer
  body_gate.release();            // step a returns: the workflow throws, the actor dies
  REQUIRE(eventually([] { return after_step.load() >= 1; }));
  bool answered_early = eventually([&] { return signal_done.load(); }, 2s);
  hold.release();                 // the signal's commit lands
  sender.join();
  INFO("answered before its commit landed: " << answered_early);
  INFO("signal: " << (signal_result ? std::string{"ok"} : signal_result.error().to_string()));
  auto out = f.rt().wait("d1", 10s);
  REQUIRE(out);
  auto signals = f.events<signal_received_event>("d1");
  INFO("outcome status " << to_string(out->status) << " result bytes " << out->result.size()
                         << " error " << out->error);
  CHECK(signal_result);               // the signal IS journaled
  CHECK(signals.size() == 1);         // exactly once
  CHECK(out->status == run_status::completed);
  if (out->status == run_status::completed)
    CHECK(out->value<int>() == 70);   // first=7, second timed out
}

namespace {

task<int> waits_for_go(context& ctx, int) {
  auto v = co_await ctx.wait_signal<int>("go");
  co_return v.value_or(-1);
}

void reg3(workflow_registry& r) { r.add("waits_for_go", &waits_for_go); }

} // namespace

TEST_CASE("R3: a signal journaled while the runtime shuts down is never consumed",
          "[review][r3]") {
  runtime_fixture f{reg3, [](runtime_options& o) {
                      o.journal.inject_fault = [](const write_batch& b) { return hold.on_batch(b); };
                    }};
  REQUIRE(f.rt().start("waits_for_go", "w1", 0));
  REQUIRE(f.await_status("w1", run_status::waiting));
  hold.arm("w1");
  expected<void> signal_result;
  std::thread sender([&] { signal_result = f.rt().signal("w1", "go", 5); });
  REQUIRE(hold.await_holding());  // the signal's commit is in the writer
  std::thread stopper([&] { f.stop_runtime(); });
  std::this_thread::sleep_for(300ms);  // (throwaway) let user_shutdown reach the run actor
  hold.release();
  sender.join();
  stopper.join();
  INFO("signal: " << (signal_result ? std::string{"ok"} : signal_result.error().to_string()));
  CHECK(signal_result);
  f.reopen();
  auto meta = f.rt().store().run("w1");
  REQUIRE(meta);
  INFO("status after restart: " << to_string(meta->status));
  CHECK(f.events<signal_received_event>("w1").size() == 1);
  auto out = f.rt().wait("w1", 3s);
  INFO("wait: " << (out ? std::string{to_string(out->status)} : out.error().to_string()));
  CHECK(out);  // the acknowledged signal must be consumed after the restart
}

namespace {

/// Holds the next batch that puts a timer row for `run`.
struct timer_hold {
  std::mutex m;
  std::condition_variable cv;
  std::string run;
  bool armed = false, holding = false, released = false;
  expected<void> on_batch(const write_batch& b) {
    std::unique_lock g{m};
    if (!armed)
      return {};
    bool puts = false;
    for (auto& op : b.ops())
      puts |= op.kind == write_batch::op_kind::put_timer && op.run_id == run;
    if (!puts)
      return {};
    armed = false;
    holding = true;
    cv.notify_all();
    cv.wait_for(g, 10s, [&] { return released; });
    holding = false;
    return {};
  }
};
timer_hold thold;

task<int> fail_then_wait(context& ctx, int) {
  try {
    co_await ctx.step("doomed", []() -> int { throw fatal_error("no"); });
  } catch (const step_failed_error&) {
  }
  auto v = co_await ctx.wait_signal<int>("x", std::chrono::hours(1));
  co_return v.value_or(-1);
}

void reg4(workflow_registry& r) { r.add("fail_then_wait", &fail_then_wait); }

} // namespace

TEST_CASE("R4: passivation while a quiet (timer) commit is in flight", "[review][r4]") {
  runtime_fixture f{reg4, [](runtime_options& o) {
                      o.passivate_after = 0ms;
                      o.journal.inject_fault = [](const write_batch& b) { return thold.on_batch(b); };
                    }};
  {
    std::lock_guard g{thold.m};
    thold.run = "p4";
    thold.armed = true;
  }
  REQUIRE(f.rt().start("fail_then_wait", "p4", 0));
  {
    std::unique_lock g{thold.m};
    REQUIRE(thold.cv.wait_for(g, 10s, [&] { return thold.holding; }));
  }
  // The run waits (status write is quiet too) and passivates at once.
  bool passivated = eventually([&] { return f.rt().stats().live_actors == 0; }, 3s);
  INFO("passivated while its timer commit was held: " << passivated);
  expected<void> sig;
  std::thread sender([&] { sig = f.rt().signal("p4", "x", 9); });
  std::this_thread::sleep_for(300ms);  // (throwaway) the new actor loads and journals
  {
    std::lock_guard g{thold.m};
    thold.released = true;
    thold.cv.notify_all();
  }
  sender.join();
  INFO("signal: " << (sig ? std::string{"ok"} : sig.error().to_string()));
  CHECK(sig);
  auto out = f.rt().wait("p4", 10s);
  REQUIRE(out);
  INFO("status " << to_string(out->status) << " " << out->error);
  CHECK(out->status == run_status::completed);
  if (out->status == run_status::completed)
    CHECK(out->value<int>() == 9);
  CHECK(f.events<signal_received_event>("p4").size() == 1);
}

namespace {

std::atomic<int> create_faults{0};

task<int> trivial(context&, int n) { co_return n; }

void reg5(workflow_registry& r) { r.add("trivial", &trivial); }

/// start_async with a bounded wait: nullopt if no answer within `limit`.
std::optional<expected<run_status>> start_within(runtime& rt, const std::string& id,
                                                 std::chrono::milliseconds limit) {
  auto p = std::make_shared<std::promise<expected<run_status>>>();
  auto fut = p->get_future();
  rt.start_async("trivial", id, to_bytes(1), [p](expected<run_status> r) { p->set_value(r); });
  if (fut.wait_for(limit) != std::future_status::ready)
    return std::nullopt;
  return fut.get();
}

} // namespace

TEST_CASE("R5: a start whose creating commit fails a few times", "[review][r5]") {
  create_faults = 0;
  runtime_fixture f{reg5, [](runtime_options& o) {
                      o.journal.inject_fault = [](const write_batch& b) -> expected<void> {
                        for (auto& op : b.ops())
                          if (op.kind == write_batch::op_kind::create_run && op.run_id == "n5"
                              && create_faults++ < 4)
                            return make_error(errc::disk_full, "injected: no space left");
                        return {};
                      };
                    }};
  auto first = start_within(f.rt(), "n5", 5s);
  REQUIRE(first.has_value());  // answered at all
  INFO("first start: " << (*first ? std::string{to_string(**first)} : first->error().to_string()));
  INFO("create attempts: " << create_faults.load());
  // The disk has room again: a new start must be answered and work.
  auto second = start_within(f.rt(), "n5", 5s);
  CHECK(second.has_value());
  if (second && *second)
    CHECK(**second == run_status::running);
  CHECK(create_faults.load() <= 2);  // one failed start is one failed write, not a crash loop
}

namespace {
simple_gate never_gate;
task<int> held(context& ctx, int) {
  co_return co_await ctx.step("held", [] {
    never_gate.pass();
    return 1;
  });
}
void reg6(workflow_registry& r) { r.add("held", &held); }
} // namespace

TEST_CASE("R6: shutdown with a body that never returns takes how long?", "[review][r6]") {
  std::chrono::steady_clock::duration took{};
  {
    runtime_fixture f{reg6, [](runtime_options& o) { o.shutdown_timeout = 1s; }};
    REQUIRE(f.rt().start("held", "h", 0));
    REQUIRE(never_gate.await_entered(1));
    auto t0 = std::chrono::steady_clock::now();
    f.stop_runtime();
    took = std::chrono::steady_clock::now() - t0;
  }
  never_gate.release();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  INFO("shutdown took " << ms << " ms with shutdown_timeout = 1000 ms");
  CHECK(ms < 1500);
}

#include <filesystem>

namespace {

/// Holds the `skip`+1-th batch that appends to `run`; while it is held, a
/// copy of the data directory is what a SIGKILL at that moment leaves.
struct nth_hold {
  std::mutex m;
  std::condition_variable cv;
  std::string run;
  int skip = 0;
  bool armed = false, holding = false, released = false;
  expected<void> on_batch(const write_batch& b) {
    std::unique_lock g{m};
    if (!armed)
      return {};
    bool appends = false;
    for (auto& op : b.ops())
      appends |= op.kind == write_batch::op_kind::append && op.run_id == run;
    if (!appends)
      return {};
    if (skip-- > 0)
      return {};
    armed = false;
    holding = true;
    cv.notify_all();
    cv.wait_for(g, 10s, [&] { return released; });
    holding = false;
    return {};
  }
};
nth_hold nhold;

} // namespace

TEST_CASE("R7: the process dies between a signal's commit and the commit consuming it",
          "[review][r7]") {
  namespace fs = std::filesystem;
  temp_dir snapshot;
  {
    runtime_fixture f{reg3, [](runtime_options& o) {
                        o.journal.inject_fault = [](const write_batch& b) {
                          return nhold.on_batch(b);
                        };
                      }};
    REQUIRE(f.rt().start("waits_for_go", "k1", 0));
    REQUIRE(f.await_status("k1", run_status::waiting));
    {
      std::lock_guard g{nhold.m};
      nhold.run = "k1";
      nhold.skip = 1;  // the signal's batch passes; the consuming one is held
      nhold.armed = true;
    }
    REQUIRE(f.rt().signal("k1", "go", 3));  // journaled: acknowledged
    {
      std::unique_lock g{nhold.m};
      REQUIRE(nhold.cv.wait_for(g, 10s, [&] { return nhold.holding; }));
    }
    // "SIGKILL" now: what is on disk is the journal with the signal.
    for (auto& e : fs::directory_iterator(f.dir()))
      fs::copy(e.path(), snapshot.path() + "/" + e.path().filename().string());
    {
      std::lock_guard g{nhold.m};
      nhold.released = true;
      nhold.cv.notify_all();
    }
  }
  // The next process, on what the dead one left.
  runtime_fixture g{reg3};
  g.close();
  for (auto& e : fs::directory_iterator(snapshot.path()))
    fs::copy(e.path(), g.dir() + "/" + e.path().filename().string(),
             fs::copy_options::overwrite_existing);
  g.open();
  auto meta = g.rt().store().run("k1");
  REQUIRE(meta);
  INFO("status after the crash: " << to_string(meta->status));
  CHECK(g.events<signal_received_event>("k1").size() == 1);
  auto out = g.rt().wait("k1", 3s);
  INFO("wait: " << (out ? std::string{to_string(out->status)} : out.error().to_string()));
  CHECK(out);  // the acknowledged signal is consumed after the restart
}

namespace {

/// Fails (after holding it a moment) the first batch that erases a timer
/// row of `run` without putting one: a retry's quiet step_started.
struct quiet_fail {
  std::mutex m;
  std::string run;
  bool armed = false;
  std::atomic<bool> failed{false};
  expected<void> on_batch(const write_batch& b) {
    std::unique_lock g{m};
    if (!armed)
      return {};
    bool erases = false, puts = false;
    for (auto& op : b.ops()) {
      erases |= op.kind == write_batch::op_kind::erase_timer && op.run_id == run;
      puts |= op.kind == write_batch::op_kind::put_timer && op.run_id == run;
    }
    if (!erases || puts)
      return {};
    armed = false;
    g.unlock();
    std::this_thread::sleep_for(300ms);  // (throwaway) the attempt's body runs and the run finishes
    failed = true;
    return make_error(errc::io_error, "injected: the disk hiccupped");
  }
};
quiet_fail qfail;
std::atomic<int> flaky_calls{0};

task<int> retried_once(context& ctx, int) {
  auto body = [] {
    if (flaky_calls++ == 0)
      throw std::runtime_error("transient");
    return 5;
  };
  co_return co_await ctx.step("flaky", body).retry(fast(3));
}

void reg8(workflow_registry& r) { r.add("retried_once", &retried_once); }

} // namespace

TEST_CASE("R8: the run finished durably but its actor died before the ack", "[review][r8]") {
  flaky_calls = 0;
  {
    std::lock_guard g{qfail.m};
    qfail.run = "r8";
    qfail.armed = true;
  }
  runtime_fixture f{reg8, [](runtime_options& o) {
                      o.journal.inject_fault = [](const write_batch& b) { return qfail.on_batch(b); };
                    }};
  REQUIRE(f.rt().start("retried_once", "r8", 0));
  auto out = f.rt().wait("r8", 5s);
  INFO("quiet write failed: " << qfail.failed.load());
  auto meta = f.rt().store().run("r8");
  REQUIRE(meta);
  INFO("stored status: " << to_string(meta->status));
  INFO("wait: " << (out ? std::string{to_string(out->status)} : out.error().to_string()));
  CHECK(out);
}

#include <caf/all.hpp>
#include "supervisors/atoms.hpp"

namespace {

caf::actor runs_child(runtime_fixture& f) {
  caf::scoped_actor self{f.sys()};
  caf::actor out;
  self->request(f.rt().supervisor(), 5s, find_child_atom::value, std::string{"runs"})
    .receive([&](caf::actor& a) { out = std::move(a); }, [](const caf::error&) {});
  return out;
}

} // namespace

TEST_CASE("R9: after the run supervisor was restarted, a signal to a parked run",
          "[review][r9]") {
  runtime_fixture f{reg3, [](runtime_options& o) { o.passivate_after = 10ms; }};
  REQUIRE(f.rt().start("waits_for_go", "m1", 0));
  REQUIRE(f.await_status("m1", run_status::waiting));
  REQUIRE(eventually([&] { return f.rt().stats().live_actors == 0; }));  // parked
  auto old = runs_child(f);
  REQUIRE(old);
  caf::anon_send_exit(old, caf::exit_reason::kill);
  caf::actor now;
  REQUIRE(eventually([&] { return (now = runs_child(f)) && now != old; }));
  auto ok = f.rt().signal("m1", "go", 4);
  INFO("signal after the restart: " << (ok ? std::string{"ok"} : ok.error().to_string()));
  CHECK(ok);
  auto out = f.rt().wait("m1", 5s);
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
}
