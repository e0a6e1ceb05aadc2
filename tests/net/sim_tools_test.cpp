// The `sim` model as the brain of an agent loop: given the conversation so
// far it calls the offered tools it has not called yet, with arguments that
// validate against their schemas, acts on structured errors and
// rejections, obeys `[sim: ...]` directives, carries a confidence on every
// turn, and then answers with what the tools gave. The loop is driven by
// hand here (call the sim, run fake tools, call again), through the engine,
// the in-process sim_model and the fake server over loopback HTTP.
#include "net_test_support.hpp"

#include "endure/net/fake_openai_server.hpp"
#include "endure/net/openai_client.hpp"
#include "endure/net/openai_codec.hpp"
#include "endure/net/sim_engine.hpp"
#include "endure/net/sim_model.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <set>

using namespace endure;
using namespace endure::net;
using namespace endure::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// -- tools and a schema check written by hand --------------------------------------

const std::vector<tool_definition>& agent_tools() {
  static const std::vector<tool_definition> tools = {
    {"search", "Search the web",
     R"({"type":"object","properties":{"query":{"type":"string","minLength":3},"limit":{"type":"integer","minimum":1,"maximum":10}},"required":["query"],"additionalProperties":false})"},
    {"read", "Read a page",
     R"({"type":"object","properties":{"url":{"type":"string","format":"uri"},"max_chars":{"type":"integer","maximum":5000}},"required":["url","max_chars"]})"},
    {"publish", "Publish a post",
     R"({"type":"object","properties":{"title":{"type":"string","maxLength":40},"channel":{"enum":["blog","newsletter"]},"draft":{"type":"boolean"},"score":{"type":"number","minimum":0.5,"maximum":0.9},"tags":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":3}},"required":["title","channel","draft","tags"]})"},
  };
  return tools;
}

/// Corners of the keywords: a bound on one side only, a string of one
/// exact length, a one-value range, an array that must be empty.
const tool_definition& edge_tool() {
  static const tool_definition tool = {
    "tune", "Edge cases of the schema keywords",
    R"({"type":"object","properties":{"offset":{"type":"number","maximum":-5},"code":{"type":"string","minLength":12,"maxLength":12},"level":{"type":"integer","minimum":3,"maximum":3},"none":{"type":"array","maxItems":0}},"required":["offset","code","level","none"]})"};
  return tool;
}

const tool_definition* tool_named(const std::string& name) {
  for (const auto& t : agent_tools())
    if (t.name == name)
      return &t;
  return name == edge_tool().name ? &edge_tool() : nullptr;
}

bool has_type(const json& v, const std::string& type) {
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  if (type == "array") return v.is_array();
  if (type == "object") return v.is_object();
  if (type == "null") return v.is_null();
  return false;
}

/// What is wrong with `v` under `schema`: the keywords our tools use.
void check(const json& v, const json& schema, const std::string& at, std::vector<std::string>& out) {
  if (schema.contains("type") && !has_type(v, schema["type"].get<std::string>())) {
    out.push_back(at + " is not " + schema["type"].get<std::string>());
    return;
  }
  if (schema.contains("enum") &&
      std::find(schema["enum"].begin(), schema["enum"].end(), v) == schema["enum"].end())
    out.push_back(at + " is not in the enum");
  if (v.is_number()) {
    if (schema.contains("minimum") && v.get<double>() < schema["minimum"].get<double>())
      out.push_back(at + " is below its minimum");
    if (schema.contains("maximum") && v.get<double>() > schema["maximum"].get<double>())
      out.push_back(at + " is above its maximum");
  }
  if (v.is_string()) {
    auto n = v.get<std::string>().size();
    if (schema.contains("minLength") && n < schema["minLength"].get<std::size_t>())
      out.push_back(at + " is too short");
    if (schema.contains("maxLength") && n > schema["maxLength"].get<std::size_t>())
      out.push_back(at + " is too long");
    if (schema.value("format", "") == "uri" && v.get<std::string>().rfind("https://", 0) != 0)
      out.push_back(at + " is not a URI");
  }
  if (v.is_array()) {
    if (schema.contains("minItems") && v.size() < schema["minItems"].get<std::size_t>())
      out.push_back(at + " has too few items");
    if (schema.contains("maxItems") && v.size() > schema["maxItems"].get<std::size_t>())
      out.push_back(at + " has too many items");
    for (std::size_t i = 0; i < v.size() && schema.contains("items"); ++i)
      check(v[i], schema["items"], at + "[" + std::to_string(i) + "]", out);
  }
  if (v.is_object()) {
    for (const auto& name : schema.value("required", json::array()))
      if (!v.contains(name.get<std::string>()))
        out.push_back(at + "." + name.get<std::string>() + " is missing");
    const auto props = schema.value("properties", json::object());
    for (const auto& [name, value] : v.items()) {
      if (props.contains(name))
        check(value, props[name], at + "." + name, out);
      else if (schema.value("additionalProperties", true) == false)
        out.push_back(at + "." + name + " is not allowed");
    }
  }
}

