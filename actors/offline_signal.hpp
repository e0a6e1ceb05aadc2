// Delivering a signal while no runtime has the data directory open (the
// process is down): the signal is journaled on arrival, like any other, and
// the run is marked running so the next runtime resumes it and its
// wait_signal consumes it exactly once. Used by `endure signal`.
#pragma once

#include <string>

#include "persistence/journal.hpp"

namespace endure {

/// Appends a signal_received event to the run's journal. Errors: not_found
/// (no such run), invalid_argument (the run has already ended), and the
/// journal's write errors. `store` must be open for writing, which means no
/// runtime holds the directory.
expected<void> deliver_signal_offline(journal& store, const std::string& run_id,
                                      const std::string& name, std::string payload);

} // namespace endure
