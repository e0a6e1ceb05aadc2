// Conditions decide which calls of a tool wait for a person. What a policy
// author relies on: each operator's meaning at its edges, a pointer that
// does not resolve never matches (except `exists`), values of different
// JSON types are never equal or ordered, nesting works, evaluation never
// throws and never stalls on what a model wrote.
#include <chrono>

#include <nlohmann/json.hpp>

#include "endure/actors/gateway/condition.hpp"
#include "gateway/policy_test_support.hpp"

using namespace endure;
using namespace endure::gateway;
using endure::test::must_load;
using endure::test::refusal;
using nlohmann::json;

namespace {

condition cmp(const std::string& pointer, condition_op op, const json& value) {
  auto c = condition::compare(pointer, op, value);
  INFO(pointer << " " << to_string(op) << " " << value.dump());
  if (!c)
    FAIL(c.error().message);
  return *c;
}

condition has(const std::string& pointer) {
  return *condition::exists(pointer);
}

bool holds(const condition& c, const char* args) {
  return c.holds(json::parse(args));
}

} // namespace

SCENARIO("the orderings compare numbers and strings at their edges", "[gateway][condition]") {
  auto gt = cmp("/amount", condition_op::gt, 1000);
  auto ge = cmp("/amount", condition_op::ge, 1000);
  auto lt = cmp("/amount", condition_op::lt, 1000);
  auto le = cmp("/amount", condition_op::le, 1000);
  struct row {
    const char* args;
    bool gt, ge, lt, le;
  };
  for (auto r : {row{R"({"amount": 999})", false, false, true, true},
                 row{R"({"amount": 1000})", false, true, false, true},
                 row{R"({"amount": 1000.0})", false, true, false, true},
                 row{R"({"amount": 1000.5})", true, true, false, false},
                 row{R"({"amount": 1001})", true, true, false, false},
                 row{R"({"amount": -5})", false, false, true, true},
                 row{R"({"amount": 18446744073709551615})", true, true, false, false}}) {
    INFO(r.args);
    CHECK(holds(gt, r.args) == r.gt);
    CHECK(holds(ge, r.args) == r.ge);
    CHECK(holds(lt, r.args) == r.lt);
    CHECK(holds(le, r.args) == r.le);
  }
  // Large integers compare exactly, not through a double.
  auto big = cmp("/n", condition_op::gt, json::parse("9007199254740992"));
  CHECK(holds(big, R"({"n": 9007199254740993})"));
  CHECK_FALSE(holds(big, R"({"n": 9007199254740992})"));

  auto after = cmp("/name", condition_op::gt, "m");
  CHECK(holds(after, R"({"name": "zed"})"));
  CHECK_FALSE(holds(after, R"({"name": "adam"})"));
  CHECK_FALSE(holds(after, R"({"name": "m"})"));
  CHECK(holds(cmp("/name", condition_op::ge, "m"), R"({"name": "m"})"));
}

SCENARIO("values of different types are never equal or ordered", "[gateway][condition]") {
  auto gt = cmp("/amount", condition_op::gt, 1000);
  auto eq = cmp("/amount", condition_op::eq, 1000);
  auto ne = cmp("/amount", condition_op::ne, 1000);
  for (auto args : {R"({"amount": "5000"})", R"({"amount": true})", R"({"amount": null})",
                    R"({"amount": [5000]})", R"({"amount": {"v": 5000}})"}) {
    INFO(args);
    CHECK_NOTHROW(holds(gt, args));
    CHECK_FALSE(holds(gt, args));
    CHECK_FALSE(holds(cmp("/amount", condition_op::lt, 1000), args));
    CHECK_FALSE(holds(eq, args));
    CHECK(holds(ne, args));  // the negation of eq: an unexpected type still gates
  }
  CHECK_FALSE(holds(cmp("/flag", condition_op::eq, true), R"({"flag": 1})"));
  CHECK_FALSE(holds(cmp("/flag", condition_op::eq, 0), R"({"flag": false})"));
  CHECK_FALSE(holds(cmp("/v", condition_op::gt, "a"), R"({"v": 5})"));
  CHECK_FALSE(holds(cmp("/v", condition_op::le, 5), R"({"v": "5"})"));
  CHECK_FALSE(holds(cmp("/v", condition_op::in, json::parse(R"(["1", "2"])")), R"({"v": 1})"));
}

