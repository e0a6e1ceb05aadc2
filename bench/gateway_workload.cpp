// The gated workload of bench/gateway (gateway_workload.hpp).
#include "bench/gateway_workload.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "endure/actors/agent/tool_call.hpp"
#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/gateway/policy.hpp"

namespace endure::bench {

namespace {

using json = nlohmann::json;

/// The README's policy shape: who decides, by when, and a reminder, so the
/// gateway and the runs do what they would for a real policy (a durable
/// timer per waiting run, a reminder per pending row).
constexpr const char* policy_text = R"(
groups: {editors: [ann, bob]}
interrupt_on:
  publish:
    description: Publishing is public.
    approvers: {groups: [editors]}
    deadline: {after: 24h, outcome: reject}
    reminders: [1h]
)";

std::mutex starts_mutex;
std::condition_variable starts_changed;
tool_starts starts;
std::atomic<const journal*> watched{nullptr};

json publish(const json& args) {
  auto now = std::chrono::steady_clock::now();
  auto* store = watched.load();
  {
    std::lock_guard g{starts_mutex};
    ++starts.count;
    starts.last = now;
    starts.commits_at_last = store ? store->stats().commits : 0;
  }
  starts_changed.notify_all();
  return {{"url", "https://example.com/" + args.value("title", std::string{})}};
}

std::shared_ptr<const agent::tool_registry> tools() {
  auto r = std::make_shared<agent::tool_registry>();
  json schema = {{"type", "object"},
                 {"properties", {{"title", {{"type", "string"}}}, {"body", {{"type", "string"}}}}},
                 {"required", {"title", "body"}}};
  if (auto ok = r->add({"publish", "Publishes a post.", schema, &publish, true}); !ok)
    throw std::runtime_error(ok.error().message);
  return r;
}

std::shared_ptr<const gateway::policy> policy() {
  auto p = gateway::parse_policy(policy_text, "bench-policy.yaml");
  if (!p)
    throw std::runtime_error(p.error().message);
  return std::make_shared<const gateway::policy>(std::move(*p));
}

/// A post of ~400 bytes of arguments, as an agent's draft would be.
task<int> gated_publish(context& ctx, int n) {
  json args = {{"title", "post " + std::to_string(n)},
               {"body", std::string(360, static_cast<char>('a' + n % 26))}};
  auto call = ctx.tool("publish", std::move(args));
  co_await std::move(call);
  co_return n;
}

} // namespace

std::string request_of(const std::string& run_id) { return run_id + "/0"; }

void register_gated_workflow(workflow_registry& registry) {
  registry.add(gated_workflow, &gated_publish);
}

durability durability_of(const std::string& mode) {
  if (mode == "nosync")
    return durability::nosync;
  if (mode == "wal")
    return durability::wal;
  return mode == "nometasync" ? durability::nometasync : durability::sync;
}

runtime_options gated_options(const std::string& data_dir, const std::string& mode,
                              std::chrono::milliseconds passivate_after,
                              std::size_t activity_threads) {
  runtime_options o;
  o.journal.data_dir = data_dir;
  o.journal.mode = durability_of(mode);
  o.passivate_after = passivate_after;
  o.activity_threads = activity_threads;
  o.tools = tools();
  o.policy = policy();
  return o;
}

tool_starts publish_starts() {
  std::lock_guard g{starts_mutex};
  return starts;
}

bool await_publish(std::uint64_t seen, std::chrono::milliseconds limit) {
  std::unique_lock l{starts_mutex};
  return starts_changed.wait_for(l, limit, [&] { return starts.count > seen; });
}

void watch_commits(const journal* store) { watched = store; }

} // namespace endure::bench