std::vector<std::string> problems(const std::string& arguments_json, const std::string& schema_json) {
  std::vector<std::string> out;
  auto v = json::parse(arguments_json, nullptr, false);
  if (v.is_discarded())
    out.push_back("arguments are not JSON");
  else
    check(v, json::parse(schema_json), "$", out);
  return out;
}

// -- the loop, driven by hand ------------------------------------------------------

using model_fn = std::function<chat_response(const chat_request&)>;
using tools_fn = std::function<std::string(const tool_call&)>;

struct transcript {
  std::vector<chat_response> turns;
  chat_request last; ///< the conversation the final answer answered
  const chat_response& final_answer() const { return turns.back(); }
  std::vector<std::string> called() const {
    std::vector<std::string> out;
    for (const auto& t : turns)
      for (const auto& c : t.tool_calls)
        out.push_back(c.name);
    return out;
  }
};

/// Model, tools, model, ... until an answer without tool calls (at most
/// `max_turns`).
transcript run_agent(const model_fn& model, chat_request req, const tools_fn& tools,
                     int max_turns = 12) {
  transcript t;
  for (int turn = 0; turn < max_turns; ++turn) {
    t.turns.push_back(model(req));
    const auto& r = t.turns.back();
    if (r.tool_calls.empty()) {
      t.last = req;
      return t;
    }
    req.messages.push_back({chat_role::assistant, r.content, r.tool_calls, {}});
    for (const auto& c : r.tool_calls)
      req.messages.push_back(chat_message::tool_result(c.id, tools(c)));
  }
  FAIL("the sim gave no final answer in " << max_turns << " turns");
  return t;
}

/// A tool runtime that checks names and arguments first, as an agent does.
std::string run_tool(const tool_call& c) {
  const tool_definition* tool = tool_named(c.name);
  if (!tool)
    return R"({"error":"unknown_tool","message":"no tool named )" + c.name + "\"}";
  auto wrong = problems(c.arguments_json, tool->parameters_schema_json);
  if (!wrong.empty())
    return json{{"error", "invalid_arguments"}, {"problems", wrong}}.dump();
  if (c.name == "search")
    return "Found three articles: lmdb journaling, actor supervision and deterministic replay";
  if (c.name == "read")
    return "The article explains journaling with group commit";
  return R"({"published":true,"post":"https://blog.example.com/posts/42"})";
}

/// The sim as a pure function: request body in, wire answer out, decoded
/// with the client's code. `body` receives the exact bytes answered.
chat_response engine_answer(const sim_options& o, const chat_request& req,
                            std::string* body = nullptr) {
  auto wire = encode_chat_request(req, "sim");
  REQUIRE(wire);
  auto reply = simulate_chat(o, *wire, req.attempt);
  REQUIRE(reply.fault == sim_fault::none);
  REQUIRE(reply.response.status == 200);
  if (body)
    *body = reply.response.body;
  auto r = decode_chat_response(reply.response.body, "application/json", req, "sim test");
  REQUIRE(r);
  return *r;
}

model_fn engine(sim_options o) {
  return [o](const chat_request& req) { return engine_answer(o, req); };
}

chat_request agent_request(const std::string& prompt) {
  chat_request req;
  req.messages = {chat_message::system("You are a research agent. Use the tools."),
                  chat_message::user(prompt)};
  req.tools = agent_tools();
  req.request_confidence = true;
  return req;
}

