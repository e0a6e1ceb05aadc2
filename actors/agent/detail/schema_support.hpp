// Helpers the schema checker and the validator share: how a pattern is
// compiled, how a value's type is named and matched, JSON pointer tokens.
// Internal to endure_agent; pure functions, any thread.
#pragma once

#include <cstddef>
#include <regex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace endure::agent::detail {

/// Compiles a schema's "pattern" (ECMAScript). Throws std::regex_error for
/// a pattern that does not compile or uses back-references.
///
/// libstdc++'s default executor backtracks and recurses once per input
/// character: a 100k-character string segfaults it and "(a+)+$" takes
/// exponential time. Its polynomial (Thompson NFA) mode has neither
/// problem; it only refuses back-references, which we then refuse too.
std::regex compile_pattern(const std::string& pattern);

/// "null", "boolean", "integer" (any integral number, 1.0 included, as
/// JSON Schema counts it), "number", "string", "array" or "object".
std::string_view type_name(const nlohmann::json& value);

/// True if `value` is an instance of the JSON Schema type `type`.
bool has_type(const nlohmann::json& value, std::string_view type);

/// True if `type` names one of the seven JSON Schema types.
bool is_type_name(std::string_view type);

/// `key` as one RFC 6901 reference token ("~" -> "~0", "/" -> "~1").
std::string pointer_token(std::string_view key);

/// Number of Unicode code points in UTF-8 `s` (what minLength counts).
std::size_t utf8_length(std::string_view s);

/// `s` cut to at most `max` bytes on a code point boundary, "..." ending
/// a cut one (so a message never floods a model's context), with invalid
/// UTF-8 replaced by U+FFFD (so the message can always be sent as JSON).
std::string excerpt(std::string_view s, std::size_t max);

/// -1, 0 or 1 as a <, == or > b; numbers only. Exact for two integers
/// (signed or unsigned), as doubles otherwise.
int compare_numbers(const nlohmann::json& a, const nlohmann::json& b);

/// True if `value` nests arrays/objects more than `limit` levels deep.
/// Recurses at most `limit` + 1 levels, so it is safe on any value.
bool deeper_than(const nlohmann::json& value, std::size_t limit);

} // namespace endure::agent::detail
