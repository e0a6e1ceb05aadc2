// Every way a server can answer badly, over real loopback HTTP from the
// fake server, as the OpenAI-compatible client sees it: each ends the call
// with the documented class, a message naming what was wrong (the field
// and the type expected, the content type, the phase the deadline hit),
// within a bounded time. Run with -s to see how long each case took.
#include "net_test_support.hpp"

#include "endure/net/fake_openai_server.hpp"
#include "endure/net/openai_client.hpp"

#include <string>
#include <vector>

using namespace endure;
using namespace endure::net;
using namespace endure::test;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

const http_headers json_type{{"Content-Type", "application/json"}};

llm_config config_for(const fake_openai_server& server) {
  llm_config c;
  c.base_url = server.base_url();
  c.model = "test-model";
  c.api_key_env = "";
  c.request_timeout = 10s;
  return c;
}

chat_request hello(std::chrono::milliseconds timeout = 0ms) {
  chat_request r;
  r.messages = {chat_message::user("hello there")};
  r.timeout = timeout;
  return r;
}

/// A well-formed completion with `field` replaced (or added) as given.
std::string completion_with(const std::string& choice_json, const std::string& top_extra = "") {
  return R"({"id":"chatcmpl-1","object":"chat.completion","model":"m",)" + top_extra +
         R"("choices":[)" + choice_json + R"(],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}})";
}

std::string choice_with_message(const std::string& message_json) {
  return R"({"index":0,"finish_reason":"stop","message":)" + message_json + "}";
}

struct timed {
  result<chat_response> r;
  std::chrono::milliseconds took;
};

/// One chat call against a fresh server that gives `answer` first.
timed chat_once(scripted_response answer, chat_request req = hello(), llm_config* tuned = nullptr) {
  fake_openai_server server;
  server.push(std::move(answer));
  auto config = tuned ? *tuned : config_for(server);
  config.base_url = server.base_url();
  openai_client client(config);
  auto started = clock_type::now();
  auto r = await_result<chat_response>([&](auto done) { client.chat(req, done); });
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - started);
  return {std::move(r), took};
}

struct bad_field {
  std::string body;
  std::string field;    ///< the path the message must name
  std::string expected; ///< what the message must say was expected
};

} // namespace

SCENARIO("null stands for an absent optional field: \"id\": null is accepted", "[net][malformed]") {
  auto t = chat_once({200, json_type,
                      R"({"id":null,"model":null,"choices":[{"index":0,"finish_reason":null,)"
                      R"("message":{"role":"assistant","content":"fine","tool_calls":null}}],"usage":null})"});
  REQUIRE(t.r);
  CHECK(t.r->id.empty());
  CHECK(t.r->content == "fine");
  CHECK(t.r->usage.total_tokens == 0);
}

