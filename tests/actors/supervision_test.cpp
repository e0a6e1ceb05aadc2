// The runtime's supervision tree: a run whose workflow code keeps throwing is
// restarted from its journal and quarantined past its intensity while other
// runs complete; a killed child of the tree is restarted (rest_for_one) and
// the runs go on; shutdown waits for step bodies in flight.
#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include <atomic>
#include <stdexcept>

#include "actors/events.hpp"
#include "actors/runtime_fixture.hpp"
#include "supervisors/atoms.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

std::atomic<int> buggy_steps{0};
std::atomic<int> healthy_steps{0};
std::atomic<int> bodies_in_flight{0};
std::atomic<int> bodies_done{0};
std::atomic<bool> bug_fixed{false};

task<int> buggy(context& ctx, int) {
  auto load = [] { return ++buggy_steps; };
  co_await ctx.step("load", load);
  if (!bug_fixed)
    throw std::out_of_range("index 7 past the end of the plan");  // a bug, on every replay
  co_return 1;
}

task<int> refuses(context& ctx, int) {
  auto load = [] { return 1; };
  co_await ctx.step("load", load);
  throw fatal_error("the customer closed the account");  // a decision: the run fails
}

/// `count` steps named `name`, each adding one with `add`.
template <class Add>
task<int> add_steps(context& ctx, int x, int count, const char* name, const Add& add) {
  for (int i = 0; i < count; ++i)
    x = co_await ctx.step(name, add, x);
  co_return x;
}

task<int> healthy(context& ctx, int n) {
  auto add = [](int x) {
    ++healthy_steps;
    return x + 1;
  };
  co_return co_await add_steps(ctx, n, 3, "add", add);
}

task<int> slow(context& ctx, int n) {
  auto work = [](int x) {
    ++bodies_in_flight;
    std::this_thread::sleep_for(20ms);
    --bodies_in_flight;
    ++bodies_done;
    return x + 1;
  };
  co_return co_await add_steps(ctx, n, 5, "work", work);
}

task<int> sleeper(context& ctx, int) {
  co_await ctx.sleep(400ms);
  co_return 9;
}

void workflows(workflow_registry& r) {
  r.add("buggy", &buggy);
  r.add("refuses", &refuses);
  r.add("healthy", &healthy);
  r.add("slow", &slow);
  r.add("sleeper", &sleeper);
}

void fast_restarts(runtime_options& o) {
  o.run_restarts.intensity = 3;
  o.run_restarts.period = 60s;
  o.run_restarts.backoff.initial = 10ms;
  o.run_restarts.backoff.max = 40ms;
}

caf::actor child(runtime_fixture& f, const std::string& id) {
  caf::scoped_actor self{f.sys()};
  caf::actor out;
  self->request(f.rt().supervisor(), 5s, find_child_atom::value, id)
    .receive([&](caf::actor& a) { out = std::move(a); }, [](const caf::error&) {});
  return out;
}

/// Kills `id` and waits (bounded) until the root runs a new one.
caf::actor kill_child(runtime_fixture& f, const std::string& id) {
  auto old = child(f, id);
  REQUIRE(old);
  caf::anon_send_exit(old, caf::exit_reason::kill);
  for (int i = 0; i < 500; ++i) {
    if (auto now = child(f, id); now && now != old)
      return now;
    std::this_thread::sleep_for(10ms);
  }
  FAIL("the root supervisor did not restart " << id);
  return {};
}

} // namespace

SCENARIO("a run whose workflow throws on every replay is quarantined while 100 others complete",
         "[supervision]") {
  buggy_steps = 0;
  healthy_steps = 0;
  bug_fixed = false;
  runtime_fixture f{workflows, fast_restarts};
  REQUIRE(f.rt().start("buggy", "bug", 0));
  for (int i = 0; i < 100; ++i)
    REQUIRE(f.rt().start("healthy", "ok-" + std::to_string(i), i));
  for (int i = 0; i < 100; ++i) {
    auto out = f.rt().wait("ok-" + std::to_string(i), 20s);
    REQUIRE(out);
    CHECK(out->status == run_status::completed);
    CHECK(out->value<int>() == i + 3);
  }
  CHECK(healthy_steps == 300);
  auto bug = f.rt().wait("bug", 20s);
  REQUIRE(bug);
  CHECK(bug->status == run_status::quarantined);
  // Restarted 3 times; the 4th crash within the period gives up.
  CHECK_THAT(bug->error, Catch::Contains("crashed 4 times")
                           && Catch::Contains("index 7 past the end of the plan")
                           && Catch::Contains("endure release bug"));
  CHECK(buggy_steps == 1);  // every restart replayed the step from the journal
  auto meta = f.rt().store().run("bug");
  REQUIRE(meta);
  CHECK(meta->status == run_status::quarantined);
  CHECK_THAT(meta->detail, Catch::Contains("index 7"));

  AND_WHEN("a fix is deployed and the run released") {
    bug_fixed = true;
    REQUIRE(f.rt().release("bug", "fixed the plan index"));
    auto again = f.rt().wait("bug", 20s);
    REQUIRE(again);
    CHECK(again->status == run_status::completed);
    CHECK(again->value<int>() == 1);
    CHECK(buggy_steps == 1);
  }
}

