// Sagas under ctx.all: every step of a fan-out that completed is undone
// when a sibling fails, whatever its position in the fan-out, for the
// tuple and the vector form alike, and the undos run in reverse step order.
#include <catch2/catch.hpp>

#include <mutex>
#include <vector>

#include "actors/runtime_fixture.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

std::mutex actions_mutex;
std::vector<std::string> actions;

void record(const std::string& what) {
  std::lock_guard g{actions_mutex};
  actions.push_back(what);
}

std::vector<std::string> recorded() {
  std::lock_guard g{actions_mutex};
  return actions;
}

/// Books `name` (a step body), or refuses fatally if `name` is "refused".
auto book(std::string name) {
  return [name] {
    if (name == "refused")
      throw fatal_error("the provider refused");
    record(name);
    return name;
  };
}
auto unbook(std::string name) {
  return [name](const step_info&) { record("undo " + name); };
}

// The failing step sits in the middle: siblings on both sides completed.
task<std::string> tuple_fan_out(context& ctx, int) {
  auto a = book("a"), b = book("refused"), c = book("c");
  auto undo_a = unbook("a"), undo_b = unbook("b"), undo_c = unbook("c");
  auto [x, y, z] = co_await ctx.all(ctx.step("a", a).compensate_with(undo_a),
                                    ctx.step("b", b).compensate_with(undo_b),
                                    ctx.step("c", c).compensate_with(undo_c));
  co_return x + y + z;
}

task<std::string> vector_fan_out(context& ctx, int n) {
  std::vector<op_awaiter<std::string>> steps;
  for (int i = 0; i < n; ++i) {
    auto name = i == 1 ? std::string{"refused"} : "v" + std::to_string(i);
    auto body = book(name);
    auto undo = unbook("v" + std::to_string(i));
    steps.push_back(ctx.step("v" + std::to_string(i), body).compensate_with(undo));
  }
  auto all = co_await ctx.all(std::move(steps));
  co_return all.front();
}

void workflows(workflow_registry& r) {
  r.add("tuple", &tuple_fan_out);
  r.add("vector", &vector_fan_out);
}

} // namespace

SCENARIO("a failing sibling in all(...) leaves no completed sibling undone", "[saga][all]") {
  actions.clear();
  runtime_fixture f{workflows};
  REQUIRE(f.rt().start("tuple", "t", 0));
  auto out = f.rt().wait("t", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::failed);
  CHECK_THAT(out->error, Catch::Contains("refused"));
  auto seen = recorded();
  // Bodies ran concurrently (any order); the undos, journaled in reverse
  // step order, come after all of them: c (step 2), then a (step 0).
  REQUIRE(seen.size() == 4);
  CHECK(std::vector<std::string>{seen.begin() + 2, seen.end()}
        == std::vector<std::string>{"undo c", "undo a"});
}

SCENARIO("a failing step in all(vector) leaves no completed step undone", "[saga][all]") {
  actions.clear();
  runtime_fixture f{workflows};
  REQUIRE(f.rt().start("vector", "v", 4));
  auto out = f.rt().wait("v", 10s);
  REQUIRE(out);
  CHECK(out->status == run_status::failed);
  auto seen = recorded();
  REQUIRE(seen.size() == 6);
  CHECK(std::vector<std::string>{seen.begin() + 3, seen.end()}
        == std::vector<std::string>{"undo v3", "undo v2", "undo v0"});
}
