// A request whose run has ended: nobody waits for its decision any more,
// so it leaves the inboxes instead of waiting there for a person to decide
// something that would be delivered to nobody. The human gateway withdraws
// a run's pending requests when the run ends (completed, failed,
// cancelled; not quarantined: a release resumes the run and its wait), and
// at its start those of runs that ended while it could not hear of it (a
// crash in between). Functions over the row; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "endure/actors/gateway/human_request.hpp"
#include "endure/persistence/journal.hpp"
#include "endure/persistence/run_meta.hpp"

namespace endure::gateway {

/// Withdraws pending `r` at `now_ms`: status expired, outcome reject by
/// nobody (channel "system") with text `reason`, delivered (nobody takes
/// it), audit entry "withdrawn". A request no longer pending is left as it
/// is (a person decided first); returns whether it changed.
bool withdraw(human_request& r, std::int64_t now_ms, const std::string& reason);

/// Why a request of run `run_id` that ended with `status` is withdrawn
/// (nullopt: there is no such run).
std::string withdrawn_reason(const std::string& run_id, std::optional<run_status> status);

/// Withdraws pending `r` if its run has ended or does not exist (reads the
/// run's meta from `store`), unless the run journaled a decision on it:
/// then `r` names that one, decided (detail/run_decision.hpp,
/// take_run_outcome). Returns whether `r` changed. A run whose meta cannot
/// be read now is taken as not ended.
bool withdraw_if_run_ended(const journal& store, human_request& r);

/// The run a request id ("RUN/STEP", the raising step's idempotency key)
/// belongs to; nullopt for an id of another shape.
std::optional<std::string> run_of_request(std::string_view id);

} // namespace endure::gateway
