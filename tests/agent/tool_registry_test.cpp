// Every tool call a model makes passes the registry before it runs. Whatever
// the model wrote (no JSON, half a JSON, the wrong shape, a 100k-deep
// nesting, a tool that does not exist) must come back as a tool error the
// model can correct, never an exception or a crash; and a tool whose name or
// schema the model could not use correctly must be refused when added.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "endure/actors/agent/ask_human_tool.hpp"
#include "endure/actors/agent/tool_registry.hpp"

using namespace endure::agent;
using endure::errc;
using endure::net::tool_call;
using nlohmann::json;
using Catch::Matchers::Contains;

namespace {

json send_email_schema() {
  return json::parse(R"({
    "type": "object",
    "properties": {
      "to": {"type": "string", "pattern": "^[^@]+@[^@]+$"},
      "subject": {"type": "string", "maxLength": 100},
      "priority": {"enum": ["low", "high"]}
    },
    "required": ["to", "subject"],
    "additionalProperties": false
  })");
}

tool send_email() {
  return {"send_email", "Send an email.", send_email_schema(),
          [](const endure::step_info& step, const json& args) {
            return json{{"sent_to", args["to"]}, {"key", step.idempotency_key}};
          },
          true};
}

tool search() {
  return {"search", "Search the web.",
          json::parse(R"({"type": "object", "properties": {"q": {"type": "string"}}})"),
          [](const json& args) { return json{{"hits", json::array({args.value("q", "")})}}; }};
}

tool_registry registry_with_tools() {
  tool_registry r;
  REQUIRE(r.add(send_email()));
  REQUIRE(r.add(search()));
  return r;
}

/// The tool error for a call that must be refused.
tool_error refused(const tool_registry& r, const std::string& name, const std::string& args) {
  call_preparation prepared = r.prepare_call(tool_call{"call_1", name, args});
  INFO(name << " " << args.substr(0, 200));
  REQUIRE_FALSE(prepared);
  // Whatever was refused, the answer is JSON the chat request can carry.
  CHECK_NOTHROW(prepared.error().to_json().dump());
  return prepared.error();
}

} // namespace

// -- prepare_call: malformed calls ---------------------------------------------

SCENARIO("a call to a tool that does not exist lists the tools there are", "[agent][tools]") {
  auto r = registry_with_tools();
  auto e = refused(r, "send_mail", R"({"to": "a@b"})");
  CHECK(e.kind == tool_error_kind::unknown_tool);
  CHECK(e.available_tools == std::vector<std::string>{"search", "send_email"});
  auto j = e.to_json();
  CHECK(j["error"] == "unknown_tool");
  CHECK(j["tool"] == "send_mail");
  CHECK(j["message"] == "there is no tool named 'send_mail'; call one of: search, send_email");
  CHECK(j["available_tools"] == json::array({"search", "send_email"}));
  CHECK(j["violations"] == json::array());
  CHECK_FALSE(j.contains("parameters"));
  GIVEN("an empty registry or a name that is not UTF-8") {
    CHECK(refused(tool_registry{}, "x", "{}").message == "there is no tool named 'x'; no tools are available");
    CHECK(refused(r, "\xff\xfe", "{}").kind == tool_error_kind::unknown_tool);
  }
}

SCENARIO("arguments that are not JSON are refused with the parser's reason", "[agent][tools]") {
  auto r = registry_with_tools();
  for (std::string bad : {"to=a@b", "{'to': 'a@b'}", R"({"to": "a@b", "subject": "hi")",  // truncated
                          R"({"to": "a@b",)", R"({"to": "a@b"} {"x": 1})", "{\"to\": \"\xff\"}",
                          R"({"n": 1e400})", R"({"to": "a@b", /* c */ "subject": "x"})", "nul",
                          R"({"to": "unterminated)"}) {
    auto e = refused(r, "send_email", bad);
    CHECK(e.kind == tool_error_kind::invalid_json);
    CHECK_THAT(e.message, Contains("the arguments are not valid JSON: "));
    CHECK(e.parameters == send_email_schema());  // the model gets the schema to follow
    CHECK(e.to_json()["error"] == "invalid_json");
  }
  CHECK_THAT(refused(r, "send_email", R"({"to": "a@b",)").message,
             Contains("parse error at line 1, column 14"));
  CHECK_THAT(refused(r, "send_email", R"({"n": 1e400})").message, Contains("number overflow"));
}

