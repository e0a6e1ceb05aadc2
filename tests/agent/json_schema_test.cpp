// Tool arguments are checked against their schema before a tool runs: each
// supported keyword must accept what it allows and refuse what it does not,
// with a path and a message a model can act on; a keyword outside the subset
// must be refused when the tool is registered, never silently ignored.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "endure/actors/agent/json_schema.hpp"

using endure::agent::check_schema;
using endure::agent::schema_violation;
using endure::agent::validate;
using nlohmann::json;

namespace {

/// Violations of `value` against `schema`, which must pass check_schema.
std::vector<schema_violation> violations(const std::string& schema, const std::string& value) {
  auto s = json::parse(schema);
  auto checked = check_schema(s);
  INFO(schema << " -> " << (checked ? "" : checked.error().message));
  REQUIRE(checked);
  return validate(s, json::parse(value));
}

bool accepts(const std::string& schema, const std::string& value) {
  return violations(schema, value).empty();
}

/// The single violation, which must exist.
schema_violation only(const std::string& schema, const std::string& value) {
  auto found = violations(schema, value);
  INFO(schema << " on " << value);
  REQUIRE(found.size() == 1);
  return found[0];
}

/// check_schema's message for a schema it must refuse.
std::string refusal(const std::string& schema) {
  auto checked = check_schema(json::parse(schema));
  INFO(schema);
  REQUIRE_FALSE(checked);
  CHECK(checked.error().code == endure::errc::invalid_argument);
  return checked.error().message;
}

using Catch::Matchers::Contains;

} // namespace

// -- check_schema: refused at registration -------------------------------------