const std::string task = "Write a short post on durable agent runtimes built on LMDB journals";

} // namespace

// -- unhappy paths first -----------------------------------------------------------

SCENARIO("malformed directives, results and schemas never break the sim", "[net][sim][tools]") {
  sim_options o;
  GIVEN("directives it does not understand") {
    for (std::string junk : {"[sim: fly away]", "[sim: parallel zero]", "[sim: parallel 0]",
                             "[sim: parallel -2]", "[sim: confidence 7]", "[sim: confidence nan]",
                             "[sim: confidence 0.3x]", "[sim:]", "[sim: ;;]", "[sim: call]",
                             "[sim: bad_args]", "[sim: confidence 0.2", "[sim", "[[sim: no]",
                             "[ SIM : parallel 99999999999999999999999]"}) {
      CAPTURE(junk);
      auto r = engine_answer(o, agent_request(task + " " + junk));
      THEN("the sim behaves as without them: one call of the first tool, a normal confidence") {
        REQUIRE(r.tool_calls.size() == 1);
        CHECK(r.tool_calls[0].name == "search");
        REQUIRE(r.confidence);
        CHECK(*r.confidence >= 0.55);
      }
    }
  }
  GIVEN("tool results that are not JSON, not objects, or errors of odd shapes") {
    auto tools = [](const tool_call& c) -> std::string {
      if (c.name == "search") return "<html>not json</html>";
      if (c.name == "read") return R"({"error": null, "text": "fine after all"})";
      return R"({"error": 5})";
    };
    auto t = run_agent(engine(o), agent_request(task), tools);
    THEN("text and a null error are results, any other error a failure it goes on from") {
      CHECK(t.called() == std::vector<std::string>{"search", "read", "publish"});
      CHECK_THAT(t.final_answer().content, Catch::Contains("search returned html") &&
                                             Catch::Contains("read returned error, null and text") &&
                                             Catch::Contains("publish failed (error)"));
    }
  }
  GIVEN("a result quoting no call, and one for a call id that never existed") {
    auto req = agent_request(task);
    req.messages.push_back(chat_message::tool_result("call_nobody", "stray"));
    auto r = engine_answer(o, req);
    THEN("it is ignored: the plan starts from the first tool") {
      REQUIRE(r.tool_calls.size() == 1);
      CHECK(r.tool_calls[0].name == "search");
    }
  }
  GIVEN("a tool whose parameters are not an object schema, or are empty") {
    auto req = agent_request(task);
    req.tools = {{"odd", "", R"({"type":"array","items":{"type":"integer"}})"}, {"bare", "", "{}"},
                 {"nameless_required", "", R"({"type":"object","required":["ghost"]})"}};
    auto t = run_agent(engine(o), req, [](const tool_call&) { return std::string("ok"); });
    THEN("arguments still follow what the schema says") {
      REQUIRE(t.turns.size() == 4);
      CHECK(json::parse(t.turns[0].tool_calls[0].arguments_json).is_array());
      CHECK(json::parse(t.turns[1].tool_calls[0].arguments_json).is_object());
      CHECK(json::parse(t.turns[2].tool_calls[0].arguments_json).contains("ghost"));
    }
  }
}