SCENARIO("arguments with a duplicate key are refused, not read as the last value",
         "[agent][tools]") {
  auto r = registry_with_tools();
  // A reviewer shown the first "to" must not approve a call that sends to the second.
  auto e = refused(r, "send_email",
                   R"({"to": "ann@example.com", "subject": "hi", "to": "all@example.com"})");
  CHECK(e.kind == tool_error_kind::invalid_json);
  CHECK_THAT(e.message, Contains("duplicate key \"to\""));
}

SCENARIO("arguments that are JSON but not an object are refused", "[agent][tools]") {
  auto r = registry_with_tools();
  for (auto [text, type] : std::vector<std::pair<std::string, std::string>>{
         {R"([{"to": "a@b", "subject": "x"}])", "array"}, {R"("a@b")", "string"},
         {"42", "integer"}, {"null", "null"}, {"true", "boolean"}}) {
    auto e = refused(r, "send_email", text);
    CHECK(e.kind == tool_error_kind::invalid_arguments);
    CHECK(e.message == "the arguments must be a JSON object, got " + type);
  }
}

SCENARIO("arguments that break the schema list every violation", "[agent][tools]") {
  auto r = registry_with_tools();
  GIVEN("a wrong type, a missing required property and an extra one") {
    auto e = refused(r, "send_email", R"({"to": 7, "cc": "b@c", "priority": "urgent"})");
    CHECK(e.kind == tool_error_kind::invalid_arguments);
    CHECK(e.message == "4 violation(s) of the parameters schema; fix them and call again");
    REQUIRE(e.violations.size() == 4);
    CHECK(e.violations[0] == schema_violation{"", "missing required property 'subject'"});
    CHECK(e.violations[1] == schema_violation{"/cc", "property 'cc' is not allowed; allowed: priority, subject, to"});
    CHECK(e.violations[2].path == "/priority");
    CHECK(e.violations[3] == schema_violation{"/to", "expected string, got integer"});
    auto j = e.to_json();
    CHECK(j["violations"][3] == json{{"path", "/to"}, {"message", "expected string, got integer"}});
    CHECK(j["parameters"] == send_email_schema());
    CHECK_FALSE(j.contains("available_tools"));
  }
  GIVEN("more violations than are listed") {
    tool_registry small{call_limits{.max_listed_violations = 2}};
    REQUIRE(small.add(send_email()));
    auto e = refused(small, "send_email", R"({"a": 1, "b": 2, "c": 3})");
    CHECK(e.violations.size() == 2);
    CHECK_THAT(e.message, Contains("5 violation(s)") && Contains("(the first 2 are listed)"));
  }
}

SCENARIO("arguments too deep or too long are refused before parsing", "[agent][tools]") {
  auto r = registry_with_tools();
  GIVEN("100k levels of nesting, closed or truncated, arrays or objects") {
    for (std::string deep : {std::string(100000, '[') + std::string(100000, ']'),
                             std::string(100000, '['),
                             "{\"q\": " + std::string(100000, '[')}) {
      auto e = refused(r, "search", deep);
      CHECK(e.kind == tool_error_kind::invalid_arguments);
      CHECK(e.message == "the arguments nest deeper than 64 levels; flatten them");
    }
    std::string objects;
    for (int i = 0; i < 100000; ++i)
      objects += "{\"a\":";
    CHECK(refused(r, "search", objects).kind == tool_error_kind::invalid_arguments);
  }
  GIVEN("brackets inside strings, which do not nest") {
    std::string text = R"({"q": ")" + std::string(1000, '[') + R"(\"{"})";
    auto prepared = r.prepare_call({"c", "search", text});
    REQUIRE(prepared);
    CHECK(prepared->arguments["q"].get<std::string>().size() == 1002);
  }
  GIVEN("exactly the limit") {
    std::string at_limit = "{\"q\": \"x\", \"deep\": " + std::string(63, '[') + std::string(63, ']') + "}";
    CHECK(r.prepare_call({"c", "search", at_limit}));
    std::string over = "{\"q\": \"x\", \"deep\": " + std::string(64, '[') + std::string(64, ']') + "}";
    CHECK(refused(r, "search", over).kind == tool_error_kind::invalid_arguments);
  }
  GIVEN("arguments longer than the limit") {
    tool_registry small{call_limits{.max_argument_bytes = 100}};
    REQUIRE(small.add(search()));
    auto e = refused(small, "search", R"({"q": ")" + std::string(200, 'x') + "\"}");
    CHECK(e.message == "the arguments are 209 bytes; the limit is 100");
    CHECK(small.prepare_call({"c", "search", R"({"q": "short"})"}));
  }
}

