// How the sim passes data along a chain of tool calls, as a model does
// when it reads search's result and calls read with the url it found:
// a top-level property of the arguments whose name is a top-level field
// of an earlier tool result takes that field's value, when the value fits
// the property's schema (sim_fit.hpp). Pure; any thread; internal to the
// sim (net/README.md, "Tool calling", documents the rule).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace endure::net::detail {

/// `arguments_json` (generated for `schema_json`, an object) with each
/// top-level property named like a top-level field of one of `results`
/// (tool result texts in conversation order; the most recent with a
/// fitting value wins) set to that field's value. A result that is not a
/// JSON object, a field whose value does not fit the property's schema, a
/// property the schema does not describe, and a schema whose top level
/// has keywords that tie properties together (patternProperties,
/// dependencies, if/then, anyOf, ...) leave the generated value. Returns
/// `arguments_json` unchanged when nothing was taken.
std::string sim_pass_results(std::string_view schema_json, std::string arguments_json,
                             const std::vector<std::string>& results);

} // namespace endure::net::detail
