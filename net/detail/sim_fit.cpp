// See sim_fit.hpp. Every keyword of the schema is looked at; one the sim
// does not know, or a known one with a malformed value, is a "no": the
// sim then generates the value itself, which is always safe.
#include "endure/net/detail/sim_fit.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

namespace endure::net::detail {

namespace {

using json = nlohmann::json;

constexpr int max_depth = 16;
/// uniqueItems compares every pair: beyond this many items the sim passes.
constexpr std::size_t max_unique_items = 256;

bool fits(const json& schema, const json& value, int depth);

/// Keywords that describe and never constrain.
bool annotation(std::string_view key) {
  static const std::unordered_set<std::string_view> names = {
    "description", "title", "default", "examples", "$comment", "deprecated",
    "readOnly",    "writeOnly", "$schema", "$id"};
  return names.count(key) > 0;
}

// -- types and numbers -----------------------------------------------------------

bool has_type(const json& v, const json& name) {
  if (!name.is_string())
    return false;
  const auto& t = name.get_ref<const std::string&>();
  if (t == "string") return v.is_string();
  if (t == "integer") return v.is_number_integer();
  if (t == "number") return v.is_number();
  if (t == "boolean") return v.is_boolean();
  if (t == "array") return v.is_array();
  if (t == "object") return v.is_object();
  if (t == "null") return v.is_null();
  return false;  // not a type name: the schema is malformed
}

bool type_fits(const json& type, const json& v) {
  if (!type.is_array())
    return has_type(v, type);
  for (const auto& name : type)
    if (has_type(v, name))
      return true;
  return false;
}

/// -1, 0, 1 as a <, ==, > b: exact for two integers, as doubles otherwise.
int compare(const json& a, const json& b) {
  if (a.is_number_integer() && b.is_number_integer()) {
    bool a_neg = a.is_number_unsigned() ? false : a.get<std::int64_t>() < 0;
    bool b_neg = b.is_number_unsigned() ? false : b.get<std::int64_t>() < 0;
    if (a_neg != b_neg)
      return a_neg ? -1 : 1;
    if (a_neg) {
      auto x = a.get<std::int64_t>(), y = b.get<std::int64_t>();
      return x < y ? -1 : x > y;
    }
    auto x = a.get<std::uint64_t>(), y = b.get<std::uint64_t>();
    return x < y ? -1 : x > y;
  }
  double x = a.get<double>(), y = b.get<double>();
  return x < y ? -1 : x > y;
}

/// A bound keyword on a number; a bound that is not a number is a "no".
bool bound_fits(std::string_view key, const json& bound, const json& v) {
  if (!bound.is_number())
    return false;
  if (!v.is_number())
    return true;
  int c = compare(v, bound);
  if (key == "minimum") return c >= 0;
  if (key == "maximum") return c <= 0;
  if (key == "exclusiveMinimum") return c > 0;
  return c < 0;  // exclusiveMaximum
}

/// A count keyword (minLength, maxItems, ...) must be a non-negative
/// integer; it constrains only values of its type (`applies`).
bool count_fits(const json& limit, bool applies, std::size_t n, bool at_least) {
  if (!limit.is_number_unsigned() && !(limit.is_number_integer() && limit.get<std::int64_t>() >= 0))
    return false;
  auto l = limit.get<std::uint64_t>();
  return !applies || (at_least ? n >= l : n <= l);
}

// -- strings ---------------------------------------------------------------------

/// Code points of UTF-8 text (parsed JSON strings are valid UTF-8).
std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    n += (c & 0xC0) != 0x80;
  return n;
}

bool digits(std::string_view s, std::size_t at, std::size_t n) {
  if (s.size() < at + n)
    return false;
  for (std::size_t i = at; i < at + n; ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i])))
      return false;
  return true;
}

int number_at(std::string_view s, std::size_t at, std::size_t n) {
  return std::stoi(std::string(s.substr(at, n)));
}

bool is_date(std::string_view s) {
  if (s.size() != 10 || !digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' ||
      !digits(s, 8, 2))
    return false;
  int y = number_at(s, 0, 4), m = number_at(s, 5, 2), d = number_at(s, 8, 2);
  static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > days[m - 1])
    return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m != 2 || d <= 28 || leap;
}

/// RFC 3339: date "T" hh:mm:ss[.frac] ("Z" | +hh:mm | -hh:mm).
bool is_date_time(std::string_view s) {
  if (s.size() < 20 || !is_date(s.substr(0, 10)) || (s[10] != 'T' && s[10] != 't'))
    return false;
  if (!digits(s, 11, 2) || s[13] != ':' || !digits(s, 14, 2) || s[16] != ':' || !digits(s, 17, 2))
    return false;
  if (number_at(s, 11, 2) > 23 || number_at(s, 14, 2) > 59 || number_at(s, 17, 2) > 60)
    return false;
  std::size_t i = 19;
  if (s[i] == '.') {
    std::size_t start = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
      ++i;
    if (i == start)
      return false;
  }
  auto zone = s.substr(i);
  if (zone == "Z" || zone == "z")
    return true;
  return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && digits(zone, 1, 2) &&
         zone[3] == ':' && digits(zone, 4, 2) && number_at(zone, 1, 2) <= 23 &&
         number_at(zone, 4, 2) <= 59;
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36)
    return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i])))
      return false;
  }
  return true;
}