SCENARIO("a keyword outside the subset is refused, named with its pointer", "[agent][schema]") {
  for (auto [schema, where] : std::vector<std::pair<std::string, std::string>>{
         {R"({"type": "integer", "multipleOf": 5})", "/multipleOf: keyword 'multipleOf'"},
         {R"({"properties": {"n": {"type": "number", "multipleOf": 2}}})",
          "/properties/n/multipleOf: keyword 'multipleOf'"},
         {R"({"$ref": "#/$defs/a", "$defs": {"a": {}}})", "/$defs: keyword '$defs'"},
         {R"({"$ref": "#/$defs/a"})", "/$ref: keyword '$ref'"},
         {R"({"patternProperties": {"^x": {}}})", "keyword 'patternProperties'"},
         {R"({"items": {"uniqueItems": true}})", "/items/uniqueItems"},
         {R"({"anyOf": [{}, {"not": {"type": "null"}}]})", "/anyOf/1/not"},
         {R"({"if": {}, "then": {}})", "keyword 'if'"},
         {R"({"minProperties": 1})", "keyword 'minProperties'"},
         {R"({"prefixItems": [{}]})", "keyword 'prefixItems'"},
         {R"({"properties": {"a/b": {"contains": {}}}})", "/properties/a~1b/contains"},
         {R"({"additionalProperties": {"propertyNames": {}}})", "/additionalProperties/propertyNames"},
         {R"({"allOf": [{"oneOf": [{"dependentRequired": {}}]}]})", "/allOf/0/oneOf/0/dependentRequired"},
       }) {
    auto message = refusal(schema);
    CHECK_THAT(message, Contains(where) && Contains("not supported"));
    CHECK_THAT(message, Contains("supported keywords: type, properties"));
  }
}

SCENARIO("a supported keyword with a malformed value is refused", "[agent][schema]") {
  CHECK_THAT(refusal(R"({"type": "float"})"), Contains("/type: 'float' is not a JSON Schema type"));
  CHECK_THAT(refusal(R"({"type": ["string", "str"]})"), Contains("/type/1: 'str'"));
  CHECK_THAT(refusal(R"({"type": []})"), Contains("/type: must be a type name"));
  CHECK_THAT(refusal(R"({"type": ["null", "null"]})"), Contains("lists 'null' twice"));
  CHECK_THAT(refusal(R"({"properties": []})"), Contains("/properties: must be an object"));
  CHECK_THAT(refusal(R"({"properties": {"a": 3}})"), Contains("/properties/a: a schema must be"));
  CHECK_THAT(refusal(R"({"required": "a"})"), Contains("/required: must be an array"));
  CHECK_THAT(refusal(R"({"required": ["a", 1]})"), Contains("must hold strings only"));
  CHECK_THAT(refusal(R"({"required": ["a", "a"]})"), Contains("lists 'a' twice"));
  CHECK_THAT(refusal(R"({"additionalProperties": "no"})"), Contains("/additionalProperties: a schema"));
  CHECK_THAT(refusal(R"({"items": [{}, {}]})"), Contains("/items: the tuple form"));
  CHECK_THAT(refusal(R"({"enum": []})"), Contains("/enum: must be a non-empty array"));
  CHECK_THAT(refusal(R"({"enum": "a"})"), Contains("/enum: must be a non-empty array"));
  CHECK_THAT(refusal(R"({"examples": {}})"), Contains("/examples: must be an array"));
  CHECK_THAT(refusal(R"({"minimum": "0"})"), Contains("/minimum: must be a number"));
  CHECK_THAT(refusal(R"({"maximum": null})"), Contains("/maximum: must be a number"));
  CHECK_THAT(refusal(R"({"exclusiveMinimum": true})"), Contains("boolean form (draft 4)"));
  CHECK_THAT(refusal(R"({"exclusiveMaximum": "1"})"), Contains("must be a number"));
  for (auto kw : {"minLength", "maxLength", "minItems", "maxItems"})
    for (auto bad : {"-1", "1.5", "\"3\"", "true"})
      CHECK_THAT(refusal(std::string{R"({")"} + kw + "\": " + bad + "}"),
                 Contains(std::string{"/"} + kw + ": must be a non-negative integer"));
  CHECK_THAT(refusal(R"({"pattern": 5})"), Contains("/pattern: must be a string"));
  CHECK_THAT(refusal(R"({"format": 5})"), Contains("/format: must be a string"));
  CHECK_THAT(refusal(R"({"description": ["x"]})"), Contains("/description: must be a string"));
  CHECK_THAT(refusal(R"({"title": 1})"), Contains("/title: must be a string"));
  for (auto kw : {"anyOf", "oneOf", "allOf"}) {
    CHECK_THAT(refusal(std::string{R"({")"} + kw + R"(": []})"), Contains("must be a non-empty array"));
    CHECK_THAT(refusal(std::string{R"({")"} + kw + R"(": {}})"), Contains("must be a non-empty array"));
    CHECK_THAT(refusal(std::string{R"({")"} + kw + R"(": [{}, 1]})"), Contains("/1: a schema must be"));
  }
  CHECK_THAT(refusal(R"("object")"), Contains("(root): a schema must be an object or a boolean"));
}

SCENARIO("a pattern that does not compile is refused at registration", "[agent][schema]") {
  CHECK_THAT(refusal(R"({"pattern": "(unclosed"})"), Contains("/pattern: '(unclosed' does not compile"));
  CHECK_THAT(refusal(R"({"pattern": "[z-a]"})"), Contains("does not compile"));
  // Back-references need the backtracking executor, which a long string
  // crashes: they are refused rather than run.
  CHECK_THAT(refusal(R"({"pattern": "(a)\\1"})"), Contains("without back-references"));
}

SCENARIO("every problem of a schema is reported at once", "[agent][schema]") {
  auto message = refusal(R"({"type": "obj", "properties": {"a": {"maxLength": -1}}, "not": {}})");
  CHECK_THAT(message, Contains("/type:") && Contains("/properties/a/maxLength:") && Contains("/not:"));
}

SCENARIO("a schema nested beyond the limit is refused", "[agent][schema]") {
  json deep = {{"type", "string"}};
  for (int i = 0; i < 70; ++i)
    deep = {{"type", "array"}, {"items", deep}};
  CHECK_THAT(refusal(deep.dump()), Contains("nests deeper than 64 levels"));
  json deep_enum = json::array();
  for (int i = 0; i < 70; ++i)
    deep_enum = json::array({deep_enum});
  CHECK_THAT(refusal(json{{"enum", deep_enum}}.dump()), Contains("/enum: value nests deeper"));
}

SCENARIO("the whole subset is accepted", "[agent][schema]") {
  auto schema = json::parse(R"({
    "type": "object", "title": "t", "description": "d", "default": {}, "examples": [{}],
    "properties": {
      "s": {"type": "string", "minLength": 1, "maxLength": 9, "pattern": "^[a-z]+$", "format": "x"},
      "n": {"type": ["number", "null"], "minimum": 0, "maximum": 1.5, "exclusiveMinimum": -1,
            "exclusiveMaximum": 2},
      "a": {"type": "array", "items": {"enum": [1, "x", null]}, "minItems": 0, "maxItems": 3},
      "c": {"const": {"k": [1]}},
      "u": {"anyOf": [true, {"oneOf": [{"allOf": [{}]}]}]}
    },
    "required": ["s"], "additionalProperties": false
  })");
  auto checked = check_schema(schema);
  INFO((checked ? "" : checked.error().message));
  CHECK(checked);
  CHECK(check_schema(json(true)));
  CHECK(check_schema(json::object()));
}

// -- validate: each keyword accepts and refuses --------------------------------

SCENARIO("type accepts its own kind of value and refuses the others", "[agent][schema]") {
  const std::vector<std::string> values{"null", "true", "3", "3.5", "\"x\"", "[]", "{}"};
  const std::vector<std::pair<std::string, std::vector<std::string>>> allowed{
    {"null", {"null"}},       {"boolean", {"true"}},     {"integer", {"3"}},
    {"number", {"3", "3.5"}}, {"string", {"\"x\""}},     {"array", {"[]"}},
    {"object", {"{}"}}};
  for (const auto& [type, ok] : allowed)
    for (const auto& v : values) {
      bool expected = std::find(ok.begin(), ok.end(), v) != ok.end();
      INFO(type << " on " << v);
      CHECK(accepts(R"({"type": ")" + type + "\"}", v) == expected);
    }
  CHECK(accepts(R"({"type": "integer"})", "3.0"));  // JSON Schema: 3.0 is an integer
  CHECK(accepts(R"({"type": "integer"})", "-9223372036854775808"));
  CHECK(accepts(R"({"type": "integer"})", "18446744073709551615"));
  auto v = only(R"({"type": "integer"})", "3.5");
  CHECK(v.path == "");
  CHECK(v.message == "expected integer, got number");
  CHECK(only(R"({"type": "string"})", "7").message == "expected string, got integer");
}

SCENARIO("an array of types accepts any of them", "[agent][schema]") {
  CHECK(accepts(R"({"type": ["string", "null"]})", "null"));
  CHECK(accepts(R"({"type": ["string", "null"]})", "\"a\""));
  CHECK(only(R"({"type": ["string", "null"]})", "1").message ==
        "expected string or null, got integer");
}

SCENARIO("properties, required and additionalProperties", "[agent][schema]") {
  const std::string schema = R"({"type": "object",
    "properties": {"to": {"type": "string"}, "n": {"type": "integer"}},
    "required": ["to", "n"], "additionalProperties": false})";
  CHECK(accepts(schema, R"({"to": "a", "n": 1})"));
  GIVEN("a missing required property") {
    auto v = only(schema, R"({"to": "a"})");
    CHECK(v.path == "");
    CHECK(v.message == "missing required property 'n'");
  }
  GIVEN("a property of the wrong type") {
    auto v = only(schema, R"({"to": 5, "n": 1})");
    CHECK(v.path == "/to");
    CHECK(v.message == "expected string, got integer");
  }
  GIVEN("an extra property while additionalProperties is false") {
    auto v = only(schema, R"({"to": "a", "n": 1, "cc": "b"})");
    CHECK(v.path == "/cc");
    CHECK(v.message == "property 'cc' is not allowed; allowed: n, to");
  }
  GIVEN("extra properties while additionalProperties is true or absent") {
    CHECK(accepts(R"({"properties": {"a": {}}, "additionalProperties": true})", R"({"b": 1})"));
    CHECK(accepts(R"({"properties": {"a": {}}})", R"({"b": 1})"));
  }
  GIVEN("additionalProperties as a schema") {
    const std::string typed = R"({"properties": {"a": {}}, "additionalProperties": {"type": "number"}})";
    CHECK(accepts(typed, R"({"a": "x", "b": 1, "c": 2.5})"));
    CHECK(only(typed, R"({"a": "x", "b": "y"})").path == "/b");
  }
  GIVEN("keys that need escaping in a JSON pointer") {
    auto v = only(R"({"properties": {"a/b": {"properties": {"c~d": {"type": "null"}}}}})",
                  R"({"a/b": {"c~d": 1}})");
    CHECK(v.path == "/a~1b/c~0d");
  }
  GIVEN("every violation of an object") {
    auto found = violations(schema, R"({"to": 1, "x": 2})");
    REQUIRE(found.size() == 3);
    CHECK(found[0].message == "missing required property 'n'");
    CHECK(found[1].path == "/to");
    CHECK(found[2].path == "/x");
  }
}

SCENARIO("items, minItems and maxItems", "[agent][schema]") {
  const std::string schema = R"({"type": "array", "items": {"type": "string"}, "minItems": 1,
                                 "maxItems": 2})";
  CHECK(accepts(schema, R"(["a"])"));
  CHECK(accepts(schema, R"(["a", "b"])"));
  CHECK(only(schema, "[]").message == "must have at least 1 items, has 0");
  CHECK(only(schema, R"(["a", "b", "c"])").message == "must have at most 2 items, has 3");
  auto v = only(schema, R"(["a", 2])");
  CHECK(v.path == "/1");
  CHECK(v.message == "expected string, got integer");
  CHECK(accepts(R"({"items": {"type": "object", "properties": {"k": {"const": 1}}}})",
                R"([{"k": 1}, {"k": 1.0}])"));
  CHECK(only(R"({"items": {"properties": {"k": {"const": 1}}}})", R"([{"k": 1}, {"k": 2}])").path ==
        "/1/k");
}