SCENARIO("a structured error is acted on", "[net][sim][tools]") {
  sim_options o;
  GIVEN("a rejection of publish") {
    auto tools = [](const tool_call& c) {
      if (c.name == "publish")
        return std::string(R"({"error":"rejected","reason":"the editor wants sources cited"})");
      return run_tool(c);
    };
    auto t = run_agent(engine(o), agent_request(task), tools);
    THEN("publish is never called again and the answer says why it was left undone") {
      CHECK(t.called() == std::vector<std::string>{"search", "read", "publish"});
      CHECK_THAT(t.final_answer().content,
                 Catch::Contains("publish was rejected (the editor wants sources cited)") &&
                   Catch::Contains("did not call it again"));
      CHECK(t.final_answer().finish_reason == "stop");
    }
    AND_WHEN("the agent keeps offering publish on later turns") {
      auto again = t.last;
      again.messages.push_back(chat_message::user("Anything else?"));
      auto r = engine_answer(o, again);
      THEN("it still does not call it") { CHECK(r.tool_calls.empty()); }
    }
  }
  GIVEN("invalid_arguments from the agent's own check, every time") {
    auto tools = [](const tool_call& c) {
      if (c.name == "read")
        return std::string(R"({"error":"invalid_arguments","problems":["url: host not allowed"]})");
      return run_tool(c);
    };
    auto t = run_agent(engine(o), agent_request(task), tools);
    THEN("read is retried once with regenerated arguments, then left out") {
      CHECK(t.called() == std::vector<std::string>{"search", "read", "read", "publish"});
      CHECK(t.turns[1].tool_calls[0].arguments_json != t.turns[2].tool_calls[0].arguments_json);
      CHECK(problems(t.turns[2].tool_calls[0].arguments_json,
                     tool_named("read")->parameters_schema_json).empty());
      CHECK_THAT(t.turns[2].content, Catch::Contains("read again, with corrected arguments"));
      CHECK_THAT(t.final_answer().content,
                 Catch::Contains("read failed (invalid_arguments) twice, so I went on without it"));
    }
  }
  GIVEN("unknown_tool for an offered tool (the agent disabled it)") {
    auto tools = [](const tool_call& c) {
      if (c.name == "search")
        return std::string(R"({"error":{"code":"unknown_tool","message":"search is off"}})");
      return run_tool(c);
    };
    auto t = run_agent(engine(o), agent_request(task), tools);
    THEN("it is retried once too (the error's code read from an error object)") {
      CHECK(t.called() == std::vector<std::string>{"search", "search", "read", "publish"});
    }
  }
  GIVEN("any other error") {
    auto tools = [](const tool_call& c) {
      if (c.name == "search")
        return std::string(R"({"error":"timeout","message":"upstream took too long"})");
      return run_tool(c);
    };
    auto t = run_agent(engine(o), agent_request(task), tools);
    THEN("the sim goes on without that tool, no retry") {
      CHECK(t.called() == std::vector<std::string>{"search", "read", "publish"});
      CHECK_THAT(t.final_answer().content, Catch::Contains("search failed (timeout), so I went on"));
    }
  }
}

// -- the happy loop --------------------------------------------------------------------

SCENARIO("an agent loop driven by hand calls each tool once, then answers", "[net][sim][tools]") {
  sim_options o;
  o.seed = 11;
  sim_model model([&] {
    llm_config c;
    c.sim = o;
    return c;
  }());
  auto in_process = [&](const chat_request& req) {
    auto r = await_result<chat_response>([&](auto done) { model.chat(req, done); });
    REQUIRE(r);
    return *r;
  };
  auto t = run_agent(in_process, agent_request(task), run_tool);

  THEN("one tool per turn, in the order offered, then a final answer") {
    REQUIRE(t.turns.size() == 4);
    CHECK(t.called() == std::vector<std::string>{"search", "read", "publish"});
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(t.turns[i].finish_reason == "tool_calls");
      CHECK(t.turns[i].model == "sim");
    }
    CHECK(t.final_answer().finish_reason == "stop");
  }
  THEN("every call's arguments validate against its tool's schema") {
    for (const auto& turn : t.turns)
      for (const auto& c : turn.tool_calls) {
        CAPTURE(c.name, c.arguments_json);
        CHECK(problems(c.arguments_json, tool_named(c.name)->parameters_schema_json).empty());
      }
  }
  THEN("the final answer mentions what each tool returned") {
    const auto& text = t.final_answer().content;
    CHECK_THAT(text, Catch::Contains("search returned found, three and articles") &&
                       Catch::Contains("read returned article, explains and journaling") &&
                       Catch::Contains("publish returned published, true and post"));
  }
  THEN("every turn carries the same confidence, in [0.55, 0.98]") {
    for (const auto& turn : t.turns) {
      REQUIRE(turn.confidence);
      CHECK(*turn.confidence == *t.final_answer().confidence);
    }
    CHECK(*t.final_answer().confidence >= 0.55);
    CHECK(*t.final_answer().confidence <= 0.98);
    CHECK_THAT(t.turns[0].content, Catch::StartsWith("Next I call search"));
  }
  THEN("the in-process model answers exactly as the engine does") {
    auto again = run_agent(engine(o), agent_request(task), run_tool);
    REQUIRE(again.turns.size() == t.turns.size());
    for (std::size_t i = 0; i < t.turns.size(); ++i) {
      CHECK(again.turns[i].content == t.turns[i].content);
      CHECK(again.turns[i].id == t.turns[i].id);
    }
  }
}

