// Chat and embeddings round trips over loopback HTTP: tool calls,
// structured output with confidence, usage and cost; answers in the exact
// shapes real servers send, and the fake server's sim answers.
#include "net_test_support.hpp"

#include "endure/net/fake_openai_server.hpp"
#include "endure/net/openai_client.hpp"

#include <nlohmann/json.hpp>

#include <cmath>

using namespace endure;
using namespace endure::net;
using namespace endure::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

llm_config config_for(const fake_openai_server& server) {
  llm_config c;
  c.base_url = server.base_url();
  c.model = "test-model";
  c.embedding_model = "test-embed";
  c.api_key_env = "";
  c.input_price_per_1k = 0.5;
  c.output_price_per_1k = 1.5;
  return c;
}

result<chat_response> chat(openai_client& client, const chat_request& req) {
  return await_result<chat_response>([&](auto done) { client.chat(req, done); });
}

tool_definition weather_tool() {
  return {"get_weather", "Current weather for a city",
          R"({"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["c","f"]}},"required":["city","unit"]})"};
}

} // namespace

SCENARIO("an OpenAI tool-call answer is decoded and priced", "[net][chat]") {
  fake_openai_server server;
  server.push({200, {{"Content-Type", "application/json"}}, R"({
    "id": "chatcmpl-abc", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-2024-08-06",
    "choices": [{"index": 0, "finish_reason": "tool_calls", "logprobs": null,
      "message": {"role": "assistant", "content": null, "refusal": null,
        "tool_calls": [{"id": "call_1", "type": "function",
          "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\",\"unit\":\"c\"}"}}]}}],
    "usage": {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200},
    "system_fingerprint": "fp_1"})"});
  openai_client client(config_for(server));
  chat_request req;
  req.messages = {chat_message::system("You are terse."), chat_message::user("Weather in Paris?")};
  req.tools = {weather_tool()};
  req.tool_choice = "auto";
  auto r = chat(client, req);
  REQUIRE(r);
  CHECK(r->model == "gpt-4o-2024-08-06");
  CHECK(r->finish_reason == "tool_calls");
  REQUIRE(r->tool_calls.size() == 1);
  CHECK(r->tool_calls[0].id == "call_1");
  CHECK(r->tool_calls[0].name == "get_weather");
  CHECK(json::parse(r->tool_calls[0].arguments_json)["city"] == "Paris");
  CHECK(r->usage.total_tokens == 1200);
  CHECK(r->cost_usd == Approx(1000 * 0.5 / 1000 + 200 * 1.5 / 1000));

  AND_THEN("the request carried the model, messages, tools and tool_choice") {
    auto sent = json::parse(server.received().at(0).body);
    CHECK(server.received()[0].target == "/v1/chat/completions");
    CHECK(sent["model"] == "test-model");
    CHECK(sent["messages"].size() == 2);
    CHECK(sent["messages"][0]["role"] == "system");
    CHECK(sent["tools"][0]["function"]["parameters"]["required"][0] == "city");
    CHECK(sent["tool_choice"] == "auto");
  }
}

SCENARIO("a tool conversation round trip against the sim behind HTTP", "[net][chat]") {
  fake_openai_server server;
  openai_client client(config_for(server));
  chat_request req;
  req.messages = {chat_message::user("What is the weather in Lisbon today?")};
  req.tools = {weather_tool()};
  auto first = chat(client, req);
  REQUIRE(first);
  CHECK(first->model == "sim");
  REQUIRE(first->tool_calls.size() == 1);
  const auto& call = first->tool_calls[0];
  CHECK(call.name == "get_weather");
  auto args = json::parse(call.arguments_json);
  CHECK(args["city"].is_string());
  CHECK((args["unit"] == "c" || args["unit"] == "f"));

  WHEN("the tool's result is sent back") {
    chat_message assistant{chat_role::assistant, "", first->tool_calls, {}};
    req.messages.push_back(assistant);
    req.messages.push_back(chat_message::tool_result(call.id, "Lisbon: sunny, 24 degrees"));
    auto second = chat(client, req);
    REQUIRE(second);
    THEN("the model answers in text that uses it") {
      CHECK(second->tool_calls.empty());
      CHECK(second->finish_reason == "stop");
      CHECK_THAT(second->content, Catch::Contains("get_weather") && Catch::Contains("lisbon"));
      auto sent = json::parse(server.received().at(1).body);
      CHECK(sent["messages"][1]["tool_calls"][0]["id"] == call.id);
      CHECK(sent["messages"][2]["tool_call_id"] == call.id);
    }
  }
}

