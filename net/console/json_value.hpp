// JSON text <-> msgpack bytes, the CLI's bridge between what a user types
// (--input, printed results) and what workflows take and return (msgpack,
// actors/serialization.hpp). Generic: a JSON object becomes a msgpack map
// with string keys, an array an array, numbers integers or floats; the
// workflow registry then says whether the bytes fit the workflow's input
// type (workflow_input::decodes). nlohmann/json stays in the .cpp (slow to
// compile). Pure functions. Here, below the CLI, because the console takes a
// run's input and shows its result the same way.
#pragma once

#include <string>
#include <string_view>

#include "endure/persistence/error.hpp"

namespace endure::console {

/// msgpack bytes of the JSON value `json_text`; invalid_argument (with
/// where the text stops being JSON) if it is not JSON.
expected<std::string> json_to_msgpack(std::string_view json_text);

/// One msgpack value as compact JSON text. Map keys that are not strings
/// become their JSON text ("1"), binary data a base64 string, text that is
/// not UTF-8 keeps its valid parts (U+FFFD for the rest); bytes that are
/// not one msgpack value give invalid_argument.
expected<std::string> msgpack_to_json(std::string_view bytes);

} // namespace endure::console