SCENARIO("a quarantined run released while the process is down resumes at the next start",
         "[supervision]") {
  buggy_steps = 0;
  bug_fixed = false;
  runtime_fixture f{workflows, fast_restarts};
  REQUIRE(f.rt().start("buggy", "bug", 0));
  REQUIRE(f.rt().wait("bug", 20s)->status == run_status::quarantined);
  f.close();
  bug_fixed = true;  // the fix is deployed with the next process
  {
    auto j = f.open_journal();
    auto cancel = cancel_offline(*j, "bug", "give up");
    REQUIRE_FALSE(cancel);
    CHECK_THAT(cancel.error().message, Catch::Contains("release it first"));
    REQUIRE(release_offline(*j, "bug", "fixed the plan index"));
    auto twice = release_offline(*j, "bug", "again");
    REQUIRE_FALSE(twice);
    CHECK_THAT(twice.error().message, Catch::Contains("not quarantined"));
  }
  f.open();
  auto out = f.rt().wait("bug", 20s);
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
  CHECK(buggy_steps == 1);
}

SCENARIO("a workflow that throws an endure failure fails its run, without restarts",
         "[supervision]") {
  runtime_fixture f{workflows, fast_restarts};
  REQUIRE(f.rt().start("refuses", "r", 0));
  auto out = f.rt().wait("r", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::failed);
  CHECK_THAT(out->error, Catch::Contains("fatal") && Catch::Contains("closed the account"));
}

SCENARIO("a bad run restart policy is refused naming the field", "[supervision]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  temp_dir dir;
  runtime_options opts;
  opts.journal.data_dir = dir.path();
  opts.run_restarts.period = 0ms;
  auto rt = runtime::open(sys, opts, workflow_registry{});
  REQUIRE_FALSE(rt);
  CHECK_THAT(rt.error().message, Catch::Contains("run_restarts.period"));
  opts.run_restarts.period = 1s;
  opts.run_restarts.backoff.multiplier = 0.5;
  rt = runtime::open(sys, opts, workflow_registry{});
  REQUIRE_FALSE(rt);
  CHECK_THAT(rt.error().message, Catch::Contains("run_restarts.backoff"));
}

SCENARIO("a killed run supervisor is restarted and its runs resume from the journal",
         "[supervision]") {
  bodies_done = 0;
  runtime_fixture f{workflows};
  for (int i = 0; i < 50; ++i)
    REQUIRE(f.rt().start("slow", "s-" + std::to_string(i), i * 10));
  for (int i = 0; i < 400 && bodies_done < 60; ++i)
    std::this_thread::sleep_for(5ms);
  auto timers_before = child(f, "timer_service");
  kill_child(f, "runs");
  // rest_for_one: the timer service, started after the runs, restarted too.
  CHECK(child(f, "timer_service") != timers_before);
  for (int i = 0; i < 50; ++i) {
    auto out = f.rt().wait("s-" + std::to_string(i), 30s);
    REQUIRE(out);
    CHECK(out->status == run_status::completed);
    CHECK(out->value<int>() == i * 10 + 5);
  }
  // Only bodies in flight at the kill ran twice (at most one per run).
  CHECK(bodies_done >= 250);
  CHECK(bodies_done <= 300);
}

SCENARIO("a killed timer service is restarted and wakes passivated runs", "[supervision]") {
  runtime_fixture f{workflows, [](runtime_options& o) { o.passivate_after = 20ms; }};
  REQUIRE(f.rt().start("sleeper", "z", 0));
  kill_child(f, "timer_service");
  auto out = f.rt().wait("z", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
  CHECK(out->value<int>() == 9);
}

SCENARIO("shutdown stops run actors, then waits for step bodies in flight", "[supervision]") {
  bodies_done = 0;
  bodies_in_flight = 0;
  runtime_fixture f{workflows};
  for (int i = 0; i < 20; ++i)
    REQUIRE(f.rt().start("slow", "d-" + std::to_string(i), i));
  for (int i = 0; i < 400 && bodies_in_flight == 0; ++i)
    std::this_thread::sleep_for(1ms);
  f.close();  // the runtime's destructor returns once the tree is down
  CHECK(bodies_in_flight == 0);
  auto done_at_close = bodies_done.load();
  CHECK(done_at_close < 100);
  f.open();  // the data directory was released; every run resumes
  for (int i = 0; i < 20; ++i) {
    auto out = f.rt().wait("d-" + std::to_string(i), 30s);
    REQUIRE(out);
    CHECK(out->value<int>() == i + 5);
  }
}
