// The escalation actor: a child of the runtime's tree that owns the
// escalation matrix and its store (actors/atoms.hpp lists its messages).
// Runs ask it, through a journaled step (escalate.hpp), whether to proceed
// or ask a person, and tell it what the person did. At start it restores
// the matrix from the journal (graph checkpoint, inputs since, outcomes,
// last refit); while it restores, messages wait in its mailbox.
//
// What it promises: an assessment's input row is committed in the same
// batch as its decision row, queued before the reply, so the run's own
// commit of the decision (later in the journal's FIFO) is never durable
// without it; an outcome (and the refit it caused) is durable before the
// reply; an outcome under a key already recorded is not learned twice. A
// commit of an outcome that fails leaves memory ahead of disk: the actor
// answers the error and stops, and its supervisor restarts it from the
// journal. Detached (blocking journal calls, checkpoint saves). Internal.
#pragma once

#include <caf/fwd.hpp>

namespace endure {
class journal;
}
namespace endure::escalation {
struct escalation_options;
}

namespace endure::detail {

caf::actor spawn_escalation_actor(caf::local_actor& parent, journal& store,
                                  const escalation::escalation_options& options);

} // namespace endure::detail