// -- prepare_call: calls that run ----------------------------------------------

SCENARIO("a valid call resolves to its tool and runs with the idempotency key", "[agent][tools]") {
  auto r = registry_with_tools();
  auto prepared = r.prepare_call({"call_9", "send_email", R"({"subject": "hi", "to": "ann@x"})"});
  REQUIRE(prepared);
  CHECK(prepared->target == r.find("send_email"));
  CHECK(prepared->target->irreversible);
  CHECK(prepared->arguments == json{{"to", "ann@x"}, {"subject", "hi"}});
  endure::step_info step{"run-1", "send_email", 4, 1, "run-1/4"};
  CHECK(prepared->invoke(step) == json{{"sent_to", "ann@x"}, {"key", "run-1/4"}});
  GIVEN("a tool written without step_info") {
    auto q = r.prepare_call({"c", "search", R"({"q": "durable"})"});
    REQUIRE(q);
    CHECK_FALSE(q->target->irreversible);
    CHECK(q->invoke(step) == json{{"hits", {"durable"}}});
  }
  GIVEN("empty arguments text for a tool that needs none") {
    for (auto blank : {"", "  \n", "{}"}) {
      auto q = r.prepare_call({"c", "search", blank});
      REQUIRE(q);
      CHECK(q->arguments == json::object());
    }
    CHECK_THAT(refused(r, "send_email", "").message, Contains("2 violation(s)"));
  }
}

// -- add: tools the model could not call correctly ------------------------------

SCENARIO("a duplicate name is refused and the first tool kept", "[agent][tools]") {
  auto r = registry_with_tools();
  auto again = search();
  again.description = "another";
  auto added = r.add(again);
  REQUIRE_FALSE(added);
  CHECK(added.error().code == errc::already_exists);
  CHECK(added.error().message ==
        "tool 'search': a tool of this name is already registered; choose another name");
  CHECK(r.find("search")->description == "Search the web.");
  CHECK(r.list().size() == 2);
}

SCENARIO("the built-in ask_human's name is reserved", "[agent][tools]") {
  auto r = registry_with_tools();
  auto mine = search();
  mine.name = "ask_human";
  auto added = r.add(mine);
  REQUIRE_FALSE(added);
  CHECK(added.error().code == errc::invalid_argument);
  CHECK_THAT(added.error().message, Contains("tool 'ask_human': the name is reserved for the "
                                             "built-in tool") && Contains("agent_spec::tools"));
  CHECK(r.find("ask_human") == nullptr);
  CHECK(r.list().size() == 2);
  for (std::string near : {"Ask_Human", "ask_human2", "ask-human"}) {  // only the exact name
    mine.name = near;
    CHECK(r.add(mine));
  }
}

SCENARIO("a model's ask_human arguments are checked like any tool's", "[agent][tools]") {
  tool_registry r;
  const tool& ask = ask_human_definition();
  CHECK(ask.name == ask_human_tool);
  CHECK(check_schema(ask.parameters));
  auto refused = [&](const std::string& args) {
    auto prepared = r.prepare_arguments(ask, args);
    INFO(args);
    REQUIRE_FALSE(prepared);
    CHECK(prepared.error().tool == "ask_human");
    CHECK(prepared.error().parameters == ask.parameters);
    return prepared.error();
  };
  CHECK(refused("{\"question\": ").kind == tool_error_kind::invalid_json);
  CHECK(refused("[\"Which?\"]").kind == tool_error_kind::invalid_arguments);
  for (std::string bad : {R"({})", R"({"question": ""})", R"({"question": 5})",
                          R"({"question": "Which?", "choices": "a, b"})",
                          R"({"question": "Which?", "choices": ["a", 2]})",
                          R"({"question": "Which?", "context": ["x"]})",
                          R"({"question": "Which?", "urgent": true})"}) {
    auto e = refused(bad);
    CHECK(e.kind == tool_error_kind::invalid_arguments);
    CHECK(e.to_json()["violations"].size() >= 1);
  }
  auto ok = r.prepare_arguments(ask, R"({"question": "Which audience?",
                                         "choices": ["engineers", "managers"],
                                         "context": "the post goes out today"})");
  REQUIRE(ok);
  auto q = question_of(ok->arguments);
  CHECK(q.question == "Which audience?");
  CHECK(q.choices == std::vector<std::string>{"engineers", "managers"});
  CHECK(q.context == "the post goes out today");
  auto bare = question_of(r.prepare_arguments(ask, R"({"question": "Why?"})")->arguments);
  CHECK(bare.choices.empty());
  CHECK(bare.context.empty());
  CHECK(answer_result("engineers") == json{{"answer", "engineers"}});
}