SCENARIO("structured output with a requested confidence", "[net][chat]") {
  fake_openai_server server;
  openai_client client(config_for(server));
  chat_request req;
  req.messages = {chat_message::user("Classify this ticket: the invoice total is wrong")};
  req.response_format = json_schema_format{
    "ticket", R"({"type":"object","properties":{"category":{"type":"string","enum":["billing","bug","other"]},"priority":{"type":"integer","minimum":1,"maximum":3}},"required":["category","priority"],"additionalProperties":false})"};
  req.request_confidence = true;
  auto r = chat(client, req);
  REQUIRE(r);
  auto answer = json::parse(r->content);
  CHECK((answer["category"] == "billing" || answer["category"] == "bug" || answer["category"] == "other"));
  CHECK(answer["priority"].get<int>() >= 1);
  CHECK(answer["priority"].get<int>() <= 3);
  REQUIRE(r->confidence);
  CHECK(*r->confidence >= 0.0);
  CHECK(*r->confidence <= 1.0);

  AND_THEN("the schema sent asked for a required confidence in [0,1]") {
    auto sent = json::parse(server.received().at(0).body);
    auto schema = sent["response_format"]["json_schema"]["schema"];
    CHECK(sent["response_format"]["type"] == "json_schema");
    CHECK(schema["properties"]["confidence"]["maximum"] == 1);
    CHECK(std::find(schema["required"].begin(), schema["required"].end(), "confidence") !=
          schema["required"].end());
  }
}

SCENARIO("confidence without a schema wraps a plain answer", "[net][chat]") {
  fake_openai_server server;
  server.push({200, {}, R"({"choices":[{"message":{"role":"assistant","content":"{\"answer\":\"Paris\",\"confidence\":0.93}"},"finish_reason":"stop"}]})"});
  server.push({200, {}, R"({"choices":[{"message":{"role":"assistant","content":"{\"answer\":\"Paris\",\"confidence\":7}"},"finish_reason":"stop"}]})"});
  server.push({200, {}, R"({"choices":[{"message":{"role":"assistant","content":"Paris, I think"},"finish_reason":"stop"}]})"});
  openai_client client(config_for(server));
  chat_request req;
  req.messages = {chat_message::user("Capital of France?")};
  req.request_confidence = true;
  auto r = chat(client, req);
  REQUIRE(r);
  CHECK(r->content == "Paris");
  CHECK(r->confidence == std::optional{0.93});
  auto out_of_range = chat(client, req);
  REQUIRE(out_of_range);
  CHECK_FALSE(out_of_range->confidence);
  auto not_json = chat(client, req);
  REQUIRE_FALSE(not_json);
  CHECK(not_json.error().cls == failure_class::fatal);
  CHECK_THAT(not_json.error().message, Catch::Contains("Paris, I think"));
}

SCENARIO("a schema string that is not JSON is rejected before sending", "[net][chat]") {
  fake_openai_server server;
  openai_client client(config_for(server));
  chat_request req;
  req.messages = {chat_message::user("x")};
  req.tools = {{"broken", "", "{not json"}};
  auto r = chat(client, req);
  REQUIRE_FALSE(r);
  CHECK(r.error().cls == failure_class::fatal);
  CHECK_THAT(r.error().message, Catch::Contains("broken"));
  CHECK(server.requests() == 0);
}

SCENARIO("embeddings round trip", "[net][embeddings]") {
  fake_openai_server server;
  openai_client client(config_for(server));
  embedding_request req;
  req.inputs = {"the cat sat on the warm mat", "a cat sat on a mat", "quarterly revenue report"};
  auto r = await_result<embedding_response>([&](auto done) { client.embed(req, done); });
  REQUIRE(r);
  REQUIRE(r->vectors.size() == 3);
  auto dot = [](const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
      s += static_cast<double>(a[i]) * b[i];
    return s;
  };
  for (const auto& v : r->vectors) {
    CHECK(v.size() == 64);
    CHECK(dot(v, v) == Approx(1.0).epsilon(1e-4));
  }
  CHECK(dot(r->vectors[0], r->vectors[1]) > dot(r->vectors[0], r->vectors[2]));
  CHECK(r->usage.prompt_tokens > 0);
  auto sent = json::parse(server.received().at(0).body);
  CHECK(server.received()[0].target == "/v1/embeddings");
  CHECK(sent["model"] == "test-embed");
  CHECK(sent["input"].size() == 3);

  AND_WHEN("a server answers out of order") {
    server.push({200, {}, R"({"object":"list","model":"m","data":[
      {"object":"embedding","index":1,"embedding":[0.0,1.0]},
      {"object":"embedding","index":0,"embedding":[1.0,0.0]}],"usage":{"prompt_tokens":4,"total_tokens":4}})"});
    embedding_request two;
    two.inputs = {"a", "b"};
    auto o = await_result<embedding_response>([&](auto done) { client.embed(two, done); });
    REQUIRE(o);
    CHECK(o->vectors[0] == std::vector<float>{1.0f, 0.0f});
    CHECK(o->vectors[1] == std::vector<float>{0.0f, 1.0f});
    CHECK(o->cost_usd == Approx(4 * 0.5 / 1000));
  }
}
