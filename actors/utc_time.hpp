// Times as people read them in messages and listings: UTC, ISO 8601, to the
// millisecond ("2026-12-01T12:03:04.250Z"), from the milliseconds since the
// Unix epoch that the journal stores. Pure; any thread.
#pragma once

#include <cstdint>
#include <string>

namespace endure {

/// `ms_since_epoch` as "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC). Times before the
/// epoch count back from it ("1969-12-31T23:59:59.999Z" for -1).
std::string utc_time_text(std::int64_t ms_since_epoch);

} // namespace endure
