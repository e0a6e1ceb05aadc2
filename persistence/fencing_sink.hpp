// A commit sink whose acknowledgement is the license to act (replication
// in mode takeover, net/cluster/replication/). With one in
// journal_options::sink, a run starts a step's body only once the step's
// start was acknowledged by the sink, not as soon as it is queued: an owner
// fenced by a takeover never gets that acknowledgement, so it runs no side
// effect of a run its standby now runs.
#pragma once

#include "endure/persistence/commit_sink.hpp"

namespace endure {

class fencing_sink : public commit_sink {};

/// Whether `sink` (journal_options::sink) is a fencing_sink.
inline bool fences_side_effects(const commit_sink* sink) {
  return dynamic_cast<const fencing_sink*>(sink) != nullptr;
}

} // namespace endure