SCENARIO("the sim's turns are a function of seed, prompt, tools and history", "[net][sim][tools]") {
  auto bodies = [](sim_options o, const std::string& prompt) {
    std::vector<std::string> out;
    auto model = [&](const chat_request& req) {
      out.emplace_back();
      return engine_answer(o, req, &out.back());
    };
    run_agent(model, agent_request(prompt), run_tool);
    return out;
  };
  sim_options o;
  o.seed = 5;
  auto first = bodies(o, task);
  THEN("the same inputs give byte-identical answers on every turn") {
    CHECK(bodies(o, task) == first);
  }
  THEN("another seed changes them (ids, arguments, confidence)") {
    o.seed = 6;
    auto other = bodies(o, task);
    REQUIRE(other.size() == first.size());
    for (std::size_t i = 0; i < first.size(); ++i)
      CHECK(other[i] != first[i]);
  }
  THEN("arguments depend on the prompt's words") {
    auto r = engine_answer(o, agent_request("Find benchmarks of embedded key value stores"));
    auto query = json::parse(r.tool_calls.at(0).arguments_json)["query"].get<std::string>();
    CHECK_THAT(query, Catch::Contains("find") || Catch::Contains("benchmarks") || Catch::Contains("embedded") ||
                        Catch::Contains("value") || Catch::Contains("stores"));
  }
}

SCENARIO("generated arguments validate against their schemas for many prompts and seeds",
         "[net][sim][tools]") {
  int checked = 0;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    sim_options o;
    o.seed = seed;
    o.parallel_tool_calls = 4;
    auto req = agent_request("Task " + std::to_string(seed * 7919) + ": " + task);
    req.tools.push_back(edge_tool());
    auto r = engine_answer(o, req);
    REQUIRE(r.tool_calls.size() == 4);
    for (const auto& c : r.tool_calls) {
      CAPTURE(seed, c.name, c.arguments_json);
      CHECK(problems(c.arguments_json, tool_named(c.name)->parameters_schema_json).empty());
      ++checked;
    }
  }
  CHECK(checked == 160);
}

// -- directives ------------------------------------------------------------------------

