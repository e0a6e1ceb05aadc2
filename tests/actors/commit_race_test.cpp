// A commit in flight when something else happens to its run: the run actor
// crashes, passivates, the runtime shuts down, the process dies (a copy of
// the data directory taken while the commit is held), or the commit fails
// after the run went on. A request acknowledged as journaled is consumed
// exactly once, and a run is never left waiting on a commit that is gone.
// batch_hold keeps the chosen commit in the journal writer.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <thread>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "actors/batch_hold.hpp"
#include "actors/runtime_fixture.hpp"
#include "actors/step_gate.hpp"
#include "endure/actors/events.hpp"
#include "endure/actors/gateway/request_index.hpp"
#include "endure/persistence/log.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

batch_hold hold;
step_gate gate;
std::atomic<int> after_step{0};

void hold_batches(runtime_options& o) {
  o.journal.inject_fault = [](const write_batch& b) { return hold.on_batch(b); };
}

/// A step, then a bug hit once (the restart gets past it), then two waits.
task<int> step_then_crash_once(context& ctx, int) {
  co_await ctx.step("a", [] {
    gate.pass("a");
    return 1;
  });
  if (after_step.fetch_add(1) == 0)
    throw std::runtime_error("a bug after step a, hit once");
  auto first = co_await ctx.wait_signal<int>("go");
  auto second = co_await ctx.wait_signal<int>("go", 300ms);
  co_return first.value_or(0) * 10 + second.value_or(0);
}

task<int> waits_for_go(context& ctx, int) {
  auto v = co_await ctx.wait_signal<int>("go");
  co_return v.value_or(-1);
}

/// A step held at the gate, then a wait: a signal sent during the step is
/// journaled alone and consumed by a later commit (a signal reaching a wait
/// already there shares the wait's commit, with no window between them).
task<int> busy_then_go(context& ctx, int) {
  co_await ctx.step("busy", [] {
    gate.pass("busy");
    return 1;
  });
  auto v = co_await ctx.wait_signal<int>("go");
  co_return v.value_or(-1);
}

/// A failed step (its backoff timer is the quiet commit), then a long wait.
task<int> fail_then_wait(context& ctx, int) {
  try {
    co_await ctx.step("doomed", []() -> int { throw fatal_error("no"); });
  } catch (const step_failed_error&) {
  }
  auto v = co_await ctx.wait_signal<int>("x", std::chrono::hours(1));
  co_return v.value_or(-1);
}

std::atomic<int> flaky_calls{0};

task<int> retried_once(context& ctx, int) {
  auto body = [] {
    if (flaky_calls++ == 0)
      throw std::runtime_error("transient");
    return 5;
  };
  co_return co_await ctx.step("flaky", body).retry(fast(3));
}

void workflows(workflow_registry& r) {
  r.add("step_then_crash_once", &step_then_crash_once);
  r.add("waits_for_go", &waits_for_go);
  r.add("busy_then_go", &busy_then_go);
  r.add("fail_then_wait", &fail_then_wait);
  r.add("retried_once", &retried_once);
}

std::string describe(const expected<void>& r) { return r ? "ok" : r.error().to_string(); }

/// endure's debug log, captured for the scope of a test.
struct captured_debug_log {
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink =
    std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  log::level before = log::current_level();
  captured_debug_log() {
    auto logger = std::make_shared<spdlog::logger>("endure-test", sink);
    logger->set_level(spdlog::level::trace);  // endure's own level filters
    log::use_logger(logger);
    log::set_level(log::level::debug);
  }
  ~captured_debug_log() {
    log::set_level(before);
    log::use_logger(nullptr);
  }
  /// Shows the captured lines with the next failing assertion.
  void show() {
    for (auto& line : sink->last_formatted())
      UNSCOPED_INFO(line);
  }
  bool contains(const std::string& text) {
    for (auto& line : sink->last_formatted())
      if (line.find(text) != std::string::npos)
        return true;
    return false;
  }
};

/// Waits (at most 10 s) for the human gateway's start to write its index
/// mark, the last commit of its start in a fresh directory. A test that
/// holds the journal's writer (batch_hold) and then stops the runtime waits
/// for this first: the runtime stops the gateway before the runs, and a
/// start whose commit queued behind the held batch holds the shutdown with
/// it (seen on a loaded machine).
bool await_gateway_started(runtime_fixture& f) {
  return eventually([&] {
    auto mark = f.rt().store().row(side_table::request_index,
                                   std::string{gateway::indexed_key});
    return mark && mark->has_value();
  });
}

} // namespace

SCENARIO("a signal whose commit is in flight when its run actor crashes is consumed once",
         "[commit][race]") {
  after_step = 0;
  gate.reset();
  runtime_fixture f{workflows, hold_batches};
  step_gate::opener open_at_exit{gate};
  REQUIRE(f.rt().start("step_then_crash_once", "d1", 0));
  REQUIRE(gate.await_waiting("a"));
  hold.arm(appends_to("d1"));
  expected<void> sent;
  std::thread sender([&] { sent = f.rt().signal("d1", "go", 7); });
  REQUIRE(hold.await_holding());  // the signal's commit is in the writer
  gate.release("a");              // step a returns: the workflow throws, the actor dies
  REQUIRE(eventually([] { return after_step.load() >= 1; }));
  hold.release();                 // the signal's commit lands
  sender.join();
  INFO("signal: " << describe(sent));
  CHECK(sent);
  auto out = f.ended("d1", 10s);
  CHECK(f.events<signal_received_event>("d1").size() == 1);
  REQUIRE(out.status == run_status::completed);
  CHECK(out.value<int>() == 70);  // first = 7, the second wait timed out
}

