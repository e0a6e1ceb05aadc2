// Whether a JSON value is an instance of a JSON Schema, as far as the sim
// can tell: the check the sim runs before it puts a value it did not
// generate (a field of a tool result, a question of its own) into a tool
// call's arguments. It errs on the side of "no": a schema keyword it does
// not know (pattern, not, if/then, $ref, ...) makes the value not fit, so
// whatever it accepts validates under any JSON Schema validator, and what
// it refuses is simply generated as before. Pure; any thread; internal to
// the sim.
#pragma once

#include <nlohmann/json_fwd.hpp>

namespace endure::net::detail {

/// True if `value` is an instance of `schema` under the keywords the sim
/// knows: type (a name or a list), enum, const; minimum, maximum,
/// exclusiveMinimum, exclusiveMaximum; minLength, maxLength (code points);
/// format email, uri, url, iri, date, date-time, uuid; items (a schema),
/// minItems, maxItems, uniqueItems; properties, required,
/// additionalProperties, minProperties, maxProperties; and annotations
/// (description, title, default, examples, ...). An integer is a JSON
/// integer (2, not 2.0). Anything else, or nesting deeper than 16 levels,
/// is false. Never throws.
bool sim_fits(const nlohmann::json& schema, const nlohmann::json& value) noexcept;

} // namespace endure::net::detail
