// ctx.tool: a tool call is one durable step. It runs once, its result is
// replayed after a restart, its arguments are checked against the tool's
// schema first, an irreversible tool is never attempted twice, and a replay
// that passes other arguments is caught as non-determinism.
#include <catch2/catch.hpp>

#include <atomic>

#include "actors/runtime_fixture.hpp"
#include "endure/actors/agent/tool_call.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::atomic<int> add_calls{0}, publish_calls{0};
std::atomic<int> replay_amount{1};

std::shared_ptr<const agent::tool_registry> tools() {
  auto r = std::make_shared<agent::tool_registry>();
  json numbers = {{"type", "object"},
                  {"properties", {{"a", {{"type", "integer"}}}, {"b", {{"type", "integer"}}}}},
                  {"required", {"a", "b"}},
                  {"additionalProperties", false}};
  REQUIRE(r->add({"add", "Adds two integers.", numbers, [](const json& args) {
                    ++add_calls;
                    return json{{"sum", args["a"].get<int>() + args["b"].get<int>()}};
                  }}));
  json post = {{"type", "object"}, {"properties", {{"text", {{"type", "string"}}}}}};
  REQUIRE(r->add({"publish", "Publishes a post.", post,
                  [](const step_info&, const json&) -> json {
                    ++publish_calls;
                    throw retryable_error("the network dropped the answer");
                  },
                  /*irreversible*/ true}));
  return r;
}

task<int> adds_then_waits(context& ctx, int) {
  json args = {{"a", replay_amount.load()}, {"b", 2}};
  auto sum = co_await ctx.tool("add", args);
  auto go = co_await ctx.wait_signal<int>("go");
  co_return sum["sum"].get<int>() * 100 + go.value_or(0);
}

task<int> bad_arguments(context& ctx, int) {
  json args = {{"a", "one"}, {"b", 2}};
  co_await ctx.tool("add", args);
  co_return 0;
}

task<int> unknown_tool(context& ctx, int) {
  json args = json::object();
  co_await ctx.tool("delete_everything", args);
  co_return 0;
}

task<int> publishes(context& ctx, int) {
  json args = {{"text", "hello"}};
  co_await ctx.tool("publish", args);
  co_return 0;
}

void workflows(workflow_registry& r) {
  r.add("adds_then_waits", &adds_then_waits);
  r.add("bad_arguments", &bad_arguments);
  r.add("unknown_tool", &unknown_tool);
  r.add("publishes", &publishes);
}

void with_tools(runtime_options& o) { o.tools = tools(); }

} // namespace

SCENARIO("a tool runs once and its result is replayed after a restart", "[agent][tool]") {
  add_calls = 0;
  replay_amount = 1;
  runtime_fixture f{workflows, with_tools};
  REQUIRE(f.rt().start("adds_then_waits", "t1", 0));
  REQUIRE(f.await_status("t1", run_status::waiting));
  CHECK(add_calls == 1);
  f.reopen();  // a new runtime replays the run from its journal
  REQUIRE(f.rt().signal("t1", "go", 7));
  CHECK(f.ended("t1", 10s).value<int>() == 307);
  CHECK(add_calls == 1);
}

SCENARIO("a replay that passes the tool other arguments is caught", "[agent][tool]") {
  replay_amount = 1;
  runtime_fixture f{workflows, with_tools};
  REQUIRE(f.rt().start("adds_then_waits", "t2", 0));
  REQUIRE(f.await_status("t2", run_status::waiting));
  replay_amount = 1000;  // the workflow now computes other arguments
  f.reopen();
  REQUIRE(f.rt().signal("t2", "go", 1));  // wakes the run: it replays
  REQUIRE(f.await_status("t2", run_status::quarantined));
  auto meta = f.rt().store().run("t2");
  // The gate step, the first step of every tool call, sees the other input.
  CHECK_THAT(meta->detail, Catch::Contains("gate:add") && Catch::Contains("different input"));
}

SCENARIO("arguments that break the tool's schema fail the run naming run and tool",
         "[agent][tool]") {
  add_calls = 0;
  runtime_fixture f{workflows, with_tools};
  REQUIRE(f.rt().start("bad_arguments", "t3", 0));
  auto out = f.ended("t3", 10s);
  CHECK(out.status == run_status::failed);
  CHECK_THAT(out.error, Catch::Contains("run t3, tool 'add'") && Catch::Contains("/a"));
  CHECK(add_calls == 0);
}

SCENARIO("an unknown tool, or no tools at all, fails the run naming the tool",
         "[agent][tool]") {
  {
    runtime_fixture f{workflows, with_tools};
    REQUIRE(f.rt().start("unknown_tool", "t4", 0));
    CHECK_THAT(f.ended("t4", 10s).error, Catch::Contains("'delete_everything'")
                                           && Catch::Contains("no such tool"));
  }
  runtime_fixture f{workflows};
  REQUIRE(f.rt().start("unknown_tool", "t5", 0));
  CHECK_THAT(f.ended("t5", 10s).error, Catch::Contains("no tools are configured"));
}

SCENARIO("an irreversible tool is attempted once, even on a retryable failure",
         "[agent][tool]") {
  publish_calls = 0;
  runtime_fixture f{workflows, with_tools};
  REQUIRE(f.rt().start("publishes", "t6", 0));
  auto out = f.ended("t6", 10s);
  CHECK(out.status == run_status::failed);
  CHECK(publish_calls == 1);
}