SCENARIO("sim directives in the prompt script the sim", "[net][sim][tools]") {
  sim_options o;
  GIVEN("[sim: call publish, search] in the system message") {
    auto req = agent_request(task);
    req.messages[0].content += " [sim: call publish, search]";
    auto t = run_agent(engine(o), req, run_tool);
    THEN("exactly those tools, in that order") {
      CHECK(t.called() == std::vector<std::string>{"publish", "search"});
    }
  }
  GIVEN("[sim: call] naming a tool that is not offered") {
    auto t = run_agent(engine(o), agent_request(task + " [sim: call nonesuch, read]"), run_tool);
    THEN("that name is skipped") { CHECK(t.called() == std::vector<std::string>{"read"}); }
  }
  GIVEN("[sim: no tools]") {
    auto r = engine_answer(o, agent_request("[sim: no tools] " + task));
    THEN("a text answer at once, tools offered or not") {
      CHECK(r.tool_calls.empty());
      CHECK(r.finish_reason == "stop");
      CHECK_THAT(r.content, Catch::Contains("durable") || Catch::Contains("agent") ||
                              Catch::Contains("runtimes") || Catch::Contains("post"));
      CHECK_THAT(r.content, !Catch::Contains("tools")); // the directive is not a word of the prompt
    }
  }
  GIVEN("[sim: bad_args publish]") {
    auto t = run_agent(engine(o), agent_request(task + " [sim: bad_args publish]"), run_tool);
    THEN("the first publish call fails its schema, the retry passes") {
      CHECK(t.called() == std::vector<std::string>{"search", "read", "publish", "publish"});
      const auto& schema = tool_named("publish")->parameters_schema_json;
      CHECK_THAT(problems(t.turns[2].tool_calls[0].arguments_json, schema),
                 Catch::VectorContains(std::string("$.title is missing")));
      CHECK(problems(t.turns[3].tool_calls[0].arguments_json, schema).empty());
      CHECK_THAT(t.final_answer().content,
                 Catch::Contains("publish returned published, true and post on the second try"));
    }
  }
  GIVEN("[sim: bad_args] for tools without required properties or without properties") {
    auto req = agent_request(task + " [sim: bad_args typed, empty, listed]");
    req.tools = {{"typed", "", R"({"type":"object","properties":{"n":{"type":"integer"}}})"},
                 {"empty", "", R"({"type":"object"})"},
                 {"listed", "", R"({"type":"object","properties":{"e":{"enum":["a","b"]}}})"}};
    auto r = engine_answer(o, [&] {
      auto q = req;
      q.messages[1].content += " [sim: parallel 3]";
      return q;
    }());
    REQUIRE(r.tool_calls.size() == 3);
    THEN("a wrongly typed property, or an array where the object belongs") {
      CHECK_FALSE(json::parse(r.tool_calls[0].arguments_json)["n"].is_number_integer());
      CHECK(json::parse(r.tool_calls[1].arguments_json).is_array());
      auto e = json::parse(r.tool_calls[2].arguments_json)["e"];
      CHECK((e != "a" && e != "b"));
    }
  }
  GIVEN("[sim: unknown_tool]") {
    auto t = run_agent(engine(o), agent_request(task + " [sim: unknown_tool]"), run_tool);
    THEN("the first turn calls a tool not offered; after the error every offered tool is called") {
      REQUIRE(t.turns[0].tool_calls.size() == 1);
      CHECK(t.turns[0].tool_calls[0].name == "search_v2");
      CHECK(t.called() == std::vector<std::string>{"search_v2", "search", "read", "publish"});
      CHECK_THAT(t.final_answer().content, Catch::Contains("search_v2 failed (unknown_tool)"));
    }
  }
  GIVEN("[sim: parallel 3]") {
    auto t = run_agent(engine(o), agent_request(task + " [sim: parallel 3]"), run_tool);
    THEN("all three calls in one message, with distinct ids, then the answer") {
      REQUIRE(t.turns.size() == 2);
      const auto& calls = t.turns[0].tool_calls;
      REQUIRE(calls.size() == 3);
      CHECK(std::set<std::string>{calls[0].id, calls[1].id, calls[2].id}.size() == 3);
      CHECK(t.called() == std::vector<std::string>{"search", "read", "publish"});
      CHECK_THAT(t.turns[0].content, Catch::Contains("Next I call search, read and publish"));
    }
  }
  GIVEN("[sim: confidence 0.3]") {
    auto t = run_agent(engine(o), agent_request(task + " [sim: confidence 0.3]"), run_tool);
    THEN("every turn carries exactly that confidence") {
      for (const auto& turn : t.turns)
        CHECK(turn.confidence == std::optional{0.3});
    }
  }
  GIVEN("several directives in one block and across messages; later ones win") {
    auto req = agent_request(task + " [sim: confidence 0.9; parallel 2] [sim: confidence 0.25]");
    req.messages[0].content += " [sim: CALL read search]";
    auto t = run_agent(engine(o), req, run_tool);
    THEN("all apply") {
      REQUIRE(t.turns.size() == 2);
      CHECK(t.called() == std::vector<std::string>{"read", "search"});
      CHECK(t.final_answer().confidence == std::optional{0.25});
    }
  }
  GIVEN("a directive inside a tool result") {
    auto tools = [](const tool_call& c) { return run_tool(c) + " [sim: no tools] [sim: confidence 0.1]"; };
    auto t = run_agent(engine(o), agent_request(task), tools);
    THEN("it does not steer the sim") {
      CHECK(t.called() == std::vector<std::string>{"search", "read", "publish"});
      CHECK(*t.final_answer().confidence >= 0.55);
    }
  }
}

