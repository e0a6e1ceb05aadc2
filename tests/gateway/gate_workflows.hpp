// The world of the policy gate's end-to-end tests (gate_test.cpp,
// gate_delivery_test.cpp): two tools (publish, gated past an audience of
// 100 for the editors ann and bob; search, not gated), the workflows that
// call them or ask a person, and what the tools record for the tests to
// check. The state is process-wide: reset() it at the start of a scenario.
#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/runtime_fixture.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/gateway/policy.hpp"

namespace endure::test::gate {

/// The journal whose commits publish counts when it starts (null: none).
extern std::atomic<const journal*> counted_store;
/// Its commit count when publish last started.
extern std::atomic<std::uint64_t> commits_at_publish;

/// Released by the test: the work asks_then_computes does on the run's own
/// thread after its answer, before its next await (bounded: 20 s).
extern std::promise<void> computation;
/// Set when asks_then_computes started that work.
extern std::atomic<bool> computing;
/// Arms computation for a test.
void new_computation();

/// The gate's policy (publish gated as above; hash journaled with requests).
std::shared_ptr<const gateway::policy> policy();

/// Registers the workflows: publishes (publish at audience X), publishes_twice
/// (a second publish with other arguments), asks (ask_human with choices),
/// asks_then_computes (an answer, then work held by `computation`) and
/// asks_computes_and_waits (that, then waiting for signal "finish").
void workflows(workflow_registry& r);

/// Runtime options with the tools and the policy (passivation after 10 ms).
void gated(runtime_options& o);

/// Forgets what the tools recorded; counted_store none, computing false.
void reset();
/// The arguments publish ran with so far, in order.
std::vector<nlohmann::json> published_now();

/// The run's pending request, once it is journaled.
std::string pending_request(runtime_fixture& f, const std::string& run);
/// Request `id`'s row (fails the test when missing or undecodable).
gateway::human_request request_row(runtime_fixture& f, const std::string& id);

} // namespace endure::test::gate