SCENARIO("enum and const compare by JSON value", "[agent][schema]") {
  const std::string e = R"({"enum": ["red", 2, null, {"a": [1]}]})";
  for (auto ok : {"\"red\"", "2", "2.0", "null", R"({"a": [1.0]})"})
    CHECK(accepts(e, ok));
  for (auto bad : {"\"Red\"", "3", "false", R"({"a": [1, 2]})", "[]"})
    CHECK(!accepts(e, bad));
  CHECK(only(e, "\"blue\"").message == R"(must be one of ["red",2,null,{"a":[1]}], got "blue")");
  CHECK(accepts(R"({"const": {"x": 1, "y": [true]}})", R"({"y": [true], "x": 1})"));
  CHECK(only(R"({"const": "on"})", "\"off\"").message == R"(must be "on", got "off")");
  CHECK(only(R"({"const": null})", "0").message == "must be null, got 0");
}

SCENARIO("numeric bounds, inclusive and exclusive", "[agent][schema]") {
  CHECK(accepts(R"({"minimum": 1})", "1"));
  CHECK(only(R"({"minimum": 1})", "0.5").message == "must be >= 1, got 0.5");
  CHECK(accepts(R"({"maximum": 1.5})", "1.5"));
  CHECK(only(R"({"maximum": 1.5})", "2").message == "must be <= 1.5, got 2");
  CHECK(accepts(R"({"exclusiveMinimum": 0})", "0.001"));
  CHECK(only(R"({"exclusiveMinimum": 0})", "0").message == "must be > 0, got 0");
  CHECK(accepts(R"({"exclusiveMaximum": 10})", "9"));
  CHECK(only(R"({"exclusiveMaximum": 10})", "10").message == "must be < 10, got 10");
  // Integers beyond 2^53 compare exactly, not as doubles.
  CHECK(only(R"({"maximum": 9007199254740992})", "9007199254740993").message ==
        "must be <= 9007199254740992, got 9007199254740993");
  CHECK(accepts(R"({"minimum": -1})", "18446744073709551615"));
  CHECK(!accepts(R"({"maximum": -1})", "18446744073709551615"));
  CHECK(!accepts(R"({"minimum": 0})", "-9223372036854775808"));
  GIVEN("a bound on a value that is not a number") {
    CHECK(accepts(R"({"minimum": 5})", "\"3\""));  // bounds constrain numbers only
  }
}

