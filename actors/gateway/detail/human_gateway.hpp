// The human-gateway actor: a child of the runtime's tree that owns the
// requests people decide (see actors/atoms.hpp for its messages). It is the
// one writer of their rows while the runtime runs (a gated step writes a
// new row itself, before anyone knows its id), so decisions on one request
// are applied in order, each exactly once. A decided outcome reaches its run
// as a journaled signal (decision_signal(id)); one not yet delivered when
// the process died is delivered when the gateway starts again. Detached: it
// commits with the blocking journal API and waits for the run's commit of a
// decision (decisions arrive at human pace, one at a time).
// Internal.
#pragma once

#include <memory>

#include <caf/fwd.hpp>

namespace endure {
class journal;
}
namespace endure::agent {
class tool_registry;
}
namespace endure::gateway {
class policy;
}

namespace endure::detail {

struct runtime_services;

struct gateway_env {
  journal* store = nullptr;
  /// Checks edits against the tool's schema; may be null (edits refused).
  const agent::tool_registry* tools = nullptr;
  /// For the current run supervisor (decisions are signals to runs).
  runtime_services* services = nullptr;
};

caf::actor spawn_human_gateway(caf::local_actor& parent, gateway_env env);

} // namespace endure::detail
