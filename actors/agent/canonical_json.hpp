// The canonical text of a JSON value, and its hash: what binds an approval
// to the exact call it approved. Two argument objects that mean the same
// (keys in another order, other whitespace, 1.0 for 1) have the same text;
// any change of a key, a value or a type changes it. Any thread.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

namespace endure::agent {

/// Compact JSON, object keys sorted by their UTF-8 bytes, integral floats
/// within +-2^53 written as integers, other numbers in their shortest
/// round-trip form. Throws nlohmann::json::type_error for a string that is
/// not valid UTF-8 (the value then has no canonical text; callers refuse it).
std::string canonical_json(const nlohmann::json& value);

/// Lowercase hex SHA-256 of canonical_json(value).
std::string json_hash(const nlohmann::json& value);

} // namespace endure::agent
