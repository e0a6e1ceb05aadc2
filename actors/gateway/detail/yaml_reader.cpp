// yaml_field: strict, located reads of a yaml-cpp node tree.
#include "endure/actors/gateway/detail/yaml_reader.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include <nlohmann/json.hpp>

namespace endure::gateway::detail {

namespace {

using nlohmann::json;

[[noreturn]] void throw_at(const YAML::Mark& mark, std::string field, std::string message) {
  bool located = mark.line >= 0 && mark.column >= 0;
  throw policy_error{located ? mark.line + 1 : 0, located ? mark.column + 1 : 0,
                     std::move(field), std::move(message)};
}

bool valid_utf8(const std::string& s) {
  try {  // the same test canonical_json applies: what passes has a hash
    (void)json(s).dump(-1, ' ', false, json::error_handler_t::strict);
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

/// Plain (unquoted, untagged) scalars are resolved; anything quoted, a
/// block scalar or tagged !!str is text.
bool is_plain(const YAML::Node& n) {
  return n.Tag() == "?";
}

bool is_text_tag(const std::string& tag) {
  return tag == "!" || tag == "tag:yaml.org,2002:str";
}

bool digits(std::string_view s, int base) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [base](char c) {
    return base == 16 ? std::isxdigit(static_cast<unsigned char>(c)) != 0
                      : c >= '0' && c < static_cast<char>('0' + base);
  });
}

/// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?, the core schema's float.
bool is_float_text(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+'))
    s.remove_prefix(1);
  auto e = s.find_first_of("eE");
  auto mantissa = s.substr(0, e);
  auto dot = mantissa.find('.');
  auto whole = mantissa.substr(0, dot);
  auto frac = dot == std::string_view::npos ? std::string_view{} : mantissa.substr(dot + 1);
  bool mantissa_ok = false;
  if (dot == std::string_view::npos)
    mantissa_ok = digits(whole, 10);
  else if (whole.empty())
    mantissa_ok = digits(frac, 10);  // .5
  else
    mantissa_ok = digits(whole, 10) && (frac.empty() || digits(frac, 10));  // 5. 5.25
  if (!mantissa_ok || e == std::string_view::npos)
    return mantissa_ok;
  auto exponent = s.substr(e + 1);
  if (!exponent.empty() && (exponent[0] == '-' || exponent[0] == '+'))
    exponent.remove_prefix(1);
  return digits(exponent, 10);
}

enum class plain_kind { null, boolean, integer, floating, special_float, text };

plain_kind classify(std::string_view s) {
  if (s == "~" || s == "null" || s == "Null" || s == "NULL")
    return plain_kind::null;
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE")
    return plain_kind::boolean;
  auto unsigned_part = s.substr(!s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0);
  if (digits(unsigned_part, 10))
    return plain_kind::integer;
  if (s.size() > 2 && s[0] == '0' && ((s[1] == 'x' && digits(s.substr(2), 16))
                                      || (s[1] == 'o' && digits(s.substr(2), 8))))
    return plain_kind::integer;
  if (is_float_text(s))
    return plain_kind::floating;
  for (std::string_view special : {".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"})
    if (unsigned_part == special)
      return plain_kind::special_float;
  return plain_kind::text;
}

plain_kind kind_of(const YAML::Node& n) {
  if (n.IsNull())
    return plain_kind::null;
  return is_plain(n) ? classify(n.Scalar()) : plain_kind::text;
}

json integer_value(const yaml_field& f, std::string_view s) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
    base = s[1] == 'x' ? 16 : 8;
    s.remove_prefix(2);
  } else if (s[0] == '+') {
    s.remove_prefix(1);
  }
  std::int64_t signed_value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), signed_value, base);
  if (ec == std::errc{} && end == s.data() + s.size())
    return signed_value;
  std::uint64_t unsigned_value = 0;
  auto [uend, uec] = std::from_chars(s.data(), s.data() + s.size(), unsigned_value, base);
  if (uec == std::errc{} && uend == s.data() + s.size())
    return unsigned_value;
  f.fail(std::string{s} + " is out of range for a 64-bit integer");
}

json float_value(const yaml_field& f, std::string_view s) {
  if (s[0] == '+')
    s.remove_prefix(1);
  double d = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc{} || end != s.data() + s.size())
    f.fail(std::string{s} + " is out of range for a number");
  return d;
}

json scalar_value(const yaml_field& f) {
  auto& n = f.node();
  if (!is_plain(n) && !is_text_tag(n.Tag()))
    f.fail("the YAML tag " + n.Tag() + " is not supported: write the value without a tag");
  const auto& s = n.Scalar();
  switch (kind_of(n)) {
    case plain_kind::null:
      return nullptr;
    case plain_kind::boolean:
      return s[0] == 't' || s[0] == 'T';
    case plain_kind::integer:
      return integer_value(f, s);
    case plain_kind::floating:
      return float_value(f, s);
    case plain_kind::special_float:
      f.fail(s + ": JSON has no infinity or NaN, so arguments never hold one");
    case plain_kind::text:
      break;
  }
  if (!valid_utf8(s))
    f.fail("text that is not valid UTF-8");
  return s;
}

json to_json(const yaml_field& f, int depth, std::size_t& nodes) {
  if (++nodes > max_value_nodes)
    f.fail("the value has more than " + std::to_string(max_value_nodes) + " parts");
  if (depth > max_value_depth)
    f.fail("the value nests more than " + std::to_string(max_value_depth) + " levels deep");
  auto& n = f.node();
  if (n.IsMap()) {
    auto out = json::object();
    for (auto& e : f.entries({}, "a map"))
      out[e.name] = to_json(e.value, depth + 1, nodes);
    return out;
  }
  if (n.IsSequence()) {
    auto out = json::array();
    for (auto& item : f.items("a list"))
      out.push_back(to_json(item, depth + 1, nodes));
    return out;
  }
  if (n.IsNull())
    return nullptr;
  return scalar_value(f);
}

