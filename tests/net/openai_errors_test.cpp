// Every error class, as an OpenAI-compatible client sees it from a real HTTP
// answer over loopback (scripted on the fake server).
#include "net_test_support.hpp"

#include "endure/net/fake_openai_server.hpp"
#include "endure/net/http_failure.hpp"
#include "endure/net/openai_client.hpp"

#include <cstdlib>

using namespace endure;
using namespace endure::net;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

const http_headers json_type{{"Content-Type", "application/json"}};

llm_config config_for(const fake_openai_server& server) {
  llm_config c;
  c.base_url = server.base_url();
  c.model = "test-model";
  c.api_key_env = "ENDURE_NET_TEST_KEY";
  c.request_timeout = 10s;
  return c;
}

chat_request hello() {
  chat_request r;
  r.messages = {chat_message::user("hello there")};
  return r;
}

endure::failure fail_with(scripted_response answer) {
  fake_openai_server server;
  server.push(std::move(answer));
  openai_client client(config_for(server));
  auto r = await_result<chat_response>([&](auto done) { client.chat(hello(), done); });
  REQUIRE_FALSE(r);
  return r.error();
}

std::string error_body(const std::string& message, const std::string& code = "") {
  return R"({"error":{"message":")" + message + R"(","type":"invalid_request_error","code":)" +
         (code.empty() ? "null" : "\"" + code + "\"") + "}}";
}

} // namespace

SCENARIO("429 is rate_limited and honours Retry-After", "[net][errors]") {
  GIVEN("Retry-After in seconds") {
    auto f = fail_with({429, {{"Retry-After", "7"}}, error_body("Rate limit reached")});
    CHECK(f.cls == failure_class::rate_limited);
    CHECK(f.http_status == 429);
    CHECK(f.retry_after == std::optional{7000ms});
    CHECK_THAT(f.message, Catch::Contains("Rate limit reached"));
  }
  GIVEN("Retry-After as an HTTP-date 30 s ahead") {
    auto when = std::chrono::system_clock::now() + 30s;
    auto f = fail_with({429, {{"Retry-After", format_http_date(when)}}, error_body("slow down")});
    CHECK(f.cls == failure_class::rate_limited);
    REQUIRE(f.retry_after);
    CHECK(*f.retry_after > 25s);
    CHECK(*f.retry_after <= 30s);
  }
}

SCENARIO("408, 500 and 503 are retryable", "[net][errors]") {
  for (int status : {408, 500, 503}) {
    auto f = fail_with({status, json_type, error_body("try again")});
    CHECK(f.cls == failure_class::retryable);
    CHECK(f.http_status == status);
  }
}

SCENARIO("400, 401, 403, 404 and 422 are fatal", "[net][errors]") {
  for (int status : {400, 401, 403, 404, 422}) {
    auto f = fail_with({status, json_type, error_body("no")});
    CHECK(f.cls == failure_class::fatal);
    CHECK(f.http_status == status);
  }
}

SCENARIO("the API key is sent but never appears in a failure", "[net][errors]") {
  ::setenv("ENDURE_NET_TEST_KEY", "sk-test-secret-123456", 1);
  fake_openai_server server;
  server.push({401, json_type, error_body("Incorrect API key provided: sk-test-secret-123456.")});
  openai_client client(config_for(server));
  CHECK(client.has_api_key());
  auto r = await_result<chat_response>([&](auto done) { client.chat(hello(), done); });
  ::unsetenv("ENDURE_NET_TEST_KEY");
  REQUIRE_FALSE(r);
  CHECK(r.error().cls == failure_class::fatal);
  CHECK_THAT(r.error().message, !Catch::Contains("sk-test-secret") && Catch::Contains("[redacted]"));
  auto seen = server.received();
  REQUIRE(seen.size() == 1);
  CHECK(find_header(seen[0].headers, "authorization") == std::optional<std::string_view>{"Bearer sk-test-secret-123456"});
}

SCENARIO("a context-length answer is context_length_exceeded", "[net][errors]") {
  GIVEN("OpenAI's code") {
    auto f = fail_with({400, json_type, error_body("This model's maximum context length is 8192 tokens.",
                                                   "context_length_exceeded")});
    CHECK(f.cls == failure_class::context_length_exceeded);
  }
  GIVEN("llama.cpp's message") {
    auto f = fail_with({400, json_type,
                        R"({"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error"}})"});
    CHECK(f.cls == failure_class::context_length_exceeded);
    CHECK_THAT(f.message, Catch::Contains("context window"));
  }
}

SCENARIO("a body that is not the expected JSON is quoted in the failure", "[net][errors]") {
  auto f = fail_with({200, {{"Content-Type", "text/html"}}, "<html><body>Bad gateway</body></html>"});
  CHECK(f.cls == failure_class::fatal);  // a 2xx page that is not JSON: not an OpenAI API
  CHECK_THAT(f.message, Catch::Contains("<html><body>Bad gateway") && Catch::Contains("not a chat completion"));
  auto g = fail_with({500, {}, "upstream exploded"});
  CHECK(g.cls == failure_class::retryable);
  CHECK_THAT(g.message, Catch::Contains("'upstream exploded'"));
}

SCENARIO("an endpoint that does not answer in time is retryable", "[net][errors]") {
  fake_openai_server server;
  server.push({200, json_type, "{}", 30s});
  openai_client client(config_for(server));
  auto req = hello();
  req.timeout = 150ms;
  auto r = await_result<chat_response>([&](auto done) { client.chat(req, done); });
  REQUIRE_FALSE(r);
  CHECK(r.error().cls == failure_class::retryable);
  CHECK_THAT(r.error().message, Catch::Contains("timed out"));
}

SCENARIO("the fake server's seeded faults reach the client as the right classes", "[net][errors]") {
  auto first_call = [](sim_options sim, std::chrono::milliseconds timeout) {
    fake_server_options o;
    o.sim = sim;
    fake_openai_server server(o);
    openai_client client(config_for(server));
    auto req = hello();
    req.timeout = timeout;
    auto r = await_result<chat_response>([&](auto done) { client.chat(req, done); });
    REQUIRE_FALSE(r);
    return r.error();
  };
  sim_options limited;
  limited.rate_limit_rate = 1.0;
  limited.retry_after = 2500ms;
  auto f = first_call(limited, 10s);
  CHECK(f.cls == failure_class::rate_limited);
  CHECK(f.retry_after == std::optional{2500ms});

  sim_options hanging;
  hanging.timeout_rate = 1.0;
  CHECK(first_call(hanging, 100ms).cls == failure_class::retryable);

  sim_options garbled;
  garbled.malformed_rate = 1.0;
  auto g = first_call(garbled, 10s);
  CHECK(g.cls == failure_class::retryable);
  CHECK_THAT(g.message, Catch::Contains("not a chat completion"));

  AND_THEN("a retried call draws again and can succeed") {
    sim_options half;
    half.server_error_rate = 0.5;
    fake_server_options o;
    o.sim = half;
    fake_openai_server server(o);
    openai_client client(config_for(server));
    bool ok = false;
    for (int attempt = 0; attempt < 20 && !ok; ++attempt)
      ok = await_result<chat_response>([&](auto done) { client.chat(hello(), done); }).has_value();
    CHECK(ok);
  }
}
