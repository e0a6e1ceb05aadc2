// What the children of a runtime's supervision tree share. The runtime owns
// it for its whole life; the tree's start functions read the fixed parts and
// publish the handles of what they (re)started, so a restarted child finds
// the current version of the ones it depends on. Internal.
#pragma once

#include <memory>
#include <mutex>

#include <caf/actor.hpp>
#include <caf/atom.hpp>

#include "endure/actors/detail/run_env.hpp"
#include "endure/actors/detail/run_manager.hpp"

namespace endure::agent {
class tool_registry;
}
namespace endure::escalation {
struct escalation_options;
}

namespace endure::detail {

struct runtime_services {
  // -- fixed at open -----------------------------------------------------------
  /// Run environment without pool and manager (the tree fills those in).
  run_env env;
  manager_options runs;
  std::size_t activity_threads = 8;
  bool resume_on_open = true;
  /// Checks edited arguments in the human gateway; may be null.
  const agent::tool_registry* tools = nullptr;
  /// The escalation actor's settings; null: the tree has no escalation actor.
  const escalation::escalation_options* escalation = nullptr;
  /// Where the gateway and the escalation actor are registered by name
  /// (service/protocol.hpp) as each incarnation starts; null: not at all.
  caf::actor_system* registry_of = nullptr;

  // -- published by the tree's children, any thread reads ----------------------
  void publish_pool(std::shared_ptr<activity_pool> pool) {
    std::lock_guard guard{mutex_};
    pool_ = std::move(pool);
  }
  std::shared_ptr<activity_pool> pool() const {
    std::lock_guard guard{mutex_};
    return pool_;
  }
  void publish_runs(caf::actor runs) {
    std::lock_guard guard{mutex_};
    runs_ = std::move(runs);
  }
  /// The current run supervisor (invalid before the tree started it).
  caf::actor runs_actor() const {
    std::lock_guard guard{mutex_};
    return runs_;
  }
  void publish_gateway(caf::actor gateway) {
    register_name(gateway_name(), gateway, gateway_actor());
    std::lock_guard guard{mutex_};
    gateway_ = std::move(gateway);
  }
  /// The current human gateway (invalid before the tree started it).
  caf::actor gateway_actor() const {
    std::lock_guard guard{mutex_};
    return gateway_;
  }

  void publish_escalation(caf::actor a) {
    register_name(escalation_name(), a, escalation_actor());
    std::lock_guard guard{mutex_};
    escalation_ = std::move(a);
  }
  /// The current escalation actor (invalid when none runs).
  caf::actor escalation_actor() const {
    std::lock_guard guard{mutex_};
    return escalation_;
  }

  /// Erases the names this runtime registered (at its close), unless
  /// another runtime in the same actor system took them over since.
  void unregister_names();

private:
  static caf::atom_value gateway_name();
  static caf::atom_value escalation_name();
  void register_name(caf::atom_value name, const caf::actor& a, const caf::actor& predecessor);

  mutable std::mutex mutex_;
  std::shared_ptr<activity_pool> pool_;
  caf::actor runs_;
  caf::actor gateway_;
  caf::actor escalation_;
};

} // namespace endure::detail
