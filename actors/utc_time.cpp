// utc_time_text: gmtime_r (thread-safe, no locale) plus the milliseconds.
#include "endure/actors/utc_time.hpp"

#include <cstdio>
#include <ctime>

namespace endure {

std::string utc_time_text(std::int64_t ms_since_epoch) {
  // Floor division: -1 ms is 23:59:59.999 of the day before, not .-001.
  std::int64_t secs = ms_since_epoch / 1000;
  std::int64_t ms = ms_since_epoch % 1000;
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (!::gmtime_r(&t, &tm))  // a year past what struct tm holds
    return std::to_string(ms_since_epoch) + " ms since the epoch";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
                static_cast<long long>(tm.tm_year) + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

} // namespace endure