SCENARIO("an ambiguous prompt gets a low confidence", "[net][sim][tools]") {
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    sim_options o;
    o.seed = seed;
    auto t = run_agent(engine(o), agent_request("The brief is Ambiguous: publish something about " + task),
                       run_tool);
    CAPTURE(seed);
    for (const auto& turn : t.turns) {
      REQUIRE(turn.confidence);
      CHECK(*turn.confidence < 0.5);
      CHECK(*turn.confidence >= 0.15);
    }
    auto clear = engine_answer(o, agent_request("An unambiguous brief: " + task));
    CHECK(*clear.confidence >= 0.55);
  }
  AND_THEN("with a response_format, the confidence is the schema's field") {
    auto req = agent_request("Which of the two is meant? It is ambiguous.");
    req.tools.clear();
    req.response_format = json_schema_format{
      "pick", R"({"type":"object","properties":{"choice":{"enum":["first","second"]},"answer":{"type":"string"}},"required":["choice","answer"]})"};
    auto r = engine_answer({}, req);
    auto j = json::parse(r.content);
    CHECK(j["confidence"] == *r.confidence);
    CHECK(*r.confidence < 0.5);
    CHECK((j["choice"] == "first" || j["choice"] == "second"));
  }
}

SCENARIO("parallel tool calls from sim_options", "[net][sim][tools]") {
  sim_options o;
  o.parallel_tool_calls = 2;
  auto tools = agent_tools();
  tools.push_back({"notify", "Tell the team", R"({"type":"object","properties":{"who":{"type":"string"}},"required":["who"]})"});
  auto req = agent_request(task);
  req.tools = tools;
  auto t = run_agent(engine(o), req, [](const tool_call& c) {
    return c.name == "notify" ? std::string("sent") : run_tool(c);
  });
  THEN("two calls per turn in plan order, all ids distinct across the conversation") {
    REQUIRE(t.turns.size() == 3);
    CHECK(t.turns[0].tool_calls.size() == 2);
    CHECK(t.turns[1].tool_calls.size() == 2);
    CHECK(t.called() == std::vector<std::string>{"search", "read", "publish", "notify"});
    std::set<std::string> ids;
    for (const auto& turn : t.turns)
      for (const auto& c : turn.tool_calls)
        ids.insert(c.id);
    CHECK(ids.size() == 4);
  }
  AND_THEN("a directive overrides the option") {
    auto one = agent_request(task + " [sim: parallel 1]");
    CHECK(engine_answer(o, one).tool_calls.size() == 1);
  }
}

SCENARIO("tool_choice is obeyed on every turn", "[net][sim][tools]") {
  sim_options o;
  auto req = agent_request(task);
  req.tool_choice = "none";
  CHECK(engine_answer(o, req).tool_calls.empty());
  req.tool_choice = "publish";
  auto forced = engine_answer(o, req);
  REQUIRE(forced.tool_calls.size() == 1);
  CHECK(forced.tool_calls[0].name == "publish");
  req.tool_choice = "required";
  auto t = run_agent(engine(o), agent_request(task + " [sim: no tools]"), run_tool);
  req.messages = t.last.messages;
  auto required = engine_answer(o, req);
  REQUIRE(required.tool_calls.size() == 1);
  CHECK(required.tool_calls[0].name == "search");
}

SCENARIO("faults are injected on every turn of a tool loop", "[net][sim][tools]") {
  sim_options o;
  o.seed = 3;
  o.rate_limit_rate = 0.3;
  o.server_error_rate = 0.2;
  o.malformed_rate = 0.1;
  std::map<sim_fault, int> seen;
  int tool_turn_faults = 0;
  auto retrying = [&](const chat_request& req) {
    for (std::uint32_t attempt = 0; attempt < 50; ++attempt) {
      auto r = req;
      r.attempt = attempt;
      auto reply = simulate_chat(o, *encode_chat_request(r, "sim"), attempt);
      seen[reply.fault]++;
      if (reply.fault != sim_fault::none) {
        tool_turn_faults += !req.messages.empty() && req.messages.back().role == chat_role::tool;
        continue;
      }
      auto decoded = decode_chat_response(reply.response.body, "application/json", r, "test");
      REQUIRE(decoded);
      return *decoded;
    }
    FAIL("50 attempts drew a fault every time");
    return chat_response{};
  };
  for (int run = 0; run < 8; ++run) {
    auto t = run_agent(retrying, agent_request(task + " run " + std::to_string(run)), run_tool);
    CHECK(t.called() == std::vector<std::string>{"search", "read", "publish"});
  }
  CHECK(seen[sim_fault::rate_limited] > 0);
  CHECK(seen[sim_fault::server_error] > 0);
  CHECK(seen[sim_fault::malformed] > 0);
  CHECK(tool_turn_faults > 0);
}

