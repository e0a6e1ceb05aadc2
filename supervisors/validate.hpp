// Validation of supervisor specs, run once before any child starts.
//
// Pure functions, no actor system. Every error has code
// errc::invalid_argument and a message that starts with the bad field's
// path, e.g. "children[2].id: duplicate id \"db\" (also children[0])", so
// a typo in a spec is found at start-up, not at the first crash.
#pragma once

#include "endure/persistence/error.hpp"
#include "endure/supervisors/child_spec.hpp"
#include "endure/supervisors/supervisor_flags.hpp"

#include <vector>

namespace endure {

/// Checks intensity >= 0, period > 0 and the backoff fields.
expected<void> validate(const supervisor_flags& flags);

/// Checks one spec; `path` prefixes the field names in the message.
expected<void> validate(const child_spec& spec, const std::string& path);

/// Checks the flags, every spec, and that ids are unique.
expected<void> validate(const supervisor_flags& flags,
                        const std::vector<child_spec>& children);

/// Checks a shutdown policy (a timeout must be positive).
expected<void> validate(const shutdown_policy& policy, const std::string& path);

/// Checks a backoff policy.
expected<void> validate(const backoff_policy& policy, const std::string& path);

} // namespace endure
