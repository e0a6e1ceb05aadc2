// The workflow core end to end, in-process: steps run once, are replayed
// (not re-run) by a runtime restarted under an unfinished run, and a
// finished run is never run again.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>

#include "actors/runtime_fixture.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

// Counts executions of step bodies by name, across runtime reopenings.
struct exec_counter {
  std::mutex mu;
  std::map<std::string, int> counts;
  void hit(const std::string& k) {
    std::lock_guard g{mu};
    ++counts[k];
  }
  int get(const std::string& k) {
    std::lock_guard g{mu};
    return counts[k];
  }
};

exec_counter* counter = nullptr;

task<std::string> three_steps(context& ctx, std::string in) {
  auto a = co_await ctx.step("a", [](const std::string& s) { counter->hit("a"); return s + "-a"; }, in);
  auto b = co_await ctx.step("b", [](const std::string& s) { counter->hit("b"); return s + "-b"; }, a);
  auto go = co_await ctx.wait_signal<std::string>("go");
  auto c = co_await ctx.step("c", [](const step_info& info, const std::string& s) {
    counter->hit("c");
    return s + "-c@" + info.idempotency_key;
  }, b + go.value_or("?"));
  co_return c;
}

} // namespace

SCENARIO("a workflow's steps run once and replay after a restart", "[workflow]") {
  exec_counter c;
  counter = &c;
  runtime_fixture f{[](workflow_registry& r) { r.add("three", &three_steps); }};
  REQUIRE(f.rt().start("three", "r1", std::string{"x"}) == run_status::running);
  // Parked on the signal after two steps: unfinished when the process goes.
  REQUIRE(f.await_status("r1", run_status::waiting));
  CHECK(c.get("a") == 1);
  CHECK(c.get("b") == 1);
  CHECK(c.get("c") == 0);

  f.reopen();
  // The restarted runtime resumed the run by itself; a and b come from the
  // journal, only c runs.
  REQUIRE(f.rt().signal("r1", "go", std::string{"!"}));
  auto out = f.rt().wait("r1", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::completed);
  CHECK(out->value<std::string>() == "x-a-b!-c@r1/3");
  CHECK(c.get("a") == 1);
  CHECK(c.get("b") == 1);
  CHECK(c.get("c") == 1);
  CHECK(f.rt().stats().steps_executed == 1);
  CHECK(f.rt().stats().steps_replayed >= 2);
}

SCENARIO("starting a finished run again returns its result and runs nothing", "[workflow]") {
  exec_counter c;
  counter = &c;
  runtime_fixture f{[](workflow_registry& r) { r.add("three", &three_steps); }};
  REQUIRE(f.rt().start("three", "r1", std::string{"x"}) == run_status::running);
  REQUIRE(f.rt().signal("r1", "go", std::string{"!"}));
  REQUIRE(f.rt().wait("r1", 10s)->value<std::string>() == "x-a-b!-c@r1/3");

  WHEN("the same run id is started again, even after a restart, with other input") {
    f.reopen();
    CHECK(f.rt().start("three", "r1", std::string{"other"}) == run_status::completed);
    CHECK(f.rt().wait("r1", 10s)->value<std::string>() == "x-a-b!-c@r1/3");
    CHECK(c.get("a") == 1);
    CHECK(c.get("b") == 1);
    CHECK(c.get("c") == 1);
  }
}

SCENARIO("unknown workflows and bad run ids are refused", "[workflow]") {
  runtime_fixture f{[](workflow_registry& r) { r.add("three", &three_steps); }};
  auto unknown = f.rt().start("nope", "r1", std::string{"x"});
  REQUIRE_FALSE(unknown);
  CHECK_THAT(unknown.error().message, Catch::Contains("nope"));
  CHECK_FALSE(f.rt().start("three", "", std::string{"x"}));
  CHECK_FALSE(f.rt().wait("never-started", 1s));
  CHECK_FALSE(f.rt().signal("never-started", "go", true));
}