SCENARIO("eq and ne compare whole values, numbers by value", "[gateway][condition]") {
  CHECK(holds(cmp("/n", condition_op::eq, 1), R"({"n": 1.0})"));
  CHECK(holds(cmp("/s", condition_op::eq, "prod"), R"({"s": "prod"})"));
  CHECK_FALSE(holds(cmp("/s", condition_op::eq, "prod"), R"({"s": "Prod"})"));
  CHECK(holds(cmp("/v", condition_op::eq, nullptr), R"({"v": null})"));
  auto obj = cmp("/v", condition_op::eq, json::parse(R"({"a": [1, {"b": 2}]})"));
  CHECK(holds(obj, R"({"v": {"a": [1.0, {"b": 2.0}]}})"));
  CHECK_FALSE(holds(obj, R"({"v": {"a": [1, {"b": 2}], "c": 0}})"));
  CHECK_FALSE(holds(obj, R"({"v": {"a": [{"b": 2}, 1]}})"));
  auto ne = cmp("/env", condition_op::ne, "staging");
  CHECK(holds(ne, R"({"env": "prod"})"));
  CHECK_FALSE(holds(ne, R"({"env": "staging"})"));
}

SCENARIO("in and not_in test membership of a set", "[gateway][condition]") {
  auto in = cmp("/to", condition_op::in, json::parse(R"(["ann@x.com", "bob@x.com", 7])"));
  auto not_in = cmp("/to", condition_op::not_in, json::parse(R"(["ann@x.com", "bob@x.com"])"));
  CHECK(holds(in, R"({"to": "bob@x.com"})"));
  CHECK(holds(in, R"({"to": 7.0})"));
  CHECK_FALSE(holds(in, R"({"to": "eve@y.com"})"));
  CHECK_FALSE(holds(not_in, R"({"to": "bob@x.com"})"));
  CHECK(holds(not_in, R"({"to": "eve@y.com"})"));
  CHECK(holds(not_in, R"({"to": ["ann@x.com"]})"));
  CHECK_FALSE(holds(cmp("/to", condition_op::in, json::array()), R"({"to": "a"})"));
}

SCENARIO("exists and pointers into arguments", "[gateway][condition]") {
  const char* args = R"({"a": {"b/c": 1, "d~e": null, "": 2}, "items": [10, 20], "n": null})";
  CHECK(holds(has("/a"), args));
  CHECK(holds(has("/n"), args));  // present, even as null
  CHECK(holds(has("/a/b~1c"), args));
  CHECK(holds(has("/a/d~0e"), args));
  CHECK(holds(has("/a/"), args));  // the empty key
  CHECK(holds(has("/items/1"), args));
  CHECK(holds(has(""), args));  // the whole arguments
  CHECK(holds(has(""), "null"));
  for (auto missing : {"/b", "/a/b", "/items/2", "/items/01", "/items/-", "/items/x",
                       "/items/99999999999999999999", "/n/x", "/items/0/x"}) {
    INFO(missing);
    CHECK_FALSE(holds(has(missing), args));
  }
  CHECK(holds(cmp("/items/1", condition_op::eq, 20), args));
  CHECK_FALSE(holds(has("/a"), "[1, 2]"));
  CHECK_FALSE(holds(has("/0"), R"({"x": 1})"));
  CHECK(holds(has("/0"), R"([1])"));
}

SCENARIO("a pointer that does not resolve matches nothing but not(exists)",
         "[gateway][condition]") {
  for (auto op : {condition_op::gt, condition_op::ge, condition_op::lt, condition_op::le,
                  condition_op::eq, condition_op::ne}) {
    INFO(to_string(op));
    CHECK_FALSE(holds(cmp("/missing", op, 1), R"({"other": 1})"));
  }
  CHECK_FALSE(holds(cmp("/missing", condition_op::in, json::array({1})), "{}"));
  CHECK_FALSE(holds(cmp("/missing", condition_op::not_in, json::array({1})), "{}"));
  CHECK_FALSE(holds(cmp("/missing", condition_op::matches, ".*"), "{}"));
  CHECK_FALSE(holds(has("/missing"), "{}"));
  CHECK(holds(condition::negate(has("/missing")), "{}"));
}

