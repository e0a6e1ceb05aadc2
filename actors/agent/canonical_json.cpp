#include "endure/actors/agent/canonical_json.hpp"

#include <cmath>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "endure/net/sha256.hpp"

namespace endure::agent {

namespace {

using json = nlohmann::json;

/// The integer an integral float stands for, when an integer type holds it.
json integral_float(double d) {
  constexpr double two63 = 9223372036854775808.0;
  constexpr double two64 = 18446744073709551616.0;
  if (d >= -two63 && d < two63)
    return static_cast<std::int64_t>(d);
  if (d >= two63 && d < two64)
    return static_cast<std::uint64_t>(d);
  return d;
}

/// A copy with every number in one canonical form; throws for values that
/// have no JSON text of their own.
json normalised(const json& v) {
  switch (v.type()) {
    case json::value_t::object: {
      auto out = json::object();
      for (auto& [key, item] : v.items())
        out[key] = normalised(item);
      return out;
    }
    case json::value_t::array: {
      auto out = json::array();
      for (auto& item : v)
        out.push_back(normalised(item));
      return out;
    }
    case json::value_t::number_float: {
      double d = v.get<double>();
      if (!std::isfinite(d))
        throw std::invalid_argument("a number that is NaN or infinite has no JSON text");
      return std::trunc(d) == d ? integral_float(d) : v;
    }
    case json::value_t::number_unsigned:
      if (v.get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v.get<std::uint64_t>());
      return v;
    case json::value_t::binary:
      throw std::invalid_argument("a binary value has no JSON text");
    case json::value_t::discarded:
      throw std::invalid_argument("a discarded value has no JSON text");
    default:
      return v;
  }
}

} // namespace

std::string canonical_json(const json& value) {
  try {
    // nlohmann's object is a std::map: dump() sorts keys bytewise.
    return normalised(value).dump(-1, ' ', false, json::error_handler_t::strict);
  } catch (const json::type_error& e) {  // invalid UTF-8
    throw std::invalid_argument(std::string{"no canonical JSON text: "} + e.what());
  }
}

std::string json_hash(const json& value) { return net::sha256_hex(canonical_json(value)); }

expected<json> parse_json_strict(std::string_view text, std::size_t max_depth) {
  // One entry per open object or array: the keys an object has had so far
  // (arrays have none).
  std::vector<std::set<std::string>> open;
  std::string refusal;
  auto refuse = [&](std::string why) {
    refusal = std::move(why);
    throw std::invalid_argument(refusal);
  };
  auto check = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (open.size() >= max_depth)
          refuse("nested deeper than " + std::to_string(max_depth) + " levels");
        open.emplace_back();
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        open.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open.empty() && !open.back().insert(parsed.get<std::string>()).second)
          refuse("duplicate key \"" + parsed.get<std::string>() + "\"");
        break;
      case json::parse_event_t::value:
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), check);
  } catch (const std::invalid_argument&) {
    return make_error(errc::invalid_argument, refusal);
  } catch (const json::exception& e) {  // parse_error; out_of_range for 1e400
    // nlohmann's message without its "[json.exception.parse_error.101] " tag.
    std::string_view what = e.what();
    if (auto end = what.find("] "); what.starts_with("[json.exception.") && end != what.npos)
      what.remove_prefix(end + 2);
    return make_error(errc::invalid_argument, std::string{what});
  }
}

} // namespace endure::agent
