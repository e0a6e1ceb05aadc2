// What every run actor shares, owned by the runtime: the journal, the
// activity pool, the workflow registry, the limits, the step services.
// Internal.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include <caf/actor.hpp>

#include "endure/actors/detail/runtime_instruments.hpp"

namespace endure {
class journal;
class activity_pool;
class workflow_registry;
class run_event_feed;
} // namespace endure

namespace endure::detail {

class step_services;

struct run_limits {
  /// A step whose attempts crashed the process this often quarantines its
  /// run instead of crash-looping.
  std::uint32_t max_step_crashes = 5;
  /// A run idle-waiting (timers, signals) this long is passivated.
  std::chrono::milliseconds passivate_after{60'000};
  /// At a shutdown, how long a run actor waits for its attempts in flight
  /// to finish (their results are journaled) before it abandons them.
  std::chrono::milliseconds shutdown_timeout{10'000};
};

/// Counters every run actor adds to (for `endure demo` and benchmarks).
struct run_counters {
  std::atomic<std::uint64_t> steps_executed{0};  ///< attempts that ran a body
  std::atomic<std::uint64_t> steps_replayed{0};  ///< outcomes read from the journal
  std::atomic<std::uint64_t> retries{0};
  std::atomic<std::uint64_t> live_actors{0};
  std::atomic<std::uint64_t> waits{0};  ///< runtime::wait calls the manager holds
  runtime_instruments instruments;  ///< for /metrics (runtime::metrics)
};

struct run_env {
  journal* store = nullptr;
  std::shared_ptr<activity_pool> pool;
  const workflow_registry* workflows = nullptr;
  caf::actor manager;
  run_limits limits;
  run_counters* counters = nullptr;
  /// The clients of ctx.llm and ctx.http (owned by the runtime).
  step_services* services = nullptr;
  /// Where status changes and step outcomes are published (owned by the
  /// runtime; null: nowhere).
  run_event_feed* events = nullptr;
};

} // namespace endure::detail