SCENARIO("a signal journaled while the runtime shuts down is consumed after the restart",
         "[commit][race]") {
  captured_debug_log log;
  runtime_fixture f{workflows, hold_batches};
  REQUIRE(f.rt().start("waits_for_go", "w1", 0));
  REQUIRE(f.await_status("w1", run_status::waiting));
  REQUIRE(await_gateway_started(f));  // its start's commit is not held with the signal's
  hold.arm(appends_to("w1"));
  expected<void> sent;
  std::thread sender([&] { sent = f.rt().signal("w1", "go", 5); });
  REQUIRE(hold.await_holding());  // the signal's commit is in the writer
  std::thread stopper([&] { f.stop_runtime(); });
  // The run actor is stopping with the signal's commit still in flight.
  bool stopping = eventually([&] { return log.contains("run w1: stopping for shutdown with 1"); });
  hold.release();
  sender.join();
  stopper.join();
  if (!stopping)
    log.show();
  REQUIRE(stopping);
  INFO("signal: " << describe(sent));
  CHECK(sent);
  f.reopen();
  CHECK(f.events<signal_received_event>("w1").size() == 1);
  CHECK(f.ended("w1", 5s).value<int>() == 5);
}

SCENARIO("a signal reaching a run that passivates behind its timer commit is consumed once",
         "[commit][race]") {
  captured_debug_log log;
  runtime_fixture f{workflows, [](runtime_options& o) {
                      o.passivate_after = 0ms;
                      hold_batches(o);
                    }};
  hold.arm(puts_timer_of("p4"));
  REQUIRE(f.rt().start("fail_then_wait", "p4", 0));
  REQUIRE(hold.await_holding());  // the backoff timer's (quiet) commit is in the writer
  // The run waits and begins to passivate: its empty commit queues behind.
  REQUIRE(eventually([&] { return log.contains("run p4: passivating once its writes"); }));
  expected<void> sent;
  std::thread sender([&] { sent = f.rt().signal("p4", "x", 9); });
  REQUIRE(eventually([&] { return f.rt().stats().live_actors == 1; }));
  hold.release();
  sender.join();
  INFO("signal: " << describe(sent));
  CHECK(sent);
  auto out = f.ended("p4", 10s);
  REQUIRE(out.status == run_status::completed);
  CHECK(out.value<int>() == 9);
  CHECK(f.events<signal_received_event>("p4").size() == 1);
}

SCENARIO("a process that dies between a signal's commit and the commit consuming it "
         "consumes the signal after the restart", "[commit][race]") {
  namespace fs = std::filesystem;
  temp_dir snapshot;
  {
    runtime_fixture f{workflows, hold_batches};
    gate.reset();
    REQUIRE(f.rt().start("busy_then_go", "k1", 0));
    REQUIRE(gate.await_waiting("busy"));
    hold.arm(appends_to("k1"), /*skip the signal's own commit*/ 1);
    REQUIRE(f.rt().signal("k1", "go", 3));  // journaled: acknowledged
    gate.release("busy");  // the step ends; the wait consumes the signal
    REQUIRE(hold.await_holding());          // the consuming commit is held
    // What a SIGKILL now leaves on disk: the journal with the signal.
    for (auto& e : fs::directory_iterator(f.dir()))
      fs::copy(e.path(), snapshot.path() + "/" + e.path().filename().string());
    hold.release();
  }
  runtime_fixture next{workflows};
  next.close();
  for (auto& e : fs::directory_iterator(snapshot.path()))
    fs::copy(e.path(), next.dir() + "/" + e.path().filename().string(),
             fs::copy_options::overwrite_existing);
  next.open();
  CHECK(next.events<signal_received_event>("k1").size() == 1);
  CHECK(next.ended("k1", 5s).value<int>() == 3);
}

SCENARIO("a retry's quiet commit that fails after the run finished still lets it be waited on",
         "[commit][race]") {
  flaky_calls = 0;
  runtime_fixture f{workflows, hold_batches};
  // The retry's step_started erases the backoff timer row and puts none.
  hold.arm(
    [](const write_batch& b) {
      bool erases = false, puts = false;
      for (auto& op : b.ops()) {
        erases |= op.kind == write_batch::op_kind::erase_timer && op.run_id == "r8";
        puts |= op.kind == write_batch::op_kind::put_timer && op.run_id == "r8";
      }
      return erases && !puts;
    },
    0, make_error(errc::io_error, "injected: the disk hiccupped"));
  REQUIRE(f.rt().start("retried_once", "r8", 0));
  REQUIRE(hold.await_holding());
  // The second attempt runs while its start is still being written.
  REQUIRE(eventually([] { return flaky_calls.load() >= 2; }));
  // A caller waits before the outcome exists: it must be told, not left.
  expected<run_outcome> out = make_error(errc::timeout, "not answered");
  std::thread waiter([&] { out = f.rt().wait("r8", 10s); });
  REQUIRE(eventually([&] { return f.rt().stats().waits == 1; }));
  hold.release();  // ...and that write fails
  waiter.join();
  INFO("wait: " << (out ? std::string{to_string(out->status)} : out.error().to_string()));
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
  CHECK(out->value<int>() == 5);
}