SCENARIO("matches searches strings with RE2, in linear time", "[gateway][condition]") {
  auto external = cmp("/to", condition_op::matches, "@example\\.com$");
  CHECK(holds(external, R"({"to": "ann@example.com"})"));
  CHECK_FALSE(holds(external, R"({"to": "ann@example.com.evil"})"));
  CHECK_FALSE(holds(external, R"({"to": 5})"));
  CHECK_FALSE(holds(external, R"({"to": ["ann@example.com"]})"));
  auto drop = cmp("/q", condition_op::matches, "(?i)drop\\s+table");
  CHECK(holds(drop, R"({"q": "x; DROP  TABLE t"})"));

  // Patterns that make a backtracking engine (std::regex: a stack overflow
  // at 100k characters; glibc's regexec: minutes) answer at once.
  json args{{"s", std::string(1'000'000, 'a') + "b"}};
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(cmp("/s", condition_op::matches, "(a|b)*c").holds(args));
  CHECK_FALSE(cmp("/s", condition_op::matches, "^(a+a+)+y$").holds(args));
  CHECK(cmp("/s", condition_op::matches, "a.*b").holds(args));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds{10});
}

SCENARIO("all, any and not nest, and report what matched", "[gateway][condition]") {
  auto big = cmp("/amount", condition_op::gt, 1000);
  auto external = condition::negate(cmp("/to", condition_op::matches, "@example\\.com$"));
  auto draft = cmp("/draft", condition_op::eq, true);
  auto c = *condition::all({big, *condition::any({external, condition::negate(draft)})});
  CHECK(c.depth() == 4);
  // As written, though the canonical form sorts the parts.
  CHECK(c.describe()
        == R"(all(/amount gt 1000, any(not(/to matches "@example\\.com$"), not(/draft eq true))))");

  std::vector<std::string> matched;
  CHECK(c.holds(json::parse(R"({"amount": 5000, "to": "eve@evil.com", "draft": true})"), &matched));
  CHECK(matched == std::vector<std::string>{"/amount gt 1000 (is 5000)",
                                            R"(not(/to matches "@example\\.com$"))"});
  CHECK_FALSE(c.holds(json::parse(R"({"amount": 5000, "to": "a@example.com", "draft": true})")));
  CHECK_FALSE(c.holds(json::parse(R"({"amount": 50, "to": "eve@evil.com"})")));
  matched.clear();
  CHECK(c.holds(json::parse(R"({"amount": 5000, "to": "a@example.com"})"), &matched));
  CHECK(matched == std::vector<std::string>{"/amount gt 1000 (is 5000)", "not(/draft eq true)"});

  // An `all` that failed halfway reports nothing of its first half.
  auto either = *condition::any({*condition::all({big, draft}), has("/urgent")});
  matched.clear();
  CHECK(either.holds(json::parse(R"({"amount": 5000, "urgent": 1})"), &matched));
  CHECK(matched == std::vector<std::string>{"/urgent exists"});

  // A long argument is shortened for the reviewer, never cut inside a character.
  matched.clear();
  json long_text{{"t", std::string(79, 'x') + "\xc3\xa9" + std::string(100, 'y')}};
  CHECK(has("/t").holds(long_text, &matched));
  CHECK(cmp("/t", condition_op::ne, "").holds(long_text, &matched));
  REQUIRE(matched.size() == 2);
  CHECK(matched[0] == "/t exists");
  CHECK(matched[1] == "/t ne \"\" (is \"" + std::string(79, 'x') + "...)");
  // Text that is not UTF-8 in the arguments does not throw.
  json bad{{"t", std::string{"\xff"}}};
  matched.clear();
  CHECK(cmp("/t", condition_op::ne, "").holds(bad, &matched));
  CHECK(matched.size() == 1);
}

