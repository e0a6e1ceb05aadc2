// Validation of tool arguments against a JSON Schema, in the subset tool
// definitions use in practice (README.md lists it). check_schema runs once,
// when a tool is registered, and refuses every keyword outside the subset,
// so no constraint a developer wrote goes silently unenforced; validate runs
// on every call and reports every violation, for the model to correct.
// Pure functions; any thread.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "endure/persistence/error.hpp"

namespace endure::agent {

/// Deepest nesting check_schema accepts in a schema (and in its enum,
/// const, default and examples values), and deepest validate descends.
inline constexpr std::size_t max_schema_depth = 64;

/// One way a value breaks a schema.
struct schema_violation {
  /// JSON pointer (RFC 6901) into the validated value; "" is the value
  /// itself. A missing required property is reported at its object.
  std::string path;
  /// What is wrong, for a person or a model: "expected integer, got string".
  std::string message;

  friend bool operator==(const schema_violation&, const schema_violation&) = default;
};

/// Succeeds when `schema` (a JSON object or boolean) uses only supported
/// keywords, each well-formed: "type" names JSON types, "pattern" compiles,
/// "required" lists strings, bounds are numbers, nesting stays within
/// max_schema_depth. Otherwise errc::invalid_argument, naming every problem
/// by its JSON pointer into the schema, e.g.
/// "/properties/n/multipleOf: keyword 'multipleOf' is not supported".
expected<void> check_schema(const nlohmann::json& schema);

/// Every way `value` breaks `schema`, in schema order; empty when it
/// conforms. Meant for schemas check_schema accepted: in any other schema,
/// malformed keywords are skipped, never a crash. Descends at most
/// max_schema_depth levels; deeper is a violation. Throws only bad_alloc.
std::vector<schema_violation> validate(const nlohmann::json& schema,
                                       const nlohmann::json& value);

} // namespace endure::agent
