// The workload of bench/gateway: one workflow that makes one gated tool call
// (`publish`, gated by a policy in the README's shape: a group of
// approvers, a deadline and a reminder), the tool itself (which tells the
// measuring thread the moment it starts: the run has resumed), and the
// runtime options every child opens with. Shared by the child scenarios;
// the tool runs on activity threads, everything else on the child's main
// thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "endure/actors/endure.hpp"

namespace endure::bench {

/// The workflow every scenario starts: ctx.tool("publish", {title, body}),
/// which the policy gates, so the run raises a request and waits.
inline constexpr const char* gated_workflow = "gated_publish";

/// The request a gated_publish run raises: its gate is the run's step 0,
/// and a request's id is the raising step's idempotency key (RUN/STEP).
std::string request_of(const std::string& run_id);

/// A principal the policy lets decide (group editors).
inline constexpr const char* approver = "ann";

void register_gated_workflow(workflow_registry& registry);

/// "sync", "nometasync" or "nosync" (anything else: sync).
durability durability_of(const std::string& mode);

/// Runtime options for a child on `data_dir`: the policy and tool above,
/// durability `mode` ("sync", "nometasync", "nosync"), the given passivation
/// delay and activity threads, the CLI's recommended CAF settings applied
/// by the caller.
runtime_options gated_options(const std::string& data_dir, const std::string& mode,
                              std::chrono::milliseconds passivate_after,
                              std::size_t activity_threads);

/// How many times `publish` has started, and when it last did. The tool
/// bumps the count (and notifies waiters on it) as its first act.
struct tool_starts {
  std::uint64_t count = 0;
  std::chrono::steady_clock::time_point last;
  std::uint64_t commits_at_last = 0;  ///< journal commits when it last started
};
tool_starts publish_starts();

/// Blocks until `publish` has started more than `seen` times, at most
/// `limit`; false on timeout. Woken by the tool (futex), not by polling.
bool await_publish(std::uint64_t seen, std::chrono::milliseconds limit);

/// The journal whose commit count the tool reads when it starts (set by the
/// child once its runtime is open; null: none).
void watch_commits(const journal* store);

} // namespace endure::bench
