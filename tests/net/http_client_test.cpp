// The HTTP client against the fake server over loopback: timeouts, refused
// connections, the response size limit and keep-alive reuse.
#include "net_test_support.hpp"

#include "endure/net/fake_openai_server.hpp"
#include "endure/net/http_client.hpp"

#include <atomic>
#include <stdexcept>

using namespace endure;
using namespace endure::net;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

result<http_response> get(http_client& client, const std::string& url,
                          std::chrono::milliseconds timeout = 0ms) {
  http_request req;
  req.url = url;
  req.timeout = timeout;
  return await_result<http_response>([&](auto done) { client.send(req, done); });
}

std::string models_url(const fake_openai_server& server) { return server.base_url() + "/models"; }

} // namespace

SCENARIO("a slow server trips the per-request timeout", "[net][http]") {
  fake_openai_server server;
  server.push({200, {}, "late", 30s});
  http_client client;
  auto started = std::chrono::steady_clock::now();
  auto r = get(client, models_url(server), 200ms);
  auto took = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(r);
  CHECK(r.error().cls == failure_class::retryable);
  CHECK_THAT(r.error().message, Catch::Contains("timed out after 200 ms"));
  CHECK(took >= 200ms);
  CHECK(took < 5s);
  // The server stops at scope end without waiting out the 30 s delay.
}

SCENARIO("a refused connection is retryable", "[net][http]") {
  std::uint16_t port = 0;
  {
    fake_openai_server probe; // find a port that is free, then free it
    port = probe.port();
  }
  http_client client;
  auto r = get(client, "http://127.0.0.1:" + std::to_string(port) + "/v1/models");
  REQUIRE_FALSE(r);
  CHECK(r.error().cls == failure_class::retryable);
  CHECK_THAT(r.error().message, Catch::Contains("refused"));
}

SCENARIO("a response above the size limit is fatal and names the option", "[net][http]") {
  fake_openai_server server;
  server.push({200, {}, std::string(4096, 'x')});
  server.push({200, {}, std::string(1000, 'y')});
  http_client_options options;
  options.max_response_bytes = 1024;
  http_client client(options);
  auto big = get(client, models_url(server));
  REQUIRE_FALSE(big);
  CHECK(big.error().cls == failure_class::fatal);
  CHECK_THAT(big.error().message, Catch::Contains("max_response_bytes") && Catch::Contains("1024"));
  auto small = get(client, models_url(server));
  REQUIRE(small);
  CHECK(small->body.size() == 1000);
}

SCENARIO("sequential requests to one host reuse a kept-alive connection", "[net][http]") {
  fake_openai_server server;
  http_client client;
  for (int i = 0; i < 5; ++i) {
    auto r = get(client, models_url(server));
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->reused_connection == (i > 0));
  }
  CHECK(server.requests() == 5);
  CHECK(server.connections() == 1);
  CHECK(client.connections_opened() == 1);

  WHEN("the server answers with Connection: close") {
    server.push({200, {}, "bye", 0ms, true});
    REQUIRE(get(client, models_url(server)));
    auto next = get(client, models_url(server));
    REQUIRE(next);
    THEN("the next request opens a new connection") {
      CHECK_FALSE(next->reused_connection);
      CHECK(server.connections() == 2);
    }
  }
}

SCENARIO("a kept-alive connection the server closed is replaced transparently", "[net][http]") {
  fake_openai_server server;
  scripted_response first{200, {}, "first"};
  first.close_silently = true; // keep-alive advertised, then closed
  server.push(first);
  http_client client;
  REQUIRE(get(client, models_url(server)));
  auto second = get(client, models_url(server));
  REQUIRE(second);
  CHECK(second->status == 200);
  CHECK_FALSE(second->reused_connection);
  CHECK(server.connections() == 2);
  CHECK(server.requests() == 2);
}

SCENARIO("concurrent requests each get their answer", "[net][http]") {
  fake_openai_server server;
  http_client client;
  std::vector<std::future<result<http_response>>> futures;
  std::vector<std::shared_ptr<std::promise<result<http_response>>>> promises;
  for (int i = 0; i < 8; ++i) {
    auto p = std::make_shared<std::promise<result<http_response>>>();
    futures.push_back(p->get_future());
    http_request req;
    req.url = models_url(server);
    client.send(req, [p](result<http_response> r) { p->set_value(std::move(r)); });
    promises.push_back(p);
  }
  for (auto& f : futures) {
    REQUIRE(f.wait_for(20s) == std::future_status::ready);
    auto r = f.get();
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  CHECK(server.requests() == 8);
  CHECK(client.connections_opened() <= 8);
}

SCENARIO("destroying the client answers requests in flight", "[net][http]") {
  fake_openai_server server;
  server.push({200, {}, "never", 30s});
  auto promise = std::make_shared<std::promise<result<http_response>>>();
  auto future = promise->get_future();
  {
    http_client client;
    http_request req;
    req.url = models_url(server);
    client.send(req, [promise](result<http_response> r) { promise->set_value(std::move(r)); });
    REQUIRE(server.wait_for_requests(1, 10s)); // really in flight now
  }
  REQUIRE(future.wait_for(5s) == std::future_status::ready);
  auto r = future.get();
  REQUIRE_FALSE(r);
  CHECK(r.error().cls == failure_class::retryable);
  CHECK_THAT(r.error().message, Catch::Contains("shut down"));
}

SCENARIO("a callback that throws is logged and the client goes on", "[net][http]") {
  fake_openai_server server;
  scripted_response hang;
  hang.hang = true;
  server.push(hang);  // the callback runs from the deadline's timer
  http_client client;
  http_request req;
  req.url = models_url(server);
  req.timeout = 100ms;
  auto fired = std::make_shared<std::promise<void>>();
  auto calls = std::make_shared<std::atomic<int>>(0);
  client.send(req, [fired, calls](result<http_response> r) {
    ++*calls;
    fired->set_value();
    throw std::runtime_error(r ? "an answer" : r.error().message);
  });
  REQUIRE(fired->get_future().wait_for(10s) == std::future_status::ready);
  auto next = get(client, models_url(server)); // the io thread survived
  REQUIRE(next);
  CHECK(next->status == 200);
  CHECK(calls->load() == 1);
}

SCENARIO("the deadline bounds the whole request, body included", "[net][http]") {
  fake_openai_server server;
  scripted_response drip{200, {}, "x"};
  drip.stream = true;
  drip.chunk_interval = 20ms;  // each read is quick; the whole never ends
  server.push(drip);
  http_client client;
  auto started = std::chrono::steady_clock::now();
  auto r = get(client, models_url(server), 300ms);
  auto took = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(r);
  CHECK(r.error().cls == failure_class::retryable);
  CHECK_THAT(r.error().message, Catch::Contains("timed out after 300 ms while reading the answer's body"));
  CHECK(took >= 300ms);
  CHECK(took < 5s);
  AND_THEN("the client still serves the next request") {
    auto next = get(client, models_url(server));
    REQUIRE(next);
    CHECK(next->status == 200);
  }
}

SCENARIO("bytes past the declared length are not read as the next answer", "[net][http]") {
  fake_openai_server server;
  scripted_response longer;
  longer.raw = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 500 Stale\r\n\r\n";
  server.push(longer);
  http_client client;
  auto first = get(client, models_url(server));
  REQUIRE(first);
  CHECK(first->body == "ok");
  auto second = get(client, models_url(server));
  REQUIRE(second);
  CHECK(second->status == 200);
  CHECK_FALSE(second->reused_connection);
}
