// The actor behind runtime::handle() (protocol in service/protocol.hpp).
// It lives as long as the runtime: the runtime spawns it at open and stops
// it after the supervision tree, so a handle a service holds never goes
// stale while the tree restarts what crashed. It keeps no state a crash
// could corrupt: requests go to the tree's current children, subscriptions
// are feed subscriptions of the runtime's run_event_feed. Internal.
#pragma once

#include <atomic>

#include <caf/actor.hpp>

namespace endure {
class journal;
class run_event_feed;
class workflow_registry;
} // namespace endure
namespace endure::detail {
struct runtime_services;
}

namespace endure::service::detail {

/// What the handle reads; all of it owned by the runtime and outliving it.
struct handle_env {
  endure::detail::runtime_services* services = nullptr;
  const journal* store = nullptr;
  const workflow_registry* workflows = nullptr;
  run_event_feed* feed = nullptr;
  /// True once the runtime shuts down: a run supervisor that stops answering
  /// is then not asked again.
  const std::atomic<bool>* stopping = nullptr;
  /// The supervision tree's root: once it is down (it gave up), requests
  /// are refused at once.
  caf::actor root;
};

caf::actor spawn_runtime_handle(caf::actor_system& sys, handle_env env);

} // namespace endure::service::detail
