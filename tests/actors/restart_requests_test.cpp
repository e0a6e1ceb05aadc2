// Requests that reach a run while its actor is not there to take them: the
// actor crashed and waits out its restart backoff, the run supervisor itself
// was restarted, or the commit creating the run failed. Each request is
// answered, journaled once and takes effect; none makes a healthy run crash
// or quarantines it.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <optional>

#include <caf/all.hpp>

#include "actors/runtime_fixture.hpp"
#include "endure/actors/events.hpp"
#include "endure/supervisors/atoms.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

std::atomic<int> body_runs{0};

/// A bug hit once after the first step (the restart gets past it), then a
/// wait for "go".
task<int> crash_once_then_wait(context& ctx, int) {
  co_await ctx.step("first", [] { return 1; });
  if (body_runs.fetch_add(1) == 0)
    throw std::runtime_error("a bug that the restart no longer hits");
  auto v = co_await ctx.wait_signal<int>("go");
  co_return v.value_or(-1);
}

/// A bug hit once on the first line, before any await.
task<int> crash_at_once(context& ctx, int) {
  if (body_runs.fetch_add(1) == 0)
    throw std::runtime_error("a bug on the first line, hit once");
  auto v = co_await ctx.wait_signal<int>("go");
  co_return v.value_or(-1);
}

task<int> waits_for_go(context& ctx, int) {
  auto v = co_await ctx.wait_signal<int>("go");
  co_return v.value_or(-1);
}

task<int> trivial(context&, int n) { co_return n; }

void workflows(workflow_registry& r) {
  r.add("crash_once", &crash_once_then_wait);
  r.add("crash_at_once", &crash_at_once);
  r.add("waits_for_go", &waits_for_go);
  r.add("trivial", &trivial);
}

/// A restart backoff long enough that requests surely arrive inside it.
void slow_restarts(runtime_options& o) {
  o.run_restarts.backoff.initial = 1500ms;
  o.run_restarts.backoff.max = 1500ms;
  o.run_restarts.backoff.jitter = 0;
}

std::string describe(const expected<void>& r) { return r ? "ok" : r.error().to_string(); }

} // namespace

SCENARIO("a signal to a run whose actor crashed and awaits its restart is journaled",
         "[restart][requests]") {
  body_runs = 0;
  runtime_fixture f{workflows, slow_restarts};
  REQUIRE(f.rt().start("crash_once", "c1", 0));
  REQUIRE(eventually([] { return body_runs.load() >= 1; }));
  REQUIRE(eventually([&] { return f.rt().stats().live_actors == 0; }));  // in its backoff
  auto sent = f.rt().signal("c1", "go", 7);
  INFO("signal: " << describe(sent));
  CHECK(sent);
  auto out = f.ended("c1", 10s);
  CHECK(out.status == run_status::completed);
  CHECK(out.value<int>() == 7);
  CHECK(f.events<signal_received_event>("c1").size() == 1);
}

SCENARIO("starting again a run whose actor awaits its restart attaches without a crash",
         "[restart][requests]") {
  body_runs = 0;
  runtime_fixture f{workflows, slow_restarts};
  REQUIRE(f.rt().start("crash_once", "c2", 0));
  REQUIRE(eventually([] { return body_runs.load() >= 1; }));
  REQUIRE(eventually([&] { return f.rt().stats().live_actors == 0; }));
  auto again = f.rt().start("crash_once", "c2", 0);  // idempotent by run id
  REQUIRE(again);
  CHECK_FALSE(is_terminal(*again));
  REQUIRE(f.rt().signal("c2", "go", 1));
  auto out = f.ended("c2", 10s);
  CHECK(out.status == run_status::completed);
  // One crash and one restart: the attach neither re-ran nor crashed the body.
  CHECK(body_runs.load() == 2);
}

SCENARIO("a workflow that throws once before its first await restarts and runs",
         "[restart][requests]") {
  body_runs = 0;
  runtime_fixture f{workflows};
  auto started = f.rt().start("crash_at_once", "c0", 0);
  INFO("start: " << (started ? std::string{to_string(*started)} : started.error().to_string()));
  REQUIRE(started);
  REQUIRE(eventually([] { return body_runs.load() >= 2; }));
  REQUIRE(f.await_status("c0", run_status::waiting));
  REQUIRE(f.rt().signal("c0", "go", 3));
  CHECK(f.ended("c0", 10s).value<int>() == 3);
}

namespace {

std::atomic<int> create_faults{0};

/// start_async with a bounded wait: nullopt if no answer came within `limit`.
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

SCENARIO("a start whose creating commit fails is answered with the error, and a later "
         "start works", "[restart][requests]") {
  create_faults = 0;
  runtime_fixture f{workflows, [](runtime_options& o) {
                      o.journal.inject_fault = [](const write_batch& b) -> expected<void> {
                        for (auto& op : b.ops())
                          if (op.kind == write_batch::op_kind::create_run && op.run_id == "n5"
                              && create_faults++ == 0)
                            return make_error(errc::disk_full, "injected: no space left");
                        return {};
                      };
                    }};
  auto first = start_within(f.rt(), "n5", 5s);
  REQUIRE(first.has_value());  // answered at all
  REQUIRE_FALSE(*first);
  CHECK(first->error().code == errc::disk_full);
  // One failed start is one failed write, not a crash loop retrying it.
  CHECK(create_faults.load() == 1);
  // The disk has room again: a new start is answered and the run completes.
  auto second = start_within(f.rt(), "n5", 5s);
  REQUIRE(second.has_value());
  REQUIRE(*second);
  CHECK(f.ended("n5", 10s).value<int>() == 1);
}


SCENARIO("a signal to a passivated run after the run supervisor restarted is consumed",
         "[restart][requests]") {
  runtime_fixture f{workflows, [](runtime_options& o) { o.passivate_after = 10ms; }};
  REQUIRE(f.rt().start("waits_for_go", "m1", 0));
  REQUIRE(f.await_status("m1", run_status::waiting));
  REQUIRE(eventually([&] { return f.rt().stats().live_actors == 0; }));  // parked
  auto old = f.tree_child("runs");
  REQUIRE(old);
  caf::anon_send_exit(old, caf::exit_reason::kill);
  caf::actor now;
  REQUIRE(eventually([&] { return (now = f.tree_child("runs")) && now != old; }));
  auto sent = f.rt().signal("m1", "go", 4);
  INFO("signal after the restart: " << describe(sent));
  CHECK(sent);
  CHECK(f.ended("m1", 5s).value<int>() == 4);
}
