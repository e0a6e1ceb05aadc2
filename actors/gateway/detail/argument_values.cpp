// pointer_tokens, resolve, same_value, order: the argument side of conditions.
#include "endure/actors/gateway/detail/argument_values.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace endure::gateway::detail {

using nlohmann::json;

namespace {

error invalid(std::string message) {
  return make_error(errc::invalid_argument, std::move(message));
}

/// -1, 0, 1 for two numbers; nullopt if unordered (NaN). Integers compare
/// exactly; with a float, both become long double, which holds every 64-bit
/// integer exactly on x86-64.
std::optional<int> compare_numbers(const json& a, const json& b) {
  auto three_way = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  if (a.is_number_float() || b.is_number_float()) {
    auto x = a.get<long double>(), y = b.get<long double>();
    if (x != x || y != y)
      return std::nullopt;
    return three_way(x, y);
  }
  bool a_neg = a.is_number_integer() && !a.is_number_unsigned() && a.get<std::int64_t>() < 0;
  bool b_neg = b.is_number_integer() && !b.is_number_unsigned() && b.get<std::int64_t>() < 0;
  if (a_neg != b_neg)
    return a_neg ? -1 : 1;
  if (a_neg)
    return three_way(a.get<std::int64_t>(), b.get<std::int64_t>());
  return three_way(a.get<std::uint64_t>(), b.get<std::uint64_t>());
}

} // namespace

expected<std::vector<std::string>> pointer_tokens(const std::string& pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty())
    return tokens;
  if (pointer[0] != '/')
    return invalid("'" + pointer + "' is not a JSON pointer: it must be empty (the whole "
                   "arguments) or start with '/', e.g. /amount");
  for (std::size_t i = 1;; ++i) {
    std::string token;
    for (; i < pointer.size() && pointer[i] != '/'; ++i) {
      if (pointer[i] != '~') {
        token += pointer[i];
      } else if (i + 1 < pointer.size() && (pointer[i + 1] == '0' || pointer[i + 1] == '1')) {
        token += pointer[++i] == '0' ? '~' : '/';
      } else {
        return invalid("'" + pointer + "' is not a JSON pointer: '~' must be followed by 0 "
                       "(for ~) or 1 (for /)");
      }
    }
    tokens.push_back(std::move(token));
    if (i >= pointer.size())
      return tokens;
  }
}

const json* resolve(const json& args, const std::vector<std::string>& tokens) {
  const json* at = &args;
  for (auto& t : tokens) {
    if (at->is_object()) {
      auto it = at->find(t);
      if (it == at->end())
        return nullptr;
      at = &*it;
    } else if (at->is_array()) {
      if (t.empty() || t.size() > 18 || (t.size() > 1 && t[0] == '0')
          || !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return nullptr;
      auto index = std::stoull(t);
      if (index >= at->size())
        return nullptr;
      at = &(*at)[index];
    } else {
      return nullptr;
    }
  }
  return at;
}

bool same_value(const json& a, const json& b) {
  if (a.is_number() && b.is_number())
    return compare_numbers(a, b) == 0;
  if (a.type() != b.type())
    return false;
  if (a.is_array()) {
    if (a.size() != b.size())
      return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!same_value(a[i], b[i]))
        return false;
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size())
      return false;
    for (auto& [key, item] : a.items()) {
      auto other = b.find(key);
      if (other == b.end() || !same_value(item, *other))
        return false;
    }
    return true;
  }
  return a == b;
}

std::optional<int> order(const json& a, const json& b) {
  if (a.is_number() && b.is_number())
    return compare_numbers(a, b);
  if (a.is_string() && b.is_string()) {
    auto c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return std::nullopt;
}

} // namespace endure::gateway::detail
