// An approval is bound to the hash of a call's canonical arguments: the same
// call written differently must hash the same, and any change must not.
#include <catch2/catch.hpp>

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

SCENARIO("a string that is not UTF-8 has no canonical text", "[agent][json]") {
  json bad = std::string{"\xff\xfe"};
  CHECK_THROWS_AS(canonical_json(bad), json::type_error);
}
