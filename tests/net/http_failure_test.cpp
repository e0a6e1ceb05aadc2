// The error taxonomy as pure functions: Retry-After parsing, context-length
// recognition in the bodies real servers send, and URL splitting.
#include <catch2/catch.hpp>

#include "endure/net/http_failure.hpp"
#include "endure/net/url.hpp"

using namespace endure;
using namespace endure::net;
using namespace std::chrono_literals;

TEST_CASE("Retry-After accepts delta-seconds and the three HTTP-date forms", "[net][failure]") {
  auto now = std::chrono::system_clock::from_time_t(1445412480); // Wed, 21 Oct 2015 07:28:00 GMT
  CHECK(parse_retry_after("120", now) == std::optional{120'000ms});
  CHECK(parse_retry_after(" 0 ", now) == std::optional{0ms});
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now) == std::optional{30'000ms});
  CHECK(parse_retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now) == std::optional{60'000ms});
  CHECK(parse_retry_after("Wed Oct 21 07:28:05 2015", now) == std::optional{5'000ms});
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now) == std::optional{0ms}); // past
  CHECK_FALSE(parse_retry_after("soon", now));
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("-5", now));
  CHECK(format_http_date(now) == "Wed, 21 Oct 2015 07:28:00 GMT");
}

TEST_CASE("context-length answers of OpenAI, llama.cpp and vLLM are recognised", "[net][failure]") {
  CHECK(is_context_length_error(
    R"({"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}})"));
  CHECK(is_context_length_error(
    R"({"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":5000,"n_ctx":4096}})"));
  CHECK(is_context_length_error(
    R"({"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4000 in the messages, 1000 in the completion).","type":"BadRequestError","param":null,"code":400})"));
  CHECK_FALSE(is_context_length_error(R"({"error":{"message":"Invalid model","code":"model_not_found"}})"));
  CHECK_FALSE(is_context_length_error("<html>oops</html>"));
}

TEST_CASE("failure_from_response classifies statuses and keeps the server's words", "[net][failure]") {
  http_response r{503, {{"Retry-After", "2"}}, R"({"error":{"message":"overloaded"}})"};
  auto f = failure_from_response(r, "chat completion at http://x/v1");
  CHECK(f.cls == failure_class::retryable);
  CHECK(f.http_status == 503);
  CHECK(f.retry_after == std::optional{2000ms});
  CHECK_THAT(f.message, Catch::Contains("overloaded") && Catch::Contains("HTTP 503") &&
                          Catch::Contains("chat completion at http://x/v1"));
  http_response ms{429, {{"retry-after-ms", "250"}, {"Retry-After", "1"}}, "{}"};
  CHECK(failure_from_response(ms, "x").retry_after == std::optional{250ms});
  CHECK(failure_from_response({409, {}, ""}, "x").cls == failure_class::retryable);
  CHECK(failure_from_response({403, {}, ""}, "x").cls == failure_class::fatal);
  CHECK(quote_body(std::string(500, 'a'), 10) == "'aaaaaaaaaa...' (500 bytes)");
}

TEST_CASE("URLs split into scheme, host, port and target", "[net][url]") {
  auto u = parse_url("https://api.openai.com/v1/chat/completions");
  REQUIRE(u);
  CHECK(u->tls);
  CHECK(u->host == "api.openai.com");
  CHECK(u->port == 443);
  CHECK(u->target == "/v1/chat/completions");
  auto v = parse_url("http://[::1]:8080?x=1");
  REQUIRE(v);
  CHECK(v->host == "::1");
  CHECK(v->port == 8080);
  CHECK(v->target == "/?x=1");
  CHECK(parse_url("http://127.0.0.1:11434")->target == "/");
  for (const char* bad : {"ftp://x/", "http://", "http://h:0/", "http://h:99999/", "h:80/x"}) {
    auto b = parse_url(bad);
    REQUIRE_FALSE(b);
    CHECK(b.error().code == errc::invalid_argument);
    CHECK_THAT(b.error().message, Catch::Contains(bad));
  }
}
