// check_schema: the gate at registration. Each supported keyword has a rule
// for its value; any other keyword is refused, so a schema either means to
// endure exactly what it means to its author, or is not accepted at all.
#include "endure/actors/agent/json_schema.hpp"

#include <set>

#include <nlohmann/json.hpp>

#include "endure/actors/agent/detail/schema_support.hpp"

namespace endure::agent {

namespace {

using nlohmann::json;

constexpr const char* supported_keywords =
  "type, properties, required, additionalProperties, items, enum, const, minimum, maximum, "
  "exclusiveMinimum, exclusiveMaximum, minLength, maxLength, minItems, maxItems, pattern, "
  "format, anyOf, oneOf, allOf, description, title, default, examples";

class checker {
public:
  std::vector<std::string> problems;
  bool unsupported = false;

  void schema(const json& s, const std::string& at, std::size_t depth) {
    if (depth > max_schema_depth)
      return fail(at, "schema nests deeper than " + std::to_string(max_schema_depth) + " levels");
    if (s.is_boolean())
      return;
    if (!s.is_object())
      return fail(at, "a schema must be an object or a boolean, not " +
                        std::string{detail::type_name(s)});
    for (const auto& [key, v] : s.items())
      keyword(key, v, at + "/" + detail::pointer_token(key), depth);
  }

private:
  void fail(const std::string& at, std::string what) {
    problems.push_back((at.empty() ? "(root)" : at) + ": " + std::move(what));
  }

  void keyword(const std::string& key, const json& v, const std::string& at, std::size_t depth) {
    if (key == "type") return type(v, at);
    if (key == "properties") return properties(v, at, depth);
    if (key == "required") return required(v, at);
    if (key == "additionalProperties") return schema(v, at, depth + 1);
    if (key == "items") return items(v, at, depth);
    if (key == "enum") return literals(v, at, true);
    if (key == "const" || key == "default") return literal(v, at);
    if (key == "examples") return literals(v, at, false);
    if (key == "minimum" || key == "maximum") return number(v, at);
    if (key == "exclusiveMinimum" || key == "exclusiveMaximum") return exclusive(v, at);
    if (key == "minLength" || key == "maxLength" || key == "minItems" || key == "maxItems")
      return count(v, at);
    if (key == "pattern") return pattern(v, at);
    if (key == "format" || key == "description" || key == "title") return text(v, at);
    if (key == "anyOf" || key == "oneOf" || key == "allOf") return alternatives(v, at, depth);
    unsupported = true;
    fail(at, "keyword '" + key + "' is not supported, so it could not be enforced");
  }

  void type(const json& v, const std::string& at) {
    if (v.is_string()) {
      if (!detail::is_type_name(v.get<std::string>()))
        fail(at, "'" + v.get<std::string>() + "' is not a JSON Schema type (string, number, "
                 "integer, boolean, object, array, null)");
      return;
    }
    if (!v.is_array() || v.empty())
      return fail(at, "must be a type name or a non-empty array of type names");
    std::set<std::string> seen;
    for (std::size_t i = 0; i < v.size(); ++i) {
      type(v[i], at + "/" + std::to_string(i));
      if (v[i].is_string() && !seen.insert(v[i].get<std::string>()).second)
        fail(at, "lists '" + v[i].get<std::string>() + "' twice");
    }
  }

  void properties(const json& v, const std::string& at, std::size_t depth) {
    if (!v.is_object())
      return fail(at, "must be an object mapping property names to schemas");
    for (const auto& [name, sub] : v.items())
      schema(sub, at + "/" + detail::pointer_token(name), depth + 1);
  }

  void required(const json& v, const std::string& at) {
    if (!v.is_array())
      return fail(at, "must be an array of property names");
    std::set<std::string> seen;
    for (const auto& name : v) {
      if (!name.is_string())
        return fail(at, "must hold strings only, found " + std::string{detail::type_name(name)});
      if (!seen.insert(name.get<std::string>()).second)
        fail(at, "lists '" + name.get<std::string>() + "' twice");
    }
  }

  void items(const json& v, const std::string& at, std::size_t depth) {
    if (v.is_array())
      return fail(at, "the tuple form (an array of schemas) is not supported; give one schema "
                      "for every item");
    schema(v, at, depth + 1);
  }

  void literal(const json& v, const std::string& at) {
    if (detail::deeper_than(v, max_schema_depth))
      fail(at, "value nests deeper than " + std::to_string(max_schema_depth) + " levels");
  }

  void literals(const json& v, const std::string& at, bool non_empty) {
    if (!v.is_array() || (non_empty && v.empty()))
      return fail(at, non_empty ? "must be a non-empty array" : "must be an array");
    literal(v, at);
  }

  void number(const json& v, const std::string& at) {
    if (!v.is_number())
      fail(at, "must be a number");
  }

  void exclusive(const json& v, const std::string& at) {
    if (v.is_boolean())
      return fail(at, "the boolean form (draft 4) is not supported; give the bound itself, "
                      "e.g. \"exclusiveMinimum\": 0");
    number(v, at);
  }

  void count(const json& v, const std::string& at) {
    if (!detail::has_type(v, "integer") || detail::compare_numbers(v, json(0)) < 0)
      fail(at, "must be a non-negative integer");
  }

  void pattern(const json& v, const std::string& at) {
    if (!v.is_string())
      return fail(at, "must be a string (an ECMAScript regular expression)");
    try {
      detail::compile_pattern(v.get<std::string>());
    } catch (const std::regex_error& e) {
      fail(at, "'" + v.get<std::string>() + "' does not compile as an ECMAScript regular "
               "expression without back-references: " + e.what());
    }
  }

  void text(const json& v, const std::string& at) {
    if (!v.is_string())
      fail(at, "must be a string");
  }

  void alternatives(const json& v, const std::string& at, std::size_t depth) {
    if (!v.is_array() || v.empty())
      return fail(at, "must be a non-empty array of schemas");
    for (std::size_t i = 0; i < v.size(); ++i)
      schema(v[i], at + "/" + std::to_string(i), depth + 1);
  }
};

} // namespace

expected<void> check_schema(const nlohmann::json& schema) {
  checker c;
  c.schema(schema, "", 0);
  if (c.problems.empty())
    return {};
  std::string message = "the schema is refused: ";
  for (std::size_t i = 0; i < c.problems.size(); ++i)
    message += (i ? "; " : "") + c.problems[i];
  if (c.unsupported)
    message += std::string{". Remove it or express it with the supported keywords: "} +
               supported_keywords;
  return make_error(errc::invalid_argument, std::move(message));
}

} // namespace endure::agent