SCENARIO("conditions that cannot be built are refused", "[gateway][condition]") {
  auto why = [](expected<condition> c) {
    REQUIRE_FALSE(c);
    CHECK(c.error().code == errc::invalid_argument);
    return c.error().message;
  };
  CHECK(why(condition::exists("amount"))
        == "'amount' is not a JSON pointer: it must be empty (the whole arguments) or start with "
           "'/', e.g. /amount");
  CHECK(why(condition::exists("/a~2")) == "'/a~2' is not a JSON pointer: '~' must be followed by "
                                          "0 (for ~) or 1 (for /)");
  CHECK_THAT(why(condition::exists("/a~")), Catch::Contains("'~' must be followed"));
  CHECK(why(condition::compare("/a", condition_op::gt, json::array({1})))
        == "gt compares with a number or a string, not [1]");
  CHECK(why(condition::compare("/a", condition_op::le, true))
        == "le compares with a number or a string, not true");
  CHECK(why(condition::compare("/a", condition_op::in, "a"))
        == "in needs a list of values, e.g. [a, b], not \"a\"");
  CHECK(why(condition::compare("/a", condition_op::matches, 5))
        == "matches needs a pattern string, not 5");
  CHECK_THAT(why(condition::compare("/a", condition_op::matches, "(unclosed")),
             Catch::StartsWith("pattern \"(unclosed\" is not a valid RE2 pattern: missing )"));
  CHECK_THAT(why(condition::compare("/a", condition_op::matches, "(a)\\1")),
             Catch::StartsWith("pattern"));  // no backreferences in RE2
  CHECK(why(condition::compare("/a", condition_op::exists, 1))
        == "exists takes no value: write {pointer: ..., op: exists}");
  CHECK_THAT(why(condition::compare("/a", condition_op::eq, std::string{"\xff"})),
             Catch::Contains("not valid UTF-8"));
  CHECK(why(condition::all({})) == "all needs at least one condition");
  CHECK(why(condition::any({})) == "any needs at least one condition");
}

SCENARIO("the canonical form ignores the order of sets", "[gateway][condition]") {
  auto a = cmp("/a", condition_op::gt, 1);
  auto b = cmp("/b", condition_op::in, json::parse(R"(["y", "x", "y"])"));
  auto c = cmp("/b", condition_op::in, json::parse(R"(["x", "y"])"));
  CHECK(b.to_json() == c.to_json());
  CHECK(b.to_json()["value"] == json::parse(R"(["x", "y"])"));
  CHECK(condition::all({a, b})->to_json() == condition::all({c, a, a})->to_json());
  CHECK(condition::all({a, b})->to_json() != condition::any({a, b})->to_json());
  CHECK(cmp("/a", condition_op::gt, 1.0).to_json() == a.to_json());  // 1.0 is 1
  CHECK(has("/a").to_json() == json::parse(R"({"pointer": "/a", "op": "exists"})"));
  CHECK(condition::negate(a).to_json()
        == json::parse(R"({"not": {"pointer": "/a", "op": "gt", "value": 1}})"));
}

SCENARIO("conditions in a policy file", "[gateway][condition][policy]") {
  auto p = must_load(R"(interrupt_on:
  execute_sql:
    when:
      any:
        - {pointer: /query, op: matches, value: '(?i)\b(drop|delete|truncate|update)\b'}
        - all:
            - {pointer: /database, op: eq, value: production}
            - not: {pointer: /read_only, op: eq, value: true}
  send_email:
    when: {pointer: /to, op: not_in, value: [team@example.com, ops@example.com]}
  publish:
    when: {pointer: /price, op: ge, value: 9.5}
  pay:
    when: {pointer: /amount, op: gt, value: "1000"}
)");
  CHECK(p.gate("execute_sql", json{{"query", "DELETE FROM users"}, {"database", "dev"}}));
  CHECK(p.gate("execute_sql", json{{"query", "select 1"}, {"database", "production"}}));
  CHECK_FALSE(p.gate("execute_sql", json{{"query", "select 1"}, {"database", "production"},
                                         {"read_only", true}}));
  CHECK_FALSE(p.gate("execute_sql", json{{"query", "select 1"}}));
  CHECK_FALSE(p.gate("send_email", json{{"to", "team@example.com"}}));
  auto rule = p.gate("send_email", json{{"to", "eve@evil.com"}});
  REQUIRE(rule);
  CHECK(rule->condition == R"(/to not_in ["ops@example.com","team@example.com"])");
  REQUIRE(rule->matched.size() == 1);
  CHECK(rule->matched[0]
        == R"(/to not_in ["ops@example.com","team@example.com"] (is "eve@evil.com"))");
  CHECK_FALSE(p.gate("send_email", json::object()));  // no recipient: nothing to compare
  CHECK(p.gate("publish", json{{"price", 9.5}}));
  CHECK_FALSE(p.gate("publish", json{{"price", 9}}));
  // A quoted "1000" is text: it never compares with a number.
  CHECK_FALSE(p.gate("pay", json{{"amount", 5000}}));
  CHECK(p.gate("pay", json{{"amount", "2000"}}));
}