std::string join(std::initializer_list<std::string_view> names) {
  std::string out;
  for (auto name : names)
    out += (out.empty() ? "" : ", ") + std::string{name};
  return out;
}

} // namespace

std::string located(std::string_view source, const policy_error& e) {
  std::string out{source};
  if (e.line > 0)
    out += ":" + std::to_string(e.line) + ":" + std::to_string(e.column);
  out += ": ";
  if (!e.field.empty())
    out += e.field + ": ";
  return out + e.message;
}

std::string describe_node(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull())
    return "nothing";
  if (node.IsMap())
    return "a map";
  if (node.IsSequence())
    return "a list";
  const auto& s = node.Scalar();
  auto shown = s.size() > 40 ? s.substr(0, 40) + "..." : s;
  switch (kind_of(node)) {
    case plain_kind::boolean:
      return shown;
    case plain_kind::integer:
    case plain_kind::floating:
    case plain_kind::special_float:
      return "the number " + shown;
    default:
      return "the text '" + shown + "'";
  }
}

void yaml_field::fail(std::string message) const {
  throw_at(mark_, path_, std::move(message));
}

void yaml_field::fail_at(std::string_view sub, std::string message) const {
  throw_at(mark_, child_path(sub), std::move(message));
}

std::string yaml_field::child_path(std::string_view key) const {
  if (!key.empty() && key[0] == '[')
    return path_ + std::string{key};
  return path_.empty() ? std::string{key} : path_ + "." + std::string{key};
}

const map_entry* find_entry(const std::vector<map_entry>& entries, std::string_view name) {
  for (auto& e : entries)
    if (e.name == name)
      return &e;
  return nullptr;
}

std::vector<map_entry> yaml_field::entries(std::initializer_list<std::string_view> allowed,
                                           std::string_view what) const {
  if (!node_.IsMap())
    fail("expected " + std::string{what} + ", got " + describe_node(node_));
  std::vector<map_entry> out;
  std::map<std::string, int> seen_on_line;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    // Copies: `it->` is a proxy object, a reference into it would dangle.
    YAML::Node key_node = it->first;
    YAML::Node value_node = it->second;
    if (!key_node.IsScalar())
      throw_at(key_node.Mark(), path_, "a key must be text, got " + describe_node(key_node));
    std::string key = key_node.Scalar();
    if (!valid_utf8(key))
      throw_at(key_node.Mark(), path_, "a key that is not valid UTF-8");
    if (key == "<<")
      throw_at(key_node.Mark(), child_path(key), "YAML merge keys are not supported: give shared "
                                          "settings in the top-level `default` block");
    if (auto first = seen_on_line.find(key); first != seen_on_line.end())
      throw_at(key_node.Mark(), child_path(key),
               "is given twice (first on line " + std::to_string(first->second) + ")");
    seen_on_line[key] = key_node.Mark().line + 1;
    if (allowed.size() != 0 && std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      throw_at(key_node.Mark(), child_path(key),
               "unknown field; expected one of: " + join(allowed));
    out.push_back({key, yaml_field{key_node, child_path(key)},
                   yaml_field{value_node, child_path(key), key_node.Mark()}});
  }
  return out;
}

std::vector<yaml_field> yaml_field::items(std::string_view what) const {
  if (!node_.IsSequence())
    fail("expected " + std::string{what} + ", got " + describe_node(node_));
  std::vector<yaml_field> out;
  std::size_t i = 0;
  for (auto it = node_.begin(); it != node_.end(); ++it, ++i)
    out.emplace_back(*it, child_path("[" + std::to_string(i) + "]"));
  return out;
}

std::string yaml_field::text(std::string_view what) const {
  if (!node_.IsScalar())
    fail("expected " + std::string{what} + ", got " + describe_node(node_));
  auto kind = kind_of(node_);
  if (kind != plain_kind::text)
    fail("expected " + std::string{what} + ", got " + describe_node(node_)
         + " (quote it, '" + node_.Scalar() + "', if you mean that text)");
  if (!is_plain(node_) && !is_text_tag(node_.Tag()))
    fail("the YAML tag " + node_.Tag() + " is not supported: write the value without a tag");
  if (!valid_utf8(node_.Scalar()))
    fail("text that is not valid UTF-8");
  return node_.Scalar();
}

bool yaml_field::is_bool() const {
  return node_.IsScalar() && is_plain(node_) && kind_of(node_) == plain_kind::boolean;
}

bool yaml_field::boolean() const {
  if (!is_bool())
    fail("expected true or false, got " + describe_node(node_));
  auto& s = node_.Scalar();
  return s[0] == 't' || s[0] == 'T';
}

long long yaml_field::integer(std::string_view what) const {
  if (!node_.IsScalar() || !is_plain(node_) || kind_of(node_) != plain_kind::integer)
    fail("expected " + std::string{what} + ", got " + describe_node(node_));
  auto v = integer_value(*this, node_.Scalar());
  if (!v.is_number_integer() || v.is_number_unsigned())
    fail("expected " + std::string{what} + ", got " + describe_node(node_));
  return v.get<long long>();
}

nlohmann::json yaml_field::json_value() const {
  std::size_t nodes = 0;
  return to_json(*this, 0, nodes);
}

} // namespace endure::gateway::detail
