// Sagas and cancellation: compensations of completed steps run in reverse
// order, journaled, on a fatal failure and on cancel; concurrent steps
// finishing in an order the test forces replay, after restarts, with each
// result in its place and no body run again; journaled time, randomness
// and ids replay unchanged after a restart.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "endure/actors/events.hpp"
#include "actors/runtime_fixture.hpp"
#include "actors/step_gate.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

std::mutex log_mutex;
std::vector<std::string> actions;

void record(const std::string& what) {
  std::lock_guard g{log_mutex};
  actions.push_back(what);
}

auto doer(std::string name) {
  return [name] { record(name); return name; };
}
auto undoer(std::string name) {
  return [name](const step_info&) { record("undo " + name); };
}

// Step functions are named locals: g++ 12 corrupts lambda temporaries with
// std::string captures that live across a co_await (see README).
task<std::string> trip(context& ctx, bool fail_payment) {
  auto flight = doer("flight"), hotel = doer("hotel"), car = doer("car");
  auto undo_flight = undoer("flight"), undo_hotel = undoer("hotel");
  auto undo_payment = undoer("payment");
  auto pay = [fail_payment] {
    if (fail_payment)
      throw fatal_error("payment refused");
    record("payment");
    return std::string{"paid"};
  };
  co_await ctx.step("flight", flight).compensate_with(undo_flight);
  co_await ctx.step("hotel", hotel).compensate_with(undo_hotel);
  co_await ctx.step("car", car);  // nothing to undo
  co_await ctx.step("payment", pay).compensate_with(undo_payment);
  co_await ctx.wait_signal<bool>("confirm");
  co_return "booked";
}

step_gate gate;

/// Two steps together, a pause, then `n` steps together, another pause.
/// Each body waits at the gate under its step's name, so the test decides
/// which finishes when, and returns that name.
task<std::vector<std::string>> fan_out(context& ctx, int n) {
  auto gated = [](const step_info& info) {
    gate.pass(info.name);
    return info.name;
  };
  auto [a, b] = co_await ctx.all(ctx.step("left", gated), ctx.step("right", gated));
  co_await ctx.wait_signal<bool>("more");
  std::vector<op_awaiter<std::string>> many;
  for (int i = 0; i < n; ++i)
    many.push_back(ctx.step("item" + std::to_string(i), gated));
  auto items = co_await ctx.all(std::move(many));
  co_await ctx.wait_signal<bool>("done");
  items.push_back(a + "+" + b);
  co_return items;
}

/// What the workflow saw from ctx.now/random/uuid, each time its code ran
/// past them: the first execution, then every replay.
struct seen_values {
  std::int64_t now = 0;
  std::uint64_t random = 0;
  std::string uuid;
};
std::mutex seen_mutex;
std::vector<seen_values> seen;

task<std::string> journaled_values(context& ctx, int) {
  auto t = co_await ctx.now();
  auto r = co_await ctx.random();
  auto id = co_await ctx.uuid();
  {
    std::lock_guard g{seen_mutex};
    seen.push_back({t, r, id});
  }
  co_await ctx.wait_signal<bool>("go");
  co_return std::to_string(t) + "|" + std::to_string(r) + "|" + id;
}

/// What a cancelled trip leaves behind: every booking, then every undo in
/// reverse order (the car has none).
const std::vector<std::string> booked_then_undone{
  "flight", "hotel", "car", "payment", "undo payment", "undo hotel", "undo flight"};

void workflows(workflow_registry& r) {
  r.add("trip", &trip);
  r.add("fan_out", &fan_out);
  r.add("values", &journaled_values);
}

} // namespace

SCENARIO("a fatal failure compensates completed steps in reverse order", "[saga]") {
  actions.clear();
  runtime_fixture f{workflows};
  REQUIRE(f.rt().start("trip", "t", true));
  auto out = f.rt().wait("t", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::failed);
  CHECK_THAT(out->error, Catch::Contains("payment refused"));
  CHECK(actions == std::vector<std::string>{"flight", "hotel", "car", "undo hotel", "undo flight"});
}

SCENARIO("cancel ends the pending wait and compensates everything done", "[saga]") {
  actions.clear();
  runtime_fixture f{workflows};
  REQUIRE(f.rt().start("trip", "t", false));
  // Let it reach the signal wait, across a restart for good measure.
  REQUIRE(f.await_status("t", run_status::waiting));
  f.reopen();
  REQUIRE(f.rt().cancel("t", "customer changed plans"));
  auto out = f.rt().wait("t", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::cancelled);
  CHECK_THAT(out->error, Catch::Contains("customer changed plans"));
  CHECK(actions == booked_then_undone);
}

