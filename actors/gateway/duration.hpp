// Durations as policy files write them: a positive whole number and one
// unit, "90s", "30m", "2h", "1d". Any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "endure/persistence/error.hpp"

namespace endure::gateway {

/// The longest duration a policy may give: one year. A wait longer than
/// that is a mistake; `outcome: keep_waiting` is how to wait without end.
inline constexpr std::chrono::seconds max_policy_duration{365LL * 24 * 3600};

/// Parses "<digits><s|m|h|d>", positive and at most max_policy_duration.
/// Errors (invalid_argument) say what is wrong and show the right form,
/// e.g. "30 has no unit: write 30s, 30m, 30h or 30d".
expected<std::chrono::seconds> parse_duration(std::string_view text);

/// The shortest exact text in the largest unit: 1800s -> "30m", 90s -> "90s".
std::string format_duration(std::chrono::seconds d);

} // namespace endure::gateway
