// parse_duration and format_duration.
#include "endure/actors/gateway/duration.hpp"

#include <cctype>

namespace endure::gateway {

namespace {

constexpr long long unit_seconds(char unit) {
  switch (unit) {
    case 's':
      return 1;
    case 'm':
      return 60;
    case 'h':
      return 3600;
    case 'd':
      return 86400;
    default:
      return 0;
  }
}

error bad(std::string_view text, const std::string& why) {
  return make_error(errc::invalid_argument,
                    "'" + std::string{text} + "' " + why);
}

} // namespace

expected<std::chrono::seconds> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
    ++digits;
  if (digits == 0)
    return bad(text, "is not a duration: write a whole number and a unit, e.g. 90s, 30m, 2h, 1d");
  if (digits == text.size())
    return bad(text, "has no unit: write " + std::string{text} + "s, " + std::string{text}
                       + "m, " + std::string{text} + "h or " + std::string{text} + "d");
  if (digits + 1 != text.size() || unit_seconds(text[digits]) == 0)
    return bad(text, "has an unknown unit: use one of s, m, h, d after a whole number, e.g. 30m");
  // More than 8 digits exceeds a year in any unit: refuse before multiplying.
  long long count = 0;
  for (std::size_t i = 0; i < digits && count <= 99'999'999; ++i)
    count = count * 10 + (text[i] - '0');
  if (count == 0)
    return bad(text, "is zero: a duration must be positive");
  if (count > 99'999'999 || count * unit_seconds(text[digits]) > max_policy_duration.count())
    return bad(text, "is longer than a year (365d); use outcome: keep_waiting to wait without end");
  return std::chrono::seconds{count * unit_seconds(text[digits])};
}

std::string format_duration(std::chrono::seconds d) {
  auto s = d.count();
  for (char unit : {'d', 'h', 'm'})
    if (s != 0 && s % unit_seconds(unit) == 0)
      return std::to_string(s / unit_seconds(unit)) + unit;
  return std::to_string(s) + "s";
}

} // namespace endure::gateway