SCENARIO("a field of the wrong type is fatal and the message names it", "[net][malformed]") {
  std::vector<bad_field> cases{
    {completion_with(choice_with_message(R"({"content":"x"})"), R"("id":42,)"), "id", "a string"},
    {completion_with(choice_with_message(R"({"content":"x"})"), R"("model":["m"],)"), "model",
     "a string"},
    {R"({"id":"c","choices":"none"})", "choices", "an array"},
    {R"({"id":"c","choices":null})", "choices", "an array"},
    {R"({"id":"c"})", "choices", "missing"},
    {R"({"id":"c","choices":[]})", "choices", "at least one choice"},
    {completion_with("5"), "choices[0]", "an object"},
    {completion_with(R"({"index":0})"), "choices[0].message", "missing"},
    {completion_with(choice_with_message(R"("hi")")), "choices[0].message", "an object"},
    {completion_with(choice_with_message(R"({"content":42})")), "choices[0].message.content",
     "a string, null or an array"},
    {completion_with(choice_with_message(R"({"content":[{"type":"text","text":5}]})")),
     "choices[0].message.content[0].text", "a string"},
    {completion_with(choice_with_message(R"({"content":["text"]})")),
     "choices[0].message.content[0]", "an object"},
    {completion_with(choice_with_message(R"({"content":null,"tool_calls":{}})")),
     "choices[0].message.tool_calls", "an array"},
    {completion_with(choice_with_message(R"({"tool_calls":[{"id":"c1"}]})")),
     "choices[0].message.tool_calls[0].function", "missing"},
    {completion_with(choice_with_message(R"({"tool_calls":[{"id":"c1","function":{"name":3}}]})")),
     "choices[0].message.tool_calls[0].function.name", "a string"},
    {completion_with(choice_with_message(
       R"({"tool_calls":[{"id":"c1","function":{"name":"f","arguments":7}}]})")),
     "choices[0].message.tool_calls[0].function.arguments", "a string or an object"},
    {completion_with(choice_with_message(R"({"tool_calls":[{"id":9,"function":{"name":"f"}}]})")),
     "choices[0].message.tool_calls[0].id", "a string"},
    {completion_with(R"({"index":0,"finish_reason":1,"message":{"content":"x"}})"),
     "choices[0].finish_reason", "a string"},
    {R"({"choices":[{"message":{"content":"x"}}],"usage":"lots"})", "usage", "an object"},
    {R"({"choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":-3}})",
     "usage.prompt_tokens", "a non-negative integer"},
    {R"({"choices":[{"message":{"content":"x"}}],"usage":{"total_tokens":"8"}})",
     "usage.total_tokens", "a non-negative integer"},
  };
  for (const auto& c : cases) {
    auto t = chat_once({200, json_type, c.body});
    INFO("body " << c.body << " ended in " << t.took.count() << " ms");
    REQUIRE_FALSE(t.r);
    CHECK(t.r.error().cls == failure_class::fatal);
    CHECK_THAT(t.r.error().message, Catch::Contains("field '" + c.field + "'") &&
                                      Catch::Contains(c.expected) &&
                                      Catch::Contains("breaks the schema of a chat completion"));
    CHECK(t.took < 5s);
  }
}

SCENARIO("an answer that is not a JSON object is fatal", "[net][malformed]") {
  GIVEN("an HTML page with status 200") {
    auto t = chat_once({200, {{"Content-Type", "text/html"}}, "<html><body>It works!</body></html>"});
    INFO("ended in " << t.took.count() << " ms");
    REQUIRE_FALSE(t.r);
    CHECK(t.r.error().cls == failure_class::fatal);
    CHECK_THAT(t.r.error().message, Catch::Contains("Content-Type 'text/html'") &&
                                      Catch::Contains("not JSON") &&
                                      Catch::Contains("<html><body>It works!") &&
                                      Catch::Contains("base_url"));
    CHECK(t.took < 5s);
  }
  GIVEN("JSON with a syntax error in the middle") {
    auto t = chat_once({200, json_type, R"({"id": nul, "choices": []})"});
    REQUIRE_FALSE(t.r);
    CHECK(t.r.error().cls == failure_class::fatal);
    CHECK_THAT(t.r.error().message, Catch::Contains("syntax error at byte"));
  }
  GIVEN("a JSON array") {
    auto t = chat_once({200, json_type, "[1, 2]"});
    REQUIRE_FALSE(t.r);
    CHECK(t.r.error().cls == failure_class::fatal);
    CHECK_THAT(t.r.error().message, Catch::Contains("an array of 2, expected a JSON object"));
  }
}

