// A person's decision on a human-gateway request (`endure approve`,
// `reject`, `answer`, `edit`) the same way whether a `endure serve` holds
// the data directory or nothing does, like run_control.hpp for runs:
// decide_live runs in serve (runtime::decide, channel "cli"), decide_offline
// writes the journal itself (apply_decision, then the row and the decision
// signal to the run in one write batch, as the gateway would have). Both
// answer with a control_reply whose message says what happened, and
// report_decision prints it the same way. Internal to cli/.
#pragma once

#include "endure/cli/command.hpp"
#include "endure/cli/control_protocol.hpp"

namespace endure::cli {

/// serve's handler for control_op::decide: r.run_id is the request id,
/// r.name the decision, r.payload its JSON payload, r.principal who.
control_reply decide_live(runtime& rt, const control_request& r);

/// The same with no runtime: `store` open for writing. The row is stored
/// even when the decision is refused (the attempt is in its audit trail).
/// A decided outcome is journaled for its run as the signal
/// gateway::decision_signal(id) (request id "decision:ID"; a waiting run is
/// marked running so the next start resumes it and it consumes the signal
/// once) and the row marked delivered, in the same batch; a run that has
/// ended takes nothing, and the reply says so. `tools` checks edits; null
/// (or without the tool) refuses them, saying to decide next to serve.
control_reply decide_offline(journal& store, const control_request& r,
                             const agent::tool_registry* tools);

/// Prints "request ID: decided (approve by ann)" / "request ID: counted 1
/// of 2", or "endure: request ID: why" on stderr; returns the exit code.
int report_decision(const command_env& env, const control_request& r,
                    const control_reply& reply);

} // namespace endure::cli
