// The canonical text of a JSON value, and its hash: what binds an approval
// to the exact call it approved. Two argument objects that mean the same
// (keys in another order, other whitespace, 1.0 for 1) have the same text;
// any change of a key, a value or a type changes it. Any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "endure/persistence/error.hpp"

namespace endure::agent {

/// Compact JSON, object keys sorted by their UTF-8 bytes, integral floats
/// written as integers (as the integer a model would have written: 1.0 and
/// 1 agree, so do 1e16 and 10000000000000000), other numbers in their
/// shortest round-trip form. Throws std::invalid_argument for what has no
/// JSON text of its own: a string that is not UTF-8, NaN or an infinity
/// (nlohmann would write null), binary values, discarded values.
std::string canonical_json(const nlohmann::json& value);

/// Lowercase hex SHA-256 of canonical_json(value).
std::string json_hash(const nlohmann::json& value);

/// Parses JSON text a peer sent (a model's tool arguments, a reviewer's
/// edit) strictly: refuses an object with a duplicate key (nlohmann would
/// keep the last, so a reviewer shown the first would approve another
/// value), nesting deeper than `max_depth`, and trailing text. Errors are
/// errc::invalid_argument with a message saying what and where.
expected<nlohmann::json> parse_json_strict(std::string_view text, std::size_t max_depth = 64);

} // namespace endure::agent