SCENARIO("minLength and maxLength count characters, not bytes", "[agent][schema]") {
  CHECK(accepts(R"({"maxLength": 5})", "\"h\u00e9llo\""));  // 6 bytes, 5 characters
  CHECK(accepts(R"({"minLength": 2, "maxLength": 2})", "\"\U0001F600\u00e9\""));
  CHECK(only(R"({"maxLength": 3})", "\"abcd\"").message == "must have at most 3 characters, has 4");
  CHECK(only(R"({"minLength": 1})", "\"\"").message == "must have at least 1 characters, has 0");
  CHECK(accepts(R"({"maxLength": 1.0})", "\"a\""));
}

SCENARIO("pattern searches the string like ECMAScript", "[agent][schema]") {
  CHECK(accepts(R"({"pattern": "b"})", "\"abc\""));  // unanchored, as JSON Schema says
  CHECK(accepts(R"({"pattern": "^[a-z]+@[a-z]+\\.com$"})", "\"ann@example.com\""));
  auto v = only(R"({"pattern": "^[a-z]+@[a-z]+\\.com$"})", "\"ann@example\"");
  CHECK(v.message == R"(must match the pattern "^[a-z]+@[a-z]+\\.com$", got "ann@example")");
  GIVEN("a hostile string") {
    // The backtracking executor segfaults on this and takes exponential time
    // on the second; ours runs both in linear time.
    std::string long_one(200000, 'a');
    CHECK(accepts(R"({"pattern": "^[a-z]*$"})", json(long_one).dump()));
    std::string evil(40, 'a');
    CHECK(!accepts(R"({"pattern": "^(a+)+$"})", json(evil + "!").dump()));
  }
  GIVEN("a value too long to quote whole") {
    auto message = only(R"({"pattern": "^b"})", json(std::string(5000, 'a')).dump()).message;
    CHECK(message.size() < 200);
    CHECK_THAT(message, Contains("aaa..."));
  }
}

