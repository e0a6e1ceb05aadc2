#include "endure/actors/agent/canonical_json.hpp"

#include <cmath>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "endure/net/sha256.hpp"

namespace endure::agent {

namespace {

/// A copy where every integral float that a double holds exactly becomes
/// an integer, so 1.0 and 1 (which a model may write either way) agree.
nlohmann::json normalised(const nlohmann::json& v) {
  constexpr double exact_limit = 9007199254740992.0;  // 2^53
  switch (v.type()) {
    case nlohmann::json::value_t::object: {
      auto out = nlohmann::json::object();
      for (auto& [key, item] : v.items())
        out[key] = normalised(item);
      return out;
    }
    case nlohmann::json::value_t::array: {
      auto out = nlohmann::json::array();
      for (auto& item : v)
        out.push_back(normalised(item));
      return out;
    }
    case nlohmann::json::value_t::number_float: {
      double d = v.get<double>();
      if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) <= exact_limit)
        return static_cast<std::int64_t>(d);
      return v;
    }
    case nlohmann::json::value_t::number_unsigned:
      if (v.get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(v.get<std::uint64_t>());
      return v;
    default:
      return v;
  }
}

} // namespace

std::string canonical_json(const nlohmann::json& value) {
  // nlohmann's object is a std::map: dump() already sorts keys bytewise.
  return normalised(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

std::string json_hash(const nlohmann::json& value) {
  return net::sha256_hex(canonical_json(value));
}

} // namespace endure::agent
