// The human-gateway actor's state (human_gateway.hpp says what the actor
// is), shared by the files that make up the actor: its handlers
// (human_gateway.cpp) and the delivery of decided outcomes to their runs
// (decision_delivery.cpp). Gateway thread only. Internal: included by the
// gateway's own .cpp files only.
#pragma once

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "endure/actors/gateway/detail/human_gateway.hpp"
#include "endure/actors/gateway/detail/kept_decisions.hpp"
#include "endure/actors/gateway/human_request.hpp"

namespace endure::detail {

struct gateway_state {
  gateway_env env;
  /// Decisions the journal refused (store_decided), settled (settle_kept)
  /// before a decision or deadline acts on their request.
  gateway::detail::kept_decisions kept;
  std::set<caf::actor> subscribers;
  /// Decided outcomes on their way to runs, or delivered and not marked so
  /// yet (not delivered twice at once).
  std::set<std::string> delivering;
  /// Delivered (or refused by an ended run), to be marked on their rows.
  std::set<std::string> to_mark;
  /// When the armed (remind) message fires; nullopt: none armed.
  std::optional<std::int64_t> due_armed;
  /// The start's pass over pending requests of ended runs has begun (once
  /// per start, however often the start's delivery is retried).
  bool swept = false;
};

using gateway_actor = caf::stateful_actor<gateway_state, caf::event_based_actor>;

/// Tells the subscribers and the runtime's event feed that `r` changed:
/// event `kind` (one of those actors/atoms.hpp lists under gw_event).
void publish(gateway_actor* self, const std::string& kind, const gateway::human_request& r);

} // namespace endure::detail