SCENARIO("an empty or cut-off answer is retryable", "[net][malformed]") {
  GIVEN("an empty body") {
    auto t = chat_once({200, json_type, ""});
    INFO("ended in " << t.took.count() << " ms");
    REQUIRE_FALSE(t.r);
    CHECK(t.r.error().cls == failure_class::retryable);
    CHECK_THAT(t.r.error().message, Catch::Contains("the body is empty"));
    CHECK(t.took < 5s);
  }
  GIVEN("JSON cut off at its end") {
    auto whole = completion_with(choice_with_message(R"({"content":"a fine answer"})"));
    auto t = chat_once({200, json_type, whole.substr(0, whole.size() / 2)});
    INFO("ended in " << t.took.count() << " ms");
    REQUIRE_FALSE(t.r);
    CHECK(t.r.error().cls == failure_class::retryable);
    CHECK_THAT(t.r.error().message, Catch::Contains("cut off after " +
                                                    std::to_string(whole.size() / 2) + " bytes"));
  }
}

SCENARIO("an error object sent with status 200 is classified like the error", "[net][malformed]") {
  auto overloaded = chat_once({200, json_type, R"({"error":{"message":"overloaded","code":503}})"});
  REQUIRE_FALSE(overloaded.r);
  CHECK(overloaded.r.error().cls == failure_class::retryable);
  CHECK_THAT(overloaded.r.error().message, Catch::Contains("'overloaded'") &&
                                             Catch::Contains("success status"));
  auto denied = chat_once({200, json_type, R"({"error":{"message":"bad key","code":401}})"});
  REQUIRE_FALSE(denied.r);
  CHECK(denied.r.error().cls == failure_class::fatal);
  CHECK_THAT(denied.r.error().message, Catch::Contains("'bad key'"));
}

SCENARIO("an answer that never ends, or never comes, ends the call in bounded time",
         "[net][malformed]") {
  GIVEN("an endless body sent as fast as the network takes it") {
    scripted_response endless{200, json_type, std::string(64 * 1024, ' ')};
    endless.stream = true;  // chunks = 0: without end
    auto t = chat_once(endless);
    INFO("endless body ended in " << t.took.count() << " ms");
    REQUIRE_FALSE(t.r);
    CHECK(t.r.error().cls == failure_class::fatal);
    CHECK_THAT(t.r.error().message, Catch::Contains("larger than the limit of " +
                                                    std::to_string(llm_config{}.max_response_bytes)));
    CHECK(t.took < 5s);
  }
  GIVEN("a body that drips a byte every 50 ms") {
    scripted_response drip{200, json_type, " "};
    drip.stream = true;
    drip.chunk_interval = 50ms;
    auto t = chat_once(drip, hello(400ms));
    INFO("dripping body ended in " << t.took.count() << " ms");
    REQUIRE_FALSE(t.r);
    CHECK(t.r.error().cls == failure_class::retryable);
    CHECK_THAT(t.r.error().message, Catch::Contains("timed out after 400 ms") &&
                                      Catch::Contains("reading the answer's body") &&
                                      Catch::Contains("body bytes received"));
    CHECK(t.took >= 400ms);
    CHECK(t.took < 5s);
  }
  GIVEN("a server that reads the request and never answers") {
    scripted_response hang;
    hang.hang = true;
    auto t = chat_once(hang, hello(300ms));
    INFO("unanswered request ended in " << t.took.count() << " ms");
    REQUIRE_FALSE(t.r);
    CHECK(t.r.error().cls == failure_class::retryable);
    CHECK_THAT(t.r.error().message, Catch::Contains("timed out after 300 ms") &&
                                      Catch::Contains("waiting for the answer"));
    CHECK(t.took >= 300ms);
    CHECK(t.took < 5s);
  }
  GIVEN("no request timeout: llm_config::request_timeout bounds the call") {
    scripted_response hang;
    hang.hang = true;
    fake_openai_server probe;
    auto config = config_for(probe);
    config.request_timeout = 250ms;
    auto t = chat_once(hang, hello(), &config);
    REQUIRE_FALSE(t.r);
    CHECK_THAT(t.r.error().message, Catch::Contains("timed out after 250 ms"));
    CHECK(t.took < 5s);
  }
}

