#include "endure/actors/agent/detail/schema_support.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace endure::agent::detail {

std::regex compile_pattern(const std::string& pattern) {
  return std::regex{pattern, std::regex::ECMAScript | std::regex_constants::__polynomial};
}

std::string_view type_name(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return "boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "integer";
    case nlohmann::json::value_t::number_float:
      return has_type(value, "integer") ? "integer" : "number";
    case nlohmann::json::value_t::string: return "string";
    case nlohmann::json::value_t::array: return "array";
    case nlohmann::json::value_t::object: return "object";
    default: return "binary";
  }
}

bool has_type(const nlohmann::json& value, std::string_view type) {
  if (type == "integer") {
    if (value.is_number_integer())
      return true;
    if (!value.is_number_float())
      return false;
    double d = value.get<double>();
    return std::isfinite(d) && std::trunc(d) == d;
  }
  if (type == "number") return value.is_number();
  if (type == "string") return value.is_string();
  if (type == "boolean") return value.is_boolean();
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "null") return value.is_null();
  return false;
}

bool is_type_name(std::string_view type) {
  for (std::string_view t : {"string", "number", "integer", "boolean", "object", "array", "null"})
    if (t == type)
      return true;
  return false;
}

std::string pointer_token(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80)  // not a continuation byte
      ++n;
  return n;
}

std::string excerpt(std::string_view s, std::size_t max) {
  // A round trip through nlohmann's replacing serialiser repairs the UTF-8;
  // only the head is repaired, so a huge string costs no huge copy.
  const bool long_input = s.size() > max;
  auto quoted = nlohmann::json(std::string{long_input ? s.substr(0, max) : s})
                  .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  auto text = nlohmann::json::parse(quoted).get<std::string>();
  if (!long_input && text.size() <= max)
    return text;
  std::size_t cut = std::min(max > 3 ? max - 3 : 0, text.size());
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;  // never split a code point
  return text.substr(0, cut) + "...";
}

int compare_numbers(const nlohmann::json& a, const nlohmann::json& b) {
  auto sign = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  if (a.is_number_integer() && b.is_number_integer()) {
    // is_number_integer() holds for signed and unsigned; mix them exactly.
    bool a_neg = !a.is_number_unsigned() && a.get<std::int64_t>() < 0;
    bool b_neg = !b.is_number_unsigned() && b.get<std::int64_t>() < 0;
    if (a_neg != b_neg)
      return a_neg ? -1 : 1;
    if (a_neg)
      return sign(a.get<std::int64_t>(), b.get<std::int64_t>());
    return sign(a.get<std::uint64_t>(), b.get<std::uint64_t>());
  }
  return sign(a.get<double>(), b.get<double>());
}

bool deeper_than(const nlohmann::json& value, std::size_t limit) {
  if (!value.is_structured())
    return false;
  if (limit == 0)
    return true;
  for (const auto& item : value)
    if (deeper_than(item, limit - 1))
      return true;
  return false;
}

} // namespace endure::agent::detail