SCENARIO("anyOf, oneOf and allOf", "[agent][schema]") {
  const std::string any = R"({"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 0}]})";
  CHECK(accepts(any, "\"x\""));
  CHECK(accepts(any, "3"));
  CHECK(only(any, "-1").message == "must match at least one schema in anyOf, matches none; "
                                   "#0: expected string, got integer; #1: must be >= 0, got -1");
  const std::string one = R"({"oneOf": [{"type": "integer"}, {"type": "number"}]})";
  CHECK(accepts(one, "1.5"));
  CHECK(only(one, "1").message == "must match exactly one schema in oneOf, matches #0 and #1");
  CHECK(only(one, "\"1\"").message.rfind("must match exactly one schema in oneOf, matches none", 0) == 0);
  const std::string all = R"({"allOf": [{"type": "string"}, {"maxLength": 2}, {"pattern": "^a"}]})";
  CHECK(accepts(all, "\"ab\""));
  auto found = violations(all, "\"bcd\"");
  REQUIRE(found.size() == 2);
  CHECK_THAT(found[0].message, Contains("at most 2"));
  CHECK_THAT(found[1].message, Contains("pattern"));
  GIVEN("a branch violation below the value") {
    auto v = only(R"({"anyOf": [{"properties": {"a": {"type": "string"}}}, {"type": "null"}]})",
                  R"({"a": 1})");
    CHECK(v.path == "");
    CHECK_THAT(v.message, Contains("#0 at /a: expected string"));
  }
}

SCENARIO("annotations and format are accepted and not enforced", "[agent][schema]") {
  CHECK(accepts(R"({"type": "string", "format": "email", "title": "t", "description": "d",
                    "default": "x", "examples": ["y"]})", "\"not an email\""));
}

SCENARIO("boolean schemas", "[agent][schema]") {
  CHECK(accepts("true", R"({"anything": [1]})"));
  CHECK(only("false", "1").message == "no value is allowed here");
  CHECK(only(R"({"properties": {"gone": false}})", R"({"gone": 1})").path == "/gone");
}

// -- validate on hostile values and unchecked schemas --------------------------

SCENARIO("a value nested 100k deep costs no stack", "[agent][schema]") {
  // Built by the (iterative) parser; copying or dumping it would recurse.
  const auto deep = json::parse(std::string(100000, '[') + std::string(100000, ']'));
  auto s = json::parse(R"({"type": "array", "minItems": 1})");
  CHECK(validate(s, deep).empty());  // the schema does not descend: nor does validate
  auto e = validate(json::parse(R"({"enum": [[[1]]]})"), deep);
  REQUIRE(e.size() == 1);
  CHECK_THAT(e[0].message, Contains("got a value nested deeper than 64 levels"));
  auto c = validate(json::parse(R"({"const": 1})"), deep);
  REQUIRE(c.size() == 1);
}

SCENARIO("validate stops at the depth limit on a schema nobody checked", "[agent][schema]") {
  json schema = json::object();
  std::string value = "1";
  for (int i = 0; i < 100; ++i) {
    schema = {{"items", schema}};
    value = "[" + value + "]";
  }
  auto found = validate(schema, json::parse(value));
  REQUIRE(found.size() == 1);
  CHECK(found[0].path.size() == 2 * 65);  // "/0" per level
  CHECK_THAT(found[0].message, Contains("nests deeper than 64 levels"));
}

SCENARIO("a malformed schema nobody checked does not crash validate", "[agent][schema]") {
  auto schema = json::parse(R"({"type": 5, "minimum": "x", "required": "a", "properties": [],
    "items": [1], "enum": 3, "pattern": "(", "minLength": -2, "anyOf": {}, "maxItems": "2",
    "additionalProperties": 7})");
  CHECK_NOTHROW(validate(schema, json::parse(R"({"a": [1, "x"]})")));
  CHECK_NOTHROW(validate(schema, json::parse("7")));
  auto found = validate(schema, json::parse("\"x\""));
  REQUIRE(found.size() == 1);
  CHECK_THAT(found[0].message, Contains("does not compile"));
}