SCENARIO("a connection cut mid-answer is retryable and bytes that are not HTTP are fatal",
         "[net][malformed]") {
  const std::string head =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
  GIVEN("a reset after part of the body") {
    scripted_response cut;
    cut.raw = head + R"({"id":"chatcmpl-1","choices":[)";
    cut.reset = true;
    auto t = chat_once(cut);
    INFO("reset mid-body ended in " << t.took.count() << " ms");
    REQUIRE_FALSE(t.r);
    CHECK(t.r.error().cls == failure_class::retryable);
    CHECK_THAT(t.r.error().message, Catch::Contains("was closed by the server or the network") &&
                                      Catch::Contains("reading the answer's body"));
    CHECK(t.took < 5s);
  }
  GIVEN("a clean close before the declared length") {
    scripted_response cut;
    cut.raw = head + R"({"id":"chatcmpl-1")";
    auto t = chat_once(cut);
    REQUIRE_FALSE(t.r);
    CHECK(t.r.error().cls == failure_class::retryable);
    CHECK_THAT(t.r.error().message, Catch::Contains("reading the answer's body"));
  }
  GIVEN("a reset before any answer") {
    scripted_response gone;
    gone.reset = true;
    auto t = chat_once(gone);
    REQUIRE_FALSE(t.r);
    CHECK(t.r.error().cls == failure_class::retryable);
    CHECK_THAT(t.r.error().message, Catch::Contains("waiting for the answer"));
  }
  GIVEN("another protocol on the port") {
    scripted_response ssh;
    ssh.raw = "SSH-2.0-OpenSSH_9.2\r\n";
    auto t = chat_once(ssh);
    REQUIRE_FALSE(t.r);
    CHECK(t.r.error().cls == failure_class::fatal);
    CHECK_THAT(t.r.error().message, Catch::Contains("not valid HTTP"));
  }
}

SCENARIO("embeddings answers are checked the same way", "[net][malformed]") {
  auto embed_once = [](std::string body) {
    fake_openai_server server;
    server.push({200, json_type, std::move(body)});
    openai_client client(config_for(server));
    embedding_request req;
    req.inputs = {"one", "two"};
    return await_result<embedding_response>([&](auto done) { client.embed(req, done); });
  };
  auto ok = embed_once(R"({"model":null,"data":[{"index":1,"embedding":[1,0]},)"
                       R"({"index":0,"embedding":[0,1]}],"usage":null})");
  REQUIRE(ok);
  CHECK(ok->vectors[0] == std::vector<float>{0, 1});

  struct bad { std::string body; std::string says; failure_class cls; };
  std::vector<bad> cases{
    {R"({"data":[{"embedding":[1,"x"]},{"embedding":[0,1]}]})", "field 'data[0].embedding[1]'",
     failure_class::fatal},
    {R"({"data":[{"embedding":"AAAA"},{"embedding":[0,1]}]})", "field 'data[0].embedding'",
     failure_class::fatal},
    {R"({"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[0]}]})",
     "field 'data[1].index' is 0", failure_class::fatal},
    {R"({"data":[{"index":"1","embedding":[1]},{"embedding":[0]}]})", "field 'data[0].index'",
     failure_class::fatal},
    {R"({"data":[{"embedding":[1]}]})", "holds 1 vectors, expected one per input (2)",
     failure_class::fatal},
    {R"({"data":{}})", "field 'data'", failure_class::fatal},
    {R"({"data":[{"embedding":[1]},{"embedding":[0]}],"usage":{"prompt_tokens":1.5}})",
     "field 'usage.prompt_tokens'", failure_class::fatal},
    {R"({"data":[{"embedding":[1,)", "cut off", failure_class::retryable},
  };
  for (const auto& c : cases) {
    INFO("body " << c.body);
    auto r = embed_once(c.body);
    REQUIRE_FALSE(r);
    CHECK(r.error().cls == c.cls);
    CHECK_THAT(r.error().message, Catch::Contains(c.says));
  }
}
