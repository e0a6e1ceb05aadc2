// How the human gateway gets a decided outcome to its run, and the row to
// say so: stored in the run's own commit of the signal that hands it the
// outcome (store_decided), else delivered as a journaled signal after the
// row is stored (deliver), with backoff while the runs cannot be reached;
// rows marked delivered in one commit a while after (a crash before means
// one more delivery, which the run takes no second time); a refusal by the
// run settled by the decision the run journaled (run_decision.hpp); a
// decision the journal refused kept and stored again (kept_decisions.hpp).
// Runs inside the (detached) gateway actor; its handlers are in
// human_gateway.cpp. Internal.
#pragma once

#include <chrono>
#include <string>

#include "endure/actors/gateway/detail/gateway_state.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/gateway/request_index.hpp"
#include "endure/persistence/journal.hpp"

namespace endure::detail {

/// Hands `r`'s outcome to its run as a journaled signal, then marks the row
/// delivered. A run that has ended takes nothing: the outcome stays on the
/// row, marked delivered, and the refusal is logged.
void deliver(gateway_actor* self, gateway::human_request r,
             std::chrono::milliseconds backoff = std::chrono::milliseconds{200});

/// Marks the requests delivered since the last time on their rows, in one
/// commit (the (delivered) message).
void mark_delivered(gateway_actor* self);

/// Stores decided `r` (its index entries were `before`, its record
/// `as_stored`) in the commit that journals its outcome for its run,
/// delivered the moment it is stored. Blocks until stored. Errors: the
/// journal's (nothing was decided); invalid_state (the run took another
/// decision); timeout (the decision stands, kept and stored again).
expected<void> store_decided(gateway_actor* self, const gateway::index_keys& before,
                             const record& as_stored, gateway::human_request& r);

/// Tells the subscribers and the metrics that `r` was decided (stored).
void announce_decided(gateway_actor* self, const gateway::human_request& r);

/// Stores the decision kept on request `id`, if any (kept_decisions::settle),
/// then announces and delivers it. False while the journal refuses it.
bool settle_kept(gateway_actor* self, const std::string& id);

/// settle_kept again after `backoff` (doubling, at most 30 s) until the
/// journal takes the decision.
void settle_later(gateway_actor* self, const std::string& id, std::chrono::milliseconds backoff);

} // namespace endure::detail