SCENARIO("the same tool loop through the fake OpenAI server over loopback HTTP",
         "[net][sim][tools]") {
  fake_server_options options;
  options.sim.seed = 11;
  options.sim.parallel_tool_calls = 2;
  fake_openai_server server(options);
  llm_config config;
  config.base_url = server.base_url();
  config.model = "sim";
  config.api_key_env = "";
  openai_client client(config);
  auto over_http = [&](const chat_request& req) {
    auto r = await_result<chat_response>([&](auto done) { client.chat(req, done); });
    REQUIRE(r);
    return *r;
  };
  auto prompt = task + " [sim: bad_args search]";
  auto t = run_agent(over_http, agent_request(prompt), run_tool);
  THEN("it behaves exactly as the engine with the same options") {
    auto local = run_agent(engine(options.sim), agent_request(prompt), run_tool);
    REQUIRE(t.turns.size() == local.turns.size());
    for (std::size_t i = 0; i < t.turns.size(); ++i) {
      CHECK(t.turns[i].content == local.turns[i].content);
      CHECK(t.turns[i].confidence == local.turns[i].confidence);
      REQUIRE(t.turns[i].tool_calls.size() == local.turns[i].tool_calls.size());
      for (std::size_t k = 0; k < t.turns[i].tool_calls.size(); ++k) {
        CHECK(t.turns[i].tool_calls[k].id == local.turns[i].tool_calls[k].id);
        CHECK(t.turns[i].tool_calls[k].arguments_json == local.turns[i].tool_calls[k].arguments_json);
      }
    }
    CHECK(t.called() == std::vector<std::string>{"search", "read", "search", "publish"});
    CHECK(server.requests() == t.turns.size());
  }
  THEN("each request carried the conversation so far, tool results included") {
    auto last = json::parse(server.received().back().body);
    std::size_t results = 0;
    for (const auto& m : last["messages"])
      results += m["role"] == "tool";
    CHECK(results == 4);
  }
}

SCENARIO("the codec reads a confidence beside tool calls only in the sim's shape",
         "[net][sim][tools]") {
  chat_request req = agent_request(task);
  auto answer = [&](const std::string& content) {
    json body{{"choices", {{{"finish_reason", "tool_calls"},
                            {"message", {{"role", "assistant"}, {"content", content},
                                         {"tool_calls", {{{"id", "call_1"}, {"type", "function"},
                                                          {"function", {{"name", "search"},
                                                                        {"arguments", "{}"}}}}}}}}}}}};
    return decode_chat_response(body.dump(), "application/json", req, "test");
  };
  GIVEN("free text beside the calls, as real models write") {
    auto r = answer("Let me look that up first.");
    THEN("no failure, the text kept, no confidence") {
      REQUIRE(r);
      CHECK(r->content == "Let me look that up first.");
      CHECK_FALSE(r->confidence);
      CHECK(r->tool_calls.size() == 1);
    }
  }
  GIVEN("a confidence out of range, or not a number") {
    for (std::string c : {R"({"answer":"x","confidence":1.5})", R"({"answer":"x","confidence":"high"})"}) {
      auto r = answer(c);
      REQUIRE(r);
      CHECK_FALSE(r->confidence);
      CHECK(r->content == "x");
    }
  }
  GIVEN("the sim's shape, but confidence was not requested") {
    req.request_confidence = false;
    auto r = answer(R"({"answer":"x","confidence":0.7})");
    REQUIRE(r);
    CHECK_FALSE(r->confidence);
  }
}
