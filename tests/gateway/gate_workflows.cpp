// The gate tests' tools, policy and workflows (see gate_workflows.hpp).
#include "gateway/gate_workflows.hpp"

#include <catch2/catch.hpp>

#include <mutex>

#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/agent/json_msgpack.hpp"
#include "endure/persistence/journal.hpp"
#include "gateway/request_row.hpp"

namespace endure::test::gate {

using nlohmann::json;
using namespace std::chrono_literals;

std::atomic<const journal*> counted_store{nullptr};
std::atomic<std::uint64_t> commits_at_publish{0};
std::promise<void> computation;
std::atomic<bool> computing{false};

namespace {

std::mutex published_mutex;
std::vector<json> published;  // the arguments publish actually ran with
/// computation's future, taken once per test (a replay of the work waits on
/// it too).
std::shared_future<void> computed;

std::shared_ptr<const agent::tool_registry> tools() {
  auto r = std::make_shared<agent::tool_registry>();
  json post = {{"type", "object"},
               {"properties", {{"title", {{"type", "string"}}}, {"audience", {{"type", "integer"}}}}},
               {"required", {"title"}}};
  REQUIRE(r->add({"publish", "Publishes a post.", post,
                  [](const json& args) {
                    if (auto* store = counted_store.load())
                      commits_at_publish = store->stats().commits;
                    std::lock_guard g{published_mutex};
                    published.push_back(args);
                    return json{{"url", "https://example.com/" + args["title"].get<std::string>()}};
                  },
                  true}));
  json query = {{"type", "object"}, {"properties", {{"q", {{"type", "string"}}}}}};
  REQUIRE(r->add({"search", "Searches.", query, [](const json&) { return json{{"hits", 2}}; }}));
  return r;
}

task<json> publishes(context& ctx, int audience) {
  json args = {{"title", "durable"}, {"audience", audience}};
  auto result = co_await ctx.tool("publish", args);
  co_return result;
}

task<json> publishes_twice(context& ctx, int) {
  json first = {{"title", "first"}, {"audience", 500}};
  co_await ctx.tool("publish", first);
  json changed = {{"title", "first, changed"}, {"audience", 500}};
  auto second = co_await ctx.tool("publish", changed);
  co_return second;
}

task<std::string> asks(context& ctx, int) {
  // Named locals, not temporaries in the co_await (README: g++ 12 pitfall).
  std::string question = "Which audience?";
  std::vector<std::string> choices{"engineers", "managers"};
  auto ask = ctx.ask_human(question, choices);
  auto answer = co_await std::move(ask);
  co_return answer;
}

task<std::string> asks_then_computes(context& ctx, int) {
  std::string question = "Which audience?";
  std::vector<std::string> choices;
  auto ask = ctx.ask_human(question, choices);
  auto answer = co_await std::move(ask);
  // The commit taking the answer waits for this: long work between awaits.
  computing = true;
  computed.wait_for(std::chrono::seconds{20});
  co_return answer;
}

/// asks_then_computes, then waiting for signal "finish" (at most 60 s).
task<std::string> asks_computes_and_waits(context& ctx, int x) {
  auto answer = co_await asks_then_computes(ctx, x);
  auto finish = ctx.wait_signal<int>("finish", std::chrono::seconds{60});
  co_await std::move(finish);
  co_return answer;
}

} // namespace

void new_computation() {
  computation = std::promise<void>{};
  computed = computation.get_future().share();
}

std::shared_ptr<const gateway::policy> policy() {
  auto p = gateway::parse_policy(R"(
groups: {editors: [ann, bob]}
interrupt_on:
  search: false
  publish:
    description: Publishing is public.
    approvers: {groups: [editors]}
    when: {pointer: /audience, op: gt, value: 100}
)", "test-policy.yaml");
  REQUIRE(p);
  return std::make_shared<const gateway::policy>(std::move(*p));
}

void workflows(workflow_registry& r) {
  r.add("asks_then_computes", &asks_then_computes);
  r.add("asks_computes_and_waits", &asks_computes_and_waits);
  r.add("publishes", &publishes);
  r.add("publishes_twice", &publishes_twice);
  r.add("asks", &asks);
}

void gated(runtime_options& o) {
  o.tools = tools();
  o.policy = policy();
  o.passivate_after = 10ms;
}

void reset() {
  counted_store = nullptr;  // a failed scenario may have left its journal here
  computing = false;
  std::lock_guard g{published_mutex};
  published.clear();
}

std::vector<json> published_now() {
  std::lock_guard g{published_mutex};
  return published;
}

std::string pending_request(runtime_fixture& f, const std::string& run) {
  return pending_request_of(f.rt().store(), run);
}

gateway::human_request request_row(runtime_fixture& f, const std::string& id) {
  return endure::test::request_row(f.rt().store(), id);
}

} // namespace endure::test::gate
