// Helpers of the sim tool-calling tests (sim_tools_test.cpp,
// sim_directives_test.cpp): tools with schemas, a schema check written by
// hand, and an agent loop driven by hand over any model function.
#pragma once

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

namespace endure::test {

using namespace endure::net;
using json = nlohmann::json;
using namespace std::chrono_literals;


// -- tools and a schema check written by hand --------------------------------------

inline const std::vector<tool_definition>& agent_tools() {
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
inline const tool_definition& edge_tool() {
  static const tool_definition tool = {
    "tune", "Edge cases of the schema keywords",
    R"({"type":"object","properties":{"offset":{"type":"number","maximum":-5},"code":{"type":"string","minLength":12,"maxLength":12},"level":{"type":"integer","minimum":3,"maximum":3},"none":{"type":"array","maxItems":0}},"required":["offset","code","level","none"]})"};
  return tool;
}

inline const tool_definition* tool_named(const std::string& name) {
  for (const auto& t : agent_tools())
    if (t.name == name)
      return &t;
  return name == edge_tool().name ? &edge_tool() : nullptr;
}

inline bool has_type(const json& v, const std::string& type) {
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
inline void check(const json& v, const json& schema, const std::string& at, std::vector<std::string>& out) {
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

inline std::vector<std::string> problems(const std::string& arguments_json, const std::string& schema_json) {
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
inline transcript run_agent(const model_fn& model, chat_request req, const tools_fn& tools,
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
inline std::string run_tool(const tool_call& c) {
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
inline chat_response engine_answer(const sim_options& o, const chat_request& req,
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

inline model_fn engine(sim_options o) {
  return [o](const chat_request& req) { return engine_answer(o, req); };
}

inline chat_request agent_request(const std::string& prompt) {
  chat_request req;
  req.messages = {chat_message::system("You are a research agent. Use the tools."),
                  chat_message::user(prompt)};
  req.tools = agent_tools();
  req.request_confidence = true;
  return req;
}

inline const std::string task =
  "Write a short post on durable agent runtimes built on LMDB journals";


} // namespace endure::test
