// The sim passes data along a chain of tool calls as a model does: a
// property of the arguments named like a field of an earlier tool result
// takes that field's value when it fits the property's schema (the most
// recent result first); anything else is generated as before. And when it
// asks a person (the built-in ask_human tool) it writes a readable, open
// question. Every call here still validates against its schema, checked
// with endure's own validator.
#include "sim_loop_support.hpp"

#include "endure/actors/agent/ask_human_tool.hpp"
#include "endure/actors/agent/json_schema.hpp"

using namespace endure;
using namespace endure::net;
using namespace endure::test;
using json = nlohmann::json;

namespace {

/// A conversation in which tools step0..stepN-1 were called and gave
/// `results` (in that order), and `sink` (with `sink_schema`) is due next.
chat_request flow_request(const std::string& sink_schema, const std::vector<std::string>& results,
                          const std::string& prompt = task) {
  chat_request req;
  req.messages = {chat_message::system("You are a research agent. Use the tools."),
                  chat_message::user(prompt)};
  auto calls = chat_message::assistant("");
  for (std::size_t i = 0; i < results.size(); ++i) {
    auto name = "step" + std::to_string(i);
    req.tools.push_back({name, "", R"({"type":"object","properties":{}})"});
    calls.tool_calls.push_back({"call_" + std::to_string(i), name, "{}"});
  }
  req.tools.push_back({"sink", "", sink_schema});
  if (!results.empty())
    req.messages.push_back(calls);
  for (std::size_t i = 0; i < results.size(); ++i)
    req.messages.push_back(chat_message::tool_result("call_" + std::to_string(i), results[i]));
  return req;
}

/// The arguments of the sim's next call, which must be sink's and valid.
json sink_arguments(const chat_request& req, sim_options o = {}) {
  auto r = engine_answer(o, req);
  REQUIRE(r.tool_calls.size() == 1);
  REQUIRE(r.tool_calls[0].name == "sink");
  auto args = json::parse(r.tool_calls[0].arguments_json);
  const auto& schema = req.tools.back().parameters_schema_json;
  CAPTURE(r.tool_calls[0].arguments_json);
  CHECK(endure::agent::validate(json::parse(schema), args).empty());
  return args;
}

/// sink's arguments after `results`, and after results that carry no JSON
/// (what the sim generates on its own for the same call).
std::pair<json, json> with_and_without(const std::string& schema,
                                       const std::vector<std::string>& results) {
  std::vector<std::string> plain(results.size(), "done");
  return {sink_arguments(flow_request(schema, results)), sink_arguments(flow_request(schema, plain))};
}

const std::string url_schema =
  R"({"type":"object","properties":{"url":{"type":"string","minLength":10,"maxLength":40},)"
  R"("limit":{"type":"integer","minimum":1,"maximum":10}},"required":["url","limit"]})";

} // namespace

// -- data flow: unhappy paths first ------------------------------------------------------