SCENARIO("conditions a policy file cannot hold", "[gateway][condition][errors]") {
  auto when = [](const std::string& condition) {
    return refusal("interrupt_on:\n  publish:\n    when: " + condition + "\n");
  };
  CHECK(when("yes") == "policy.yaml:3:5: interrupt_on.publish.when: expected a condition: "
                       "{pointer, op, value}, {all: [...]}, {any: [...]} or {not: ...}, got the "
                       "text 'yes'");
  CHECK(when("{}") == "policy.yaml:3:5: interrupt_on.publish.when: an empty condition: give "
                      "{pointer, op, value}, {all: [...]}, {any: [...]} or {not: ...}");
  CHECK(when("{pointer: /a, op: bigger, value: 1}")
        == "policy.yaml:3:25: interrupt_on.publish.when.op: unknown operator 'bigger'; expected "
           "one of: gt, ge, lt, le, eq, ne, in, not_in, exists, matches");
  CHECK(when("{pointer: amount, op: gt, value: 1}")
        == "policy.yaml:3:12: interrupt_on.publish.when.pointer: 'amount' is not a JSON pointer: "
           "it must be empty (the whole arguments) or start with '/', e.g. /amount");
  CHECK(when("{op: gt, value: 1}")
        == "policy.yaml:3:5: interrupt_on.publish.when.pointer: is required: the JSON pointer to "
           "an argument, e.g. /amount");
  CHECK(when("{pointer: /a, value: 1}")
        == "policy.yaml:3:5: interrupt_on.publish.when.op: is required: one of gt, ge, lt, le, "
           "eq, ne, in, not_in, exists, matches");
  CHECK(when("{pointer: /a, op: gt}")
        == "policy.yaml:3:5: interrupt_on.publish.when.value: is required for op: gt");
  CHECK(when("{pointer: /a, op: exists, value: true}")
        == "policy.yaml:3:37: interrupt_on.publish.when.value: exists takes no value (to test "
           "absence, write {not: {pointer: ..., op: exists}})");
  CHECK(when("{pointer: /a, op: in, value: b}")
        == "policy.yaml:3:33: interrupt_on.publish.when.value: in needs a list of values, e.g. "
           "[a, b], not \"b\"");
  CHECK_THAT(when("{pointer: /a, op: matches, value: '(x'}"),
             Catch::StartsWith("policy.yaml:3:38: interrupt_on.publish.when.value: pattern \"(x\" "
                               "is not a valid RE2 pattern"));
  CHECK(when("{pointer: /a, op: gt, value: .inf}")
        == "policy.yaml:3:33: interrupt_on.publish.when.value: .inf: JSON has no infinity or NaN, "
           "so arguments never hold one");
  CHECK(when("{all: [], any: []}")
        == "policy.yaml:3:12: interrupt_on.publish.when.all: cannot share a condition with other "
           "fields; nest them instead, e.g. {all: [{pointer: /a, op: exists}, {pointer: /b, op: "
           "exists}]}");
  CHECK(when("{pointer: /a, op: exists, not: {pointer: /b, op: exists}}")
        == "policy.yaml:3:37: interrupt_on.publish.when.not: cannot share a condition with other "
           "fields; nest them instead, e.g. {all: [{pointer: /a, op: exists}, {pointer: /b, op: "
           "exists}]}");
  CHECK(when("{all: []}")
        == "policy.yaml:3:12: interrupt_on.publish.when.all: all needs at least one condition");
  CHECK(when("{any: {pointer: /a, op: exists}}")
        == "policy.yaml:3:12: interrupt_on.publish.when.any: expected a list of conditions, got "
           "a map");
  CHECK(when("{all: [{pointer: /a, op: exists}, {pointer: /b, op: gt, value: [1]}]}")
        == "policy.yaml:3:67: interrupt_on.publish.when.all[1].value: gt compares with a number "
           "or a string, not [1]");
  std::string deep = "{pointer: /a, op: exists}";
  for (int i = 0; i < 16; ++i)
    deep = "{not: " + deep + "}";
  CHECK_THAT(when(deep), Catch::EndsWith("conditions nest more than 16 levels deep"));
  CHECK_THAT(when(deep), Catch::Contains(".not.not.not"));
  std::string fits = "{pointer: /a, op: exists}";
  for (int i = 0; i < 15; ++i)
    fits = "{not: " + fits + "}";
  must_load("interrupt_on:\n  publish:\n    when: " + fits + "\n");
}

