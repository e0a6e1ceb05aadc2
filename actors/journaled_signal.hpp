// The signal a run's journal holds under one request id: how the runs
// manager tells whether a quarantined run took a delivery already, and how
// the human gateway learns which decision a run took (the run's log is the
// arbiter of what it acted on).
#pragma once

#include <optional>
#include <string_view>

#include "endure/actors/events.hpp"
#include "endure/persistence/journal.hpp"

namespace endure {

/// The first signal journaled in run `run_id`'s log under `request_id`;
/// nullopt when there is none (or no such run). Reads the whole log: for
/// rare paths (a delivery to a quarantined run, a decision in question).
/// Errors: the journal's read errors, and a record that does not decode
/// (naming run and seq).
expected<std::optional<signal_received_event>> journaled_signal(const journal& store,
                                                               std::string_view run_id,
                                                               std::string_view request_id);

/// The refusal (already_exists) of signal `name` under `request_id` by run
/// `run_id`, which has journaled another signal under that id: a run takes
/// one signal per request id (the human gateway's decision on a request,
/// once), and the same one again only as a delivery repeated.
error signal_taken(std::string_view run_id, std::string_view name, std::string_view request_id);

} // namespace endure