SCENARIO("results that are not JSON objects pass nothing along", "[net][sim][tools][flow]") {
  for (std::string result : {"https://docs.example/a/1", R"(["https://docs.example/a/1"])",
                             R"("https://docs.example/a/1")", "42", "null", "{\"url\": ",
                             R"({"data":{"url":"https://docs.example/a/1"}})"}) {
    CAPTURE(result);
    auto [got, generated] = with_and_without(url_schema, {result});
    // the arguments are those generated without any result (a nested field is not top-level)
    CHECK(got == generated);
    CHECK(got["url"] != "https://docs.example/a/1");
  }
}

SCENARIO("a field that does not fit its property's schema is not passed", "[net][sim][tools][flow]") {
  GIVEN("fields of the wrong type, too long, too short or out of range") {
    for (std::string result : {R"({"url": 42, "limit": "3"})",
                               R"({"url": "https://docs.example/a/much-too-long-for-forty", "limit": 11})",
                               R"({"url": "https://x", "limit": 0})",
                               R"({"url": null, "limit": 2.0})",
                               R"({"url": ["https://docs.example/a/1"], "limit": true})"}) {
      CAPTURE(result);
      auto [got, generated] = with_and_without(url_schema, {result});
      CHECK(got == generated);
    }
  }
  GIVEN("properties with keywords the sim cannot check, enums, formats and patterns") {
    std::string schema =
      R"({"type":"object","properties":{"channel":{"enum":["blog","newsletter"]},)"
      R"("link":{"type":"string","format":"uri"},"code":{"type":"string","pattern":"^[a-z]+$"},)"
      R"("day":{"type":"string","format":"date"},"odd":{"type":"string","x-unknown":1}},)"
      R"("required":["channel","link","code","day","odd"]})";
    auto [got, generated] = with_and_without(
      schema, {R"({"channel":"tv","link":"not a uri","code":"abc","day":"2024-02-30","odd":"x"})"});
    THEN("each keeps its generated value") { CHECK(got == generated); }
  }
  GIVEN("a structured error carrying fields of the right name") {
    auto [got, generated] =
      with_and_without(url_schema, {R"({"error":"timeout","url":"https://docs.example/a/1","limit":3})"});
    THEN("an error is not a result: nothing is passed") { CHECK(got == generated); }
  }
  GIVEN("a schema whose top level ties properties together") {
    for (std::string extra : {R"("patternProperties":{"^u":{"type":"string","maxLength":12}})",
                              R"("if":{"required":["url"]},"then":{"required":["limit"]})", R"("dependencies":{"url":["limit"]})"}) {
      CAPTURE(extra);
      auto schema = url_schema.substr(0, url_schema.size() - 1) + "," + extra + "}";
      auto [got, generated] = with_and_without(schema, {R"({"url":"https://docs.example/a/1"})"});
      CHECK(got == generated);
    }
  }
  GIVEN("a call the prompt asks to break with [sim: bad_args sink]") {
    // Nothing required: the sim breaks it by giving url a number.
    std::string schema = R"({"type":"object","properties":{"url":{"type":"string"}}})";
    auto req = flow_request(schema, {R"({"url":"https://docs.example/a/1"})"},
                            task + " [sim: bad_args sink]");
    auto r = engine_answer({}, req);
    REQUIRE(r.tool_calls.size() == 1);
    THEN("it is still broken: results do not repair it") {
      CHECK_FALSE(endure::agent::validate(json::parse(schema),
                                          json::parse(r.tool_calls[0].arguments_json)).empty());
    }
  }
}

// -- data flow: what is passed --------------------------------------------------------

SCENARIO("a property takes the field of its name from the most recent result it fits",
         "[net][sim][tools][flow]") {
  GIVEN("one result with both fields") {
    auto got = sink_arguments(flow_request(url_schema, {R"({"url":"https://docs.example/a/1","limit":3,"other":1})"}));
    THEN("both are passed, the rest of the result ignored") {
      CHECK(got == json{{"url", "https://docs.example/a/1"}, {"limit", 3}});
    }
  }
  GIVEN("a later result with the same field") {
    auto got = sink_arguments(flow_request(
      url_schema, {R"({"url":"https://docs.example/old","limit":2})", R"({"url":"https://docs.example/new"})"}));
    THEN("the later value wins; a field only the earlier one has still passes") {
      CHECK(got["url"] == "https://docs.example/new");
      CHECK(got["limit"] == 2);
    }
  }
  GIVEN("a later result whose field does not fit, or that is not an object") {
    auto got = sink_arguments(flow_request(
      url_schema, {R"({"url":"https://docs.example/old"})",
                   R"({"url":"https://docs.example/new/and/far/too/long/to/fit"})", "plain text"}));
    THEN("the most recent value that fits is taken") { CHECK(got["url"] == "https://docs.example/old"); }
  }
  GIVEN("arrays, objects, enums and formats that fit") {
    std::string schema =
      R"({"type":"object","properties":{"tags":{"type":"array","items":{"type":"string"},"maxItems":3,"uniqueItems":true},)"
      R"("meta":{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"],"additionalProperties":false},)"
      R"("channel":{"enum":["blog","newsletter"]},"link":{"type":"string","format":"uri"},)"
      R"("at":{"type":"string","format":"date-time"},"who":{"type":["string","null"],"format":"email"}},)"
      R"("required":["tags","meta","channel","link","at","who"],"additionalProperties":false})";
    json result = {{"tags", {"a", "b"}}, {"meta", {{"n", 4}}}, {"channel", "newsletter"},
                   {"link", "http://example.org/x?y=1"}, {"at", "2024-02-29T23:59:60.5+01:00"},
                   {"who", "ann@example.com"}};
    auto got = sink_arguments(flow_request(schema, {result.dump()}));
    THEN("every value is passed as it is") { CHECK(got == result); }
    AND_WHEN("the values break a constraint each") {
      json bad = {{"tags", {"a", "a"}}, {"meta", {{"n", 4}, {"m", 1}}}, {"channel", "Blog"},
                  {"link", "http://exa mple.org"}, {"at", "2023-02-29T10:00:00Z"}, {"who", "ann"}};
      auto [kept, generated] = with_and_without(schema, {bad.dump()});
      THEN("none is passed") { CHECK(kept == generated); }
    }
  }
  GIVEN("the same conversation twice, and another seed") {
    auto req = flow_request(url_schema, {R"({"url":"https://docs.example/a/1"})"});
    sim_options other;
    other.seed = 9;
    THEN("the same arguments, byte for byte; the passed value whatever the seed") {
      CHECK(engine_answer({}, req).tool_calls[0].arguments_json ==
            engine_answer({}, req).tool_calls[0].arguments_json);
      CHECK(sink_arguments(req, other)["url"] == "https://docs.example/a/1");
    }
  }
}

SCENARIO("in an agent loop each tool gets what the one before returned", "[net][sim][tools][flow]") {
  auto req = agent_request(task);
  auto tools = [](const tool_call& c) -> std::string {
    auto wrong = problems(c.arguments_json, tool_named(c.name)->parameters_schema_json);
    if (!wrong.empty())
      return json{{"error", "invalid_arguments"}, {"problems", wrong}}.dump();
    if (c.name == "search")
      return R"({"url":"https://docs.example/lmdb/1","max_chars":1200})";
    if (c.name == "read")
      return R"({"title":"LMDB journals in practice","tags":["lmdb","journal"]})";
    return R"({"published":true})";
  };
  auto t = run_agent(engine({}), req, tools);
  REQUIRE(t.called() == std::vector<std::string>{"search", "read", "publish"});
  auto read = json::parse(t.turns[1].tool_calls[0].arguments_json);
  auto publish = json::parse(t.turns[2].tool_calls[0].arguments_json);
  CHECK(read == json{{"url", "https://docs.example/lmdb/1"}, {"max_chars", 1200}});
  CHECK(publish["title"] == "LMDB journals in practice");
  CHECK(publish["tags"] == json{"lmdb", "journal"});
}

// -- asking a person ---------------------------------------------------------------------

namespace {

/// A conversation offering ask_human with `schema` (the built-in one by
/// default) and search, to a sim with confidence 0.23.
chat_request question_request(const std::string& prompt, std::string schema = "") {
  const auto& ask = endure::agent::ask_human_definition();
  chat_request req;
  req.messages = {chat_message::system("You research keywords. [sim: confidence 0.23]"),
                  chat_message::user(prompt)};
  req.tools = {{ask.name, ask.description, schema.empty() ? ask.parameters.dump() : schema},
               agent_tools()[0], agent_tools()[2]};
  return req;
}

json question_arguments(const chat_request& req) {
  auto r = engine_answer({}, req);
  REQUIRE(r.tool_calls.size() == 1);
  REQUIRE(r.tool_calls[0].name == "ask_human");
  auto args = json::parse(r.tool_calls[0].arguments_json);
  CAPTURE(r.tool_calls[0].arguments_json);
  CHECK(endure::agent::validate(json::parse(req.tools[0].parameters_schema_json), args).empty());
  return args;
}

} // namespace

SCENARIO("an unsure sim asks a person an open question in words", "[net][sim][tools][ask_human]") {
  GIVEN("an offered schema that requires choices, a short question, or fixed questions") {
    for (std::string schema :
         {R"({"type":"object","properties":{"question":{"type":"string"},"choices":{"type":"array","items":{"type":"string"},"minItems":2}},"required":["question","choices"]})",
          R"({"type":"object","properties":{"question":{"type":"string","maxLength":12}},"required":["question"]})",
          R"({"type":"object","properties":{"question":{"enum":["Which audience?","Which length?"]}},"required":["question"]})"}) {
      CAPTURE(schema);
      auto args = question_arguments(question_request("Keyword: actor model", schema));
      // it falls back to filling the schema, which still validates
      CHECK_THAT(args["question"].get<std::string>(), !Catch::Contains("not clear to me"));
    }
  }
  GIVEN("a schema that takes no context") {
    auto args = question_arguments(question_request(
      "Keyword: actor model",
      R"({"type":"object","properties":{"question":{"type":"string","minLength":1}},"required":["question"],"additionalProperties":false})"));
    THEN("the question alone") { CHECK(args.size() == 1); }
  }
  GIVEN("a user message of many words, lines and a directive, or one huge word, or none") {
    auto many = question_arguments(question_request(
      "Keyword: actor model\nSearch intent: ambiguous. [sim: parallel 2] Please write about it for "
      "engineers who build services, today."));
    auto huge = question_arguments(question_request(std::string(5000, 'x')));
    auto empty = question_arguments(question_request("[sim: parallel 2]"));
    THEN("the first 12 words on one line, shortened with ..., or no quote") {
      CHECK(many["question"] ==
            "Your request is not clear to me (confidence 0.23). What should I focus on: Keyword: "
            "actor model Search intent: ambiguous. Please write about it for engineers...?");
      auto h = huge["question"].get<std::string>();
      CHECK(h.size() < 300);
      CHECK_THAT(h, Catch::EndsWith("xxx...?"));
      CHECK(empty["question"] ==
            "Your request is not clear to me (confidence 0.23). What should I focus on?");
    }
  }
  GIVEN("the built-in ask_human schema and a short request") {
    auto args = question_arguments(question_request("Keyword: actor model\nSearch intent: ambiguous"));
    THEN("an open question quoting it, a one-line context, no choices") {
      CHECK(args["question"] == "Your request is not clear to me (confidence 0.23). What should I "
                                "focus on: Keyword: actor model Search intent: ambiguous?");
      CHECK(args["context"] ==
            "Tools I can use next: search and publish. Your answer decides what they work on.");
      CHECK_FALSE(args.contains("choices"));
      auto q = endure::agent::question_of(args);
      CHECK(q.choices.empty());
    }
  }
  GIVEN("a sure sim told to ask by [sim: call ask_human]") {
    auto req = question_request("Keyword: rust [sim: call ask_human; confidence 0.8]");
    auto args = question_arguments(req);
    THEN("it says it checks before going on") {
      CHECK(args["question"] == "I want to check with you before I go on (confidence 0.80). What "
                                "should I focus on: Keyword: rust?");
    }
  }
}