SCENARIO("comparison values: every YAML scalar and nesting, with limits",
         "[gateway][condition][policy]") {
  auto value_of = [](const std::string& yaml_value) {
    auto p = must_load("interrupt_on:\n  t: {when: {pointer: /v, op: eq, value: " + yaml_value
                       + "}}\n");
    return p.to_json()["interrupt_on"]["t"]["when"]["value"];
  };
  CHECK(value_of("42") == 42);
  CHECK(value_of("-7") == -7);
  CHECK(value_of("0x1F") == 31);
  CHECK(value_of("0o17") == 15);
  CHECK(value_of("+5") == 5);
  CHECK(value_of("2.5") == 2.5);
  CHECK(value_of("1e3") == 1000);
  CHECK(value_of("true") == true);
  CHECK(value_of("False") == false);
  CHECK(value_of("~") == nullptr);
  CHECK(value_of("null") == nullptr);
  CHECK(value_of("yes") == "yes");  // YAML 1.2: text, not a bool
  CHECK(value_of("'42'") == "42");
  CHECK(value_of("1_000") == "1_000");
  CHECK(value_of("18446744073709551615") == json::parse("18446744073709551615"));
  CHECK(value_of("{a: [1, b]}") == json::parse(R"({"a": [1, "b"]})"));
  CHECK_THAT(refusal("interrupt_on:\n  t: {when: {pointer: /v, op: eq, "
                     "value: 99999999999999999999}}\n"),
             Catch::EndsWith("99999999999999999999 is out of range for a 64-bit integer"));
  CHECK_THAT(refusal("interrupt_on:\n  t: {when: {pointer: /v, op: eq, value: 1e999}}\n"),
             Catch::EndsWith("1e999 is out of range for a number"));
  CHECK_THAT(refusal("interrupt_on:\n  t: {when: {pointer: /v, op: eq, value: !foo x}}\n"),
             Catch::EndsWith("the YAML tag !foo is not supported: write the value without a tag"));
  CHECK_THAT(refusal("interrupt_on:\n  t: {when: {pointer: /v, op: eq, value: {a: 1, a: 2}}}\n"),
             Catch::Contains("interrupt_on.t.when.value.a: is given twice"));
  std::string deep = "1";
  for (int i = 0; i < 40; ++i)
    deep = "[" + deep + "]";
  CHECK_THAT(refusal("interrupt_on:\n  t: {when: {pointer: /v, op: eq, value: " + deep + "}}\n"),
             Catch::EndsWith("the value nests more than 32 levels deep"));
  // Aliases can make a short file describe a huge value (a "billion laughs").
  CHECK_THAT(refusal("interrupt_on:\n  t:\n    when:\n      pointer: /v\n      op: eq\n"
                     "      value:\n        {k: &a [x, x, x, x, x, x, x, x, x, x], "
                     "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a], "
                     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b], "
                     "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c], "
                     "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]}\n"),
             Catch::EndsWith("the value has more than 10000 parts"));
}
