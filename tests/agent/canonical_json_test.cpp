// An approval is bound to the hash of a call's canonical arguments: the same
// call written differently must hash the same, and any change must not.
#include <catch2/catch.hpp>

#include <cmath>

#include <nlohmann/json.hpp>

#include "endure/actors/agent/canonical_json.hpp"

using endure::agent::canonical_json;
using endure::agent::json_hash;
using nlohmann::json;

SCENARIO("the same arguments written differently have one canonical text", "[agent][json]") {
  auto a = json::parse(R"({"to": "ann@example.com", "n": 1.0, "tags": ["x", {"b": 2, "a": 1}]})");
  auto b = json::parse(R"({ "tags" : ["x", {"a": 1, "b": 2.0}], "n":1, "to":"ann@example.com" })");
  CHECK(canonical_json(a) == R"({"n":1,"tags":["x",{"a":1,"b":2}],"to":"ann@example.com"})");
  CHECK(canonical_json(a) == canonical_json(b));
  CHECK(json_hash(a) == json_hash(b));
  CHECK(json_hash(a).size() == 64);
}

SCENARIO("any change of a key, a value or a type changes the hash", "[agent][json]") {
  auto base = json::parse(R"({"to": "ann@example.com", "amount": 10, "draft": true})");
  auto h = json_hash(base);
  for (auto changed : {R"({"to": "bob@example.com", "amount": 10, "draft": true})",
                       R"({"to": "ann@example.com", "amount": 10.5, "draft": true})",
                       R"({"to": "ann@example.com", "amount": "10", "draft": true})",
                       R"({"to": "ann@example.com", "amount": 10, "draft": false})",
                       R"({"to": "ann@example.com", "amount": 10, "Draft": true})",
                       R"({"to": "ann@example.com", "amount": 10, "draft": true, "cc": null})",
                       R"({"to": "ann@example.com", "amount": 10})",
                       R"([{"to": "ann@example.com", "amount": 10, "draft": true}])"}) {
    INFO(changed);
    CHECK(json_hash(json::parse(changed)) != h);
  }
}

SCENARIO("numbers beyond a double's exact integers keep their own text", "[agent][json]") {
  CHECK(canonical_json(json::parse("9007199254740993")) == "9007199254740993");
  CHECK(canonical_json(json::parse("1e300")) != canonical_json(json::parse("1e299")));
  CHECK(canonical_json(json::parse("0.1")) == "0.1");
  CHECK(canonical_json(json::parse("-0.0")) == "0");
}

SCENARIO("values without a JSON text of their own have no canonical text", "[agent][json]") {
  json bad = std::string{"\xff\xfe"};
  CHECK_THROWS_AS(canonical_json(bad), std::invalid_argument);
  // nlohmann writes NaN and infinities as null: they must not hash as null.
  CHECK_THROWS_AS(canonical_json(json{{"x", std::nan("")}}), std::invalid_argument);
  CHECK_THROWS_AS(canonical_json(json{{"x", HUGE_VAL}}), std::invalid_argument);
  CHECK_THROWS_AS(canonical_json(json::binary({1, 2})), std::invalid_argument);
}

SCENARIO("an integral float agrees with the integer a model would write", "[agent][json]") {
  CHECK(canonical_json(json::parse("1e16")) == canonical_json(json::parse("10000000000000000")));
  CHECK(canonical_json(json::parse("-1e18")) == "-1000000000000000000");
  CHECK(canonical_json(json::parse("1e19")) == canonical_json(json::parse("10000000000000000000")));
}

SCENARIO("a peer's JSON is parsed strictly", "[agent][json]") {
  using endure::agent::parse_json_strict;
  auto ok = parse_json_strict(R"({"a": {"x": 1}, "b": [{"x": 2}, {"x": 3}]})");
  REQUIRE(ok);
  CHECK((*ok)["b"][1]["x"] == 3);
  GIVEN("a duplicate key, at the top or nested") {
    for (auto text : {R"({"amount": 10, "amount": 1000})",
                      R"({"a": {"to": "ann", "cc": 1, "to": "bob"}})",
                      R"([{"k": 1, "k": 2}])"}) {
      INFO(text);
      auto r = parse_json_strict(text);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == endure::errc::invalid_argument);
      CHECK_THAT(r.error().message, Catch::Contains("duplicate key"));
    }
  }
  GIVEN("nesting beyond the limit") {
    std::string deep(100000, '[');
    auto r = parse_json_strict(deep + std::string(100000, ']'));
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("nested deeper than 64"));
    CHECK(parse_json_strict(std::string(64, '[') + std::string(64, ']')));
  }
  GIVEN("text that is not one JSON value") {
    for (auto text : {"", "{", R"({"a": 1} trailing)", "{'a': 1}", "nul"}) {
      INFO(text);
      CHECK_FALSE(parse_json_strict(text));
    }
  }
}