SCENARIO("a name outside [a-zA-Z0-9_-]{1,64} is refused", "[agent][tools]") {
  tool_registry r;
  for (std::string bad : std::vector<std::string>{"", "send email", "send.email", "ümlaut", "a/b", "x\n", std::string(65, 'a')}) {
    auto t = search();
    t.name = bad;
    auto added = r.add(t);
    INFO(bad);
    REQUIRE_FALSE(added);
    CHECK(added.error().code == errc::invalid_argument);
    CHECK_THAT(added.error().message, Contains("the name must be 1 to 64 of a-z"));
  }
  for (std::string good : std::vector<std::string>{"a", "Send_Email-2", std::string(64, 'z')}) {
    auto t = search();
    t.name = good;
    CHECK(r.add(t));
  }
  CHECK(r.list().size() == 3);
}

SCENARIO("a tool whose schema would not be enforced, or not sent, is refused", "[agent][tools]") {
  tool_registry r;
  auto refusal = [&](tool t) {
    auto added = r.add(std::move(t));
    REQUIRE_FALSE(added);
    CHECK(added.error().code == errc::invalid_argument);
    return added.error().message;
  };
  auto with = [](json parameters) {
    auto t = search();
    t.parameters = std::move(parameters);
    return t;
  };
  CHECK(refusal(with(json::parse(R"({"type": "object", "properties": {"n": {"multipleOf": 3}}})")))
        .rfind("tool 'search': parameters: the schema is refused: /properties/n/multipleOf: "
               "keyword 'multipleOf' is not supported", 0) == 0);
  CHECK_THAT(refusal(with(json::parse(R"({"type": "object", "properties": {"s": {"pattern": "("}}})"))),
             Contains("/properties/s/pattern"));
  for (auto not_object : {R"({"type": "array"})", R"({"properties": {}})", R"("object")", "true",
                          R"({"type": ["object", "null"]})"})
    CHECK_THAT(refusal(with(json::parse(not_object))), Contains("parameters must be an object schema"));
  CHECK_THAT(refusal(with(json{{"type", "object"}, {"description", "\xff"}})), Contains("not valid UTF-8"));
  auto bad_text = search();
  bad_text.description = "caf\xe9";
  CHECK_THAT(refusal(bad_text), Contains("not valid UTF-8"));
  auto no_function = search();
  no_function.function = {};
  CHECK_THAT(refusal(no_function), Contains("no function to run it"));
  CHECK(r.list().empty());
}

SCENARIO("the definitions offered to the model do not depend on the order of add()", "[agent][tools]") {
  tool_registry a, b;
  REQUIRE(a.add(send_email()));
  REQUIRE(a.add(search()));
  REQUIRE(b.add(search()));
  REQUIRE(b.add(send_email()));
  auto defs = a.to_definitions();
  REQUIRE(defs.size() == 2);
  CHECK(defs[0].name == "search");
  CHECK(defs[1].name == "send_email");
  CHECK(defs[1].description == "Send an email.");
  CHECK(json::parse(defs[1].parameters_schema_json) == send_email_schema());
  auto other = b.to_definitions();
  REQUIRE(other.size() == 2);
  for (std::size_t i = 0; i < 2; ++i)
    CHECK(other[i].parameters_schema_json == defs[i].parameters_schema_json);
  CHECK(a.find("nope") == nullptr);
  CHECK(tool{}.parameters == json::parse(R"({"type": "object", "properties": {}})"));
}