SCENARIO("a cancel journaled while the process is down compensates at the next start",
         "[saga]") {
  actions.clear();
  runtime_fixture f{workflows};
  REQUIRE(f.rt().start("trip", "t", false));
  REQUIRE(f.await_status("t", run_status::waiting));
  f.close();
  {
    auto j = f.open_journal();
    REQUIRE(cancel_offline(*j, "t", "customer changed plans"));
    auto missing = cancel_offline(*j, "nobody", "x");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == errc::not_found);
    CHECK(j->run("t")->status == run_status::running);  // the next runtime resumes it
  }
  f.open();
  auto out = f.rt().wait("t", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::cancelled);
  CHECK_THAT(out->error, Catch::Contains("customer changed plans"));
  CHECK(actions == booked_then_undone);
  f.close();
  auto ended = cancel_offline(*f.open_journal(), "t", "again");
  REQUIRE_FALSE(ended);
  CHECK_THAT(ended.error().message, Catch::Contains("run t is cancelled"));
}

namespace {

/// Names of the run's completed steps, in the order they were journaled.
std::vector<std::string> completion_order(runtime_fixture& f, const std::string& id) {
  std::vector<std::string> names;
  for (auto& done : f.events<step_completed_event>(id))
    names.push_back(done.name);
  return names;
}

bool journaled(runtime_fixture& f, const std::string& id, const std::string& step) {
  auto names = completion_order(f, id);
  return std::find(names.begin(), names.end(), step) != names.end();
}

/// Lets the bodies waiting under `names` finish one by one, in that order:
/// each result is journaled before the next body is released.
void finish_in_order(runtime_fixture& f, const std::string& id,
                     const std::vector<std::string>& names) {
  for (auto& name : names) {
    INFO("step " << name);
    gate.release(name);
    REQUIRE(eventually([&] { return journaled(f, id, name); }));
  }
}

} // namespace

SCENARIO("concurrent steps finish in any order and replay the same after restarts",
         "[workflow]") {
  gate.reset();
  runtime_fixture f{workflows, [](runtime_options& o) { o.activity_threads = 8; }};
  step_gate::opener open_at_exit{gate};
  REQUIRE(f.rt().start("fan_out", "f", 4));

  // The second of two concurrent steps finishes first.
  REQUIRE(gate.await_waiting(2));
  finish_in_order(f, "f", {"right", "left"});
  REQUIRE(f.await_status("f", run_status::waiting));  // parked on "more"

  f.reopen();  // a restart between the two fan-outs
  REQUIRE(f.rt().signal("f", "more", true));
  REQUIRE(gate.await_waiting(4));
  finish_in_order(f, "f", {"item3", "item1", "item2", "item0"});
  REQUIRE(f.await_status("f", run_status::waiting));  // parked on "done"
  CHECK(completion_order(f, "f")
        == std::vector<std::string>{"right", "left", "more", "item3", "item1", "item2", "item0"});

  f.reopen();  // a restart after both fan-outs: everything replays
  REQUIRE(f.rt().signal("f", "done", true));
  auto out = f.rt().wait("f", 10s);
  REQUIRE(out);
  REQUIRE(out->status == run_status::completed);
  // Each result in its step's place, whatever order the journal holds them in.
  CHECK(out->value<std::vector<std::string>>()
        == std::vector<std::string>{"item0", "item1", "item2", "item3", "left+right"});
  // No body ran again: two restarts replayed every result from the journal.
  for (auto name : {"left", "right", "item0", "item1", "item2", "item3"}) {
    INFO("step " << name);
    CHECK(gate.entered(name) == 1);
  }
  CHECK(f.rt().stats().steps_executed == 0);
  CHECK(f.rt().stats().steps_replayed >= 6);
}

SCENARIO("time, randomness and ids are journaled and replayed after a restart", "[workflow]") {
  {
    std::lock_guard g{seen_mutex};
    seen.clear();
  }
  runtime_fixture f{workflows};
  REQUIRE(f.rt().start("values", "v", 0));
  REQUIRE(f.await_status("v", run_status::waiting));  // parked after the values
  seen_values first;
  {
    std::lock_guard g{seen_mutex};
    REQUIRE(seen.size() == 1);
    first = seen.front();
  }
  // Journaled as the workflow saw them.
  std::map<std::string, std::string> stored;
  for (auto& done : f.events<step_completed_event>("v"))
    stored[done.name] = done.result;
  REQUIRE(stored.size() == 3);
  CHECK(from_bytes<std::int64_t>(stored["now"]) == first.now);
  CHECK(from_bytes<std::uint64_t>(stored["random"]) == first.random);
  CHECK(from_bytes<std::string>(stored["uuid"]) == first.uuid);
  CHECK(first.uuid.size() == 36);
  CHECK(first.uuid[14] == '4');
  // The clock has moved on since the first execution, so a fresh ctx.now()
  // in the replay would differ (as would a fresh random number or uuid).
  REQUIRE(eventually([&] { return wall_ms() > first.now; }, 1s));

  f.reopen();  // the runtime restarts; the run replays up to its wait
  REQUIRE(f.rt().signal("v", "go", true));
  auto out = f.rt().wait("v", 10s);
  REQUIRE(out);
  REQUIRE(out->status == run_status::completed);
  std::lock_guard g{seen_mutex};
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].now == first.now);
  CHECK(seen[1].random == first.random);
  CHECK(seen[1].uuid == first.uuid);
  CHECK(out->value<std::string>()
        == std::to_string(first.now) + "|" + std::to_string(first.random) + "|" + first.uuid);
}