/// scheme ":" rest, with nothing a URI must escape; `iri` allows non-ASCII.
bool is_uri(std::string_view s, bool iri) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size() ||
      !std::isalpha(static_cast<unsigned char>(s[0])))
    return false;
  for (std::size_t i = 1; i < colon; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.')
      return false;
  }
  for (unsigned char c : s) {
    if (c >= 0x80 ? !iri : (c <= 0x20 || c == 0x7f))
      return false;
    if (std::string_view("<>\"{}|\\^`").find(static_cast<char>(c)) != std::string_view::npos)
      return false;
  }
  return true;
}

bool is_email(std::string_view s) {
  auto at = s.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == s.size() ||
      s.find('@', at + 1) != std::string_view::npos || s.find('.', at) == std::string_view::npos)
    return false;
  for (unsigned char c : s)
    if (c <= 0x20 || c == 0x7f || c >= 0x80)
      return false;
  return true;
}

bool format_fits(const json& format, const json& v) {
  if (!format.is_string())
    return false;
  if (!v.is_string())
    return true;
  const auto& f = format.get_ref<const std::string&>();
  const auto& s = v.get_ref<const std::string&>();
  if (f == "email") return is_email(s);
  if (f == "uri" || f == "url") return is_uri(s, false);
  if (f == "iri") return is_uri(s, true);
  if (f == "date") return is_date(s);
  if (f == "date-time") return is_date_time(s);
  if (f == "uuid") return is_uuid(s);
  return false;
}

// -- arrays and objects ----------------------------------------------------------

bool items_fit(const json& items, const json& v, int depth) {
  if (!items.is_object() && !items.is_boolean())
    return false;  // the tuple form: not known here
  if (!v.is_array())
    return true;
  for (const auto& item : v)
    if (!fits(items, item, depth + 1))
      return false;
  return true;
}

bool unique(const json& flag, const json& v) {
  if (!flag.is_boolean())
    return false;
  if (!flag.get<bool>() || !v.is_array())
    return true;
  if (v.size() > max_unique_items)
    return false;
  for (std::size_t i = 0; i < v.size(); ++i)
    for (std::size_t j = i + 1; j < v.size(); ++j)
      if (v[i] == v[j])
        return false;
  return true;
}

bool required_present(const json& required, const json& v) {
  if (!required.is_array())
    return false;
  for (const auto& name : required)
    if (!name.is_string() || (v.is_object() && !v.contains(name.get_ref<const std::string&>())))
      return false;
  return true;
}

/// properties and additionalProperties together: each member of the value
/// checked against the schema that covers it.
bool members_fit(const json& schema, const json& v, int depth) {
  const json* props = schema.contains("properties") ? &schema["properties"] : nullptr;
  const json* extra = schema.contains("additionalProperties") ? &schema["additionalProperties"]
                                                              : nullptr;
  if ((props && !props->is_object()) || (extra && !extra->is_object() && !extra->is_boolean()))
    return false;
  if (!v.is_object())
    return true;
  for (const auto& [key, member] : v.items()) {
    if (props && props->contains(key)) {
      if (!fits((*props)[key], member, depth + 1))
        return false;
    } else if (extra && !fits(*extra, member, depth + 1)) {
      return false;
    }
  }
  return true;
}

/// One keyword of `schema` (not properties / additionalProperties).
bool keyword_fits(std::string_view key, const json& k, const json& v, int depth) {
  if (key == "type") return type_fits(k, v);
  if (key == "enum") {
    if (!k.is_array())
      return false;
    for (const auto& option : k)
      if (option == v)
        return true;
    return false;
  }
  if (key == "const") return k == v;
  if (key == "minimum" || key == "maximum" || key == "exclusiveMinimum" ||
      key == "exclusiveMaximum")
    return bound_fits(key, k, v);
  if (key == "minLength" || key == "maxLength") {
    std::size_t n = v.is_string() ? code_points(v.get_ref<const std::string&>()) : 0;
    return count_fits(k, v.is_string(), n, key == "minLength");
  }
  if (key == "format") return format_fits(k, v);
  if (key == "items") return items_fit(k, v, depth);
  if (key == "minItems" || key == "maxItems")
    return count_fits(k, v.is_array(), v.size(), key == "minItems");
  if (key == "uniqueItems") return unique(k, v);
  if (key == "required") return required_present(k, v);
  if (key == "minProperties" || key == "maxProperties")
    return count_fits(k, v.is_object(), v.size(), key == "minProperties");
  return annotation(key);
}

bool fits(const json& schema, const json& v, int depth) {
  if (depth > max_depth)
    return false;
  if (schema.is_boolean())
    return schema.get<bool>();
  if (!schema.is_object())
    return false;
  for (const auto& [key, k] : schema.items()) {
    if (key == "properties" || key == "additionalProperties")
      continue;  // members_fit, once for both
    if (!keyword_fits(key, k, v, depth))
      return false;
  }
  return members_fit(schema, v, depth);
}

} // namespace

bool sim_fits(const json& schema, const json& value) noexcept {
  try {
    return fits(schema, value, 0);
  } catch (...) {  // a conversion the checks above missed: refuse, never throw
    return false;
  }
}

} // namespace endure::net::detail
