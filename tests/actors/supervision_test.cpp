// The runtime's supervision tree: a run whose workflow code keeps throwing is
// restarted from its journal and quarantined past its intensity while other
// runs complete; a killed child of the tree is restarted (rest_for_one) and
// the runs go on, re-running only the step bodies that were in flight;
// shutdown waits for step bodies in flight. Each test first makes sure the
// work it speaks of really is in flight (blocked step bodies, journaled
// starts without outcomes, passivated runs).
#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>

#include "endure/actors/events.hpp"
#include "actors/runtime_fixture.hpp"
#include "actors/step_gate.hpp"
#include "endure/supervisors/atoms.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

std::atomic<int> buggy_steps{0};
std::atomic<int> healthy_steps{0};
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

/// Step bodies of "held": executions per "run/step", and how many bodies
/// are running right now.
std::mutex runs_mutex;
std::map<std::string, int> executions;
std::atomic<int> bodies_running{0};
step_gate gate;

int executed(const std::string& run, int step) {
  std::lock_guard g{runs_mutex};
  return executions[run + "/" + std::to_string(step)];
}

/// Counts a body as running for its lifetime.
struct running_body {
  running_body() { ++bodies_running; }
  ~running_body() { --bodies_running; }
};

/// Five steps adding one; the first attempt of step 2 waits at the gate
/// under its run's id.
task<int> held(context& ctx, int n) {
  auto work = [](const step_info& info, int x) {
    running_body running;
    {
      std::lock_guard g{runs_mutex};
      ++executions[info.run_id + "/" + std::to_string(info.step)];
    }
    if (info.step == 2 && info.attempt == 1)
      gate.pass(info.run_id);
    return x + 1;
  };
  co_return co_await add_steps(ctx, n, 5, "work", work);
}

std::atomic<std::int64_t> woke_at{0};

task<int> sleeper(context& ctx, int) {
  co_await ctx.sleep(1500ms);
  auto note = [] {
    woke_at = wall_ms();
    return 9;
  };
  co_return co_await ctx.step("woke", note);
}

/// Resets the counters of "held" runs.
void reset_held() {
  std::lock_guard g{runs_mutex};
  executions.clear();
  bodies_running = 0;
  gate.reset();
}

/// Whether run `id` has step `step` started in the journal and not finished.
bool in_flight(const journal& store, const std::string& id, std::uint64_t step) {
  bool started = false, finished = false;
  for (auto& ev : read_events(store, id)) {
    if (auto* s = std::get_if<step_started_event>(&ev); s && s->step == step)
      started = true;
    if (auto* c = std::get_if<step_completed_event>(&ev); c && c->step == step)
      finished = true;
    if (auto* x = std::get_if<step_failed_event>(&ev); x && x->step == step)
      finished = true;
  }
  return started && !finished;
}

void workflows(workflow_registry& r) {
  r.add("buggy", &buggy);
  r.add("refuses", &refuses);
  r.add("healthy", &healthy);
  r.add("held", &held);
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
  // A bounded poll: the root reports a restart to nobody but its parent.
  caf::actor now;
  if (!eventually([&] { return (now = child(f, id)) && now != old; }))
    FAIL("the root supervisor did not restart " << id);
  return now;
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
  reset_held();
  constexpr int runs = 8;
  // Room for every held attempt and every retry of it at once.
  runtime_fixture f{workflows, [](runtime_options& o) { o.activity_threads = 2 * runs + 2; }};
  step_gate::opener open_at_exit{gate};
  for (int i = 0; i < runs; ++i)
    REQUIRE(f.rt().start("held", "s-" + std::to_string(i), i * 10));
  // In flight at the kill: every run's step 2 has begun and is blocked, and
  // the journal holds its start without an outcome.
  REQUIRE(gate.await_waiting(runs));
  for (int i = 0; i < runs; ++i)
    REQUIRE(in_flight(f.rt().store(), "s-" + std::to_string(i), 2));
  auto timers_before = child(f, "timer_service");
  kill_child(f, "runs");
  // rest_for_one: the timer service, started after the runs, restarted too.
  CHECK(child(f, "timer_service") != timers_before);
  for (int i = 0; i < runs; ++i) {
    auto id = "s-" + std::to_string(i);
    auto out = f.rt().wait(id, 30s);
    REQUIRE(out);
    CHECK(out->status == run_status::completed);
    CHECK(out->value<int>() == i * 10 + 5);
    // Steps 0 and 1 were replayed; only step 2, in flight at the kill, ran
    // again (attempt 2); 3 and 4 ran once.
    for (int step = 0; step < 5; ++step) {
      INFO(id << " step " << step);
      CHECK(executed(id, step) == (step == 2 ? 2 : 1));
    }
  }
  // The runs finished without the attempts cut off by the kill: those are
  // still blocked.
  CHECK(gate.waiting() == static_cast<std::size_t>(runs));
}

SCENARIO("a killed timer service is restarted and wakes passivated runs", "[supervision]") {
  runtime_fixture f{workflows, [](runtime_options& o) { o.passivate_after = 20ms; }};
  REQUIRE(f.rt().start("sleeper", "z", 0));
  // The run is passivated: only the timer service will wake it.
  REQUIRE(f.await_status("z", run_status::waiting));
  REQUIRE(eventually([&] { return f.rt().stats().live_actors == 0; }));
  auto timers = f.events<timer_scheduled_event>("z");
  REQUIRE(timers.size() == 1);
  auto due = timers[0].due_ms;
  REQUIRE(wall_ms() < due);
  kill_child(f, "timer_service");
  auto out = f.rt().wait("z", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
  CHECK(out->value<int>() == 9);
  CHECK(woke_at >= due);
}

SCENARIO("shutdown stops run actors, then waits for step bodies in flight", "[supervision]") {
  reset_held();
  constexpr int runs = 6;
  runtime_fixture f{workflows, [](runtime_options& o) { o.activity_threads = runs + 2; }};
  step_gate::opener open_at_exit{gate};
  for (int i = 0; i < runs; ++i)
    REQUIRE(f.rt().start("held", "d-" + std::to_string(i), i));
  // In flight at the shutdown: every run's step 2 has begun and is blocked.
  REQUIRE(gate.await_waiting(runs));
  for (int i = 0; i < runs; ++i)
    REQUIRE(in_flight(f.rt().store(), "d-" + std::to_string(i), 2));
  CHECK(bodies_running == runs);

  auto closing = std::async(std::launch::async, [&] { f.stop_runtime(); });
  // The runtime's destructor does not return while those bodies run. A
  // bounded wait for something that must not happen.
  CHECK(closing.wait_for(300ms) == std::future_status::timeout);
  gate.release_all();
  REQUIRE(closing.wait_for(20s) == std::future_status::ready);
  closing.get();
  CHECK(bodies_running == 0);  // it returned only once they had
  f.close();

  // The data directory was released. Whatever the shutdown journaled of
  // the step in flight decides whether it runs again.
  std::map<std::string, bool> step2_done;
  {
    auto j = f.open_journal();
    for (int i = 0; i < runs; ++i) {
      auto id = "d-" + std::to_string(i);
      step2_done[id] = !in_flight(*j, id, 2);
    }
  }
  f.open();  // every run resumes
  for (int i = 0; i < runs; ++i) {
    auto id = "d-" + std::to_string(i);
    auto out = f.rt().wait(id, 30s);
    REQUIRE(out);
    CHECK(out->value<int>() == i + 5);
    for (int step = 0; step < 5; ++step) {
      INFO(id << " step " << step);
      CHECK(executed(id, step) == (step == 2 && !step2_done[id] ? 2 : 1));
    }
  }
}
