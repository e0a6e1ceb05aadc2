// The decision a run journaled for one of its requests, read from the run's
// own log, and the request's row made to name it. The run is the arbiter:
// what it journaled is what it acted on. The gateway needs this when it
// stored one decision while the run had already taken another it was
// handed earlier (a gateway restarted by its supervisor forgets a decision
// it could not store; actors/gateway/README.md). Gateway thread only.
// Internal.
#pragma once

#include <cstdint>
#include <optional>

#include "endure/actors/gateway/human_request.hpp"
#include "endure/persistence/journal.hpp"

namespace endure::gateway::detail {

/// The outcome `r`'s run journaled for it (the signal under
/// delivery_id(r.id)); nullopt while its log holds none (a commit still in
/// flight). Errors: the journal's read errors, corrupt_record for a signal
/// that does not decode, each naming the run and the request.
expected<std::optional<request_outcome>> journaled_outcome(const journal& store,
                                                           const human_request& r);

/// For pending `r`, whose run has ended: names the decision the run
/// journaled on it, if any, where it would otherwise be
/// withdrawn (the run's own store of the row was skipped, the row having
/// changed after a gateway restart). False when the run took none, or its
/// log cannot be read (logged).
bool take_run_outcome(const journal& store, human_request& r, std::int64_t now_ms);

enum class correction {
  corrected,   ///< the row names the run's decision now (stored): `row`
  unchanged,   ///< the row named it already: to be marked delivered
  none_taken,  ///< the run ended having taken none, or which one it took
               ///< can never be read (logged): the row keeps its outcome
  later,       ///< not known yet (the run's commit is in flight) or the
               ///< journal failed: ask again later
};
struct corrected_row {
  correction what = correction::later;
  human_request row;
};

/// After request `id`'s run refused a delivery of the row's decision,
/// with already_exists (it took another) or, `run_ended`, invalid_state:
/// makes the row name the decision the run journaled, if that is another.
corrected_row correct_to_run(journal& store, const std::string& id, bool run_ended);

} // namespace endure::gateway::detail
