// The server's limits: an oversized or malformed request gets a 4xx and the
// server goes on answering; a client that connects and says nothing does
// not hold up another client's decision; connections past the cap are
// closed; kept-alive connections serve several requests.
#include <catch2/catch.hpp>

#include "console/console_fixture.hpp"

#include <memory>
#include <vector>

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;
using nlohmann::json;

SCENARIO("an oversized body gets 413 and the server still answers", "[console][limits]") {
  console_fixture c;
  http_probe big(c.port());
  big.send(http_text("POST", "/api/v1/requests/x/decision", c.ann,
                     "{\"decision\": \"" + std::string(70 * 1024, 'a') + "\"}"));
  auto r = big.read();
  CHECK(r.status == 413);
  CHECK(json::parse(r.body, nullptr, false).value("error", "") == "body_too_large");
  CHECK(c.call("GET", "/healthz").status == 200);
}

SCENARIO("malformed HTTP and oversized headers get 4xx and the server stays up",
         "[console][limits]") {
  console_fixture c;
  {
    http_probe p(c.port());
    p.send("NOT HTTP AT ALL\r\n\r\n");
    CHECK(p.read().status == 400);
  }
  {
    http_probe p(c.port());
    p.send("GET /healthz HTTP/1.1\r\nX-Big: " + std::string(9000, 'x') + "\r\n\r\n");
    CHECK(p.read().status == 431);
  }
  CHECK(c.call("GET", "/healthz").status == 200);
  CHECK(c.call("GET", "/nowhere").status == 404);
}

SCENARIO("a silent client does not delay another client's decision", "[console][limits]") {
  console_fixture c;  // read timeout 10 s: the silent clients outlast the test
  auto id = c.gated_run("run-s");
  std::vector<std::unique_ptr<http_probe>> silent;
  for (int i = 0; i < 20; ++i) {
    silent.push_back(std::make_unique<http_probe>(c.port()));
    if (i % 2)
      silent.back()->send("POST /api/v1/requests/x/decision HTTP/1.1\r\nContent-Length: 100\r\n");
  }
  auto started = std::chrono::steady_clock::now();
  auto r = c.call("POST", "/api/v1/requests/" + url_id(id) + "/decision", c.ann,
                  R"({"decision": "approve"})");
  auto took = std::chrono::steady_clock::now() - started;
  CHECK(r.status == 200);
  CHECK(took < 3s);
  CHECK(c.rt().ended("run-s", 10s).status == run_status::completed);
}

SCENARIO("the read timeout closes an idle connection", "[console][limits]") {
  console::server_options o;
  o.read_timeout = 200ms;
  console_fixture c(o);
  http_probe idle(c.port());
  CHECK(idle.closed(5s));
  CHECK(c.call("GET", "/healthz").status == 200);
}

SCENARIO("connections past the cap are closed, and kept-alive ones serve many requests",
         "[console][limits]") {
  console::server_options o;
  o.max_connections = 2;
  console_fixture c(o);
  http_probe a(c.port()), b(c.port());
  a.send(http_text("GET", "/healthz"));
  REQUIRE(a.read().status == 200);
  b.send(http_text("GET", "/healthz"));
  REQUIRE(b.read().status == 200);
  http_probe third(c.port());
  third.send(http_text("GET", "/healthz"));
  CHECK(third.read(5s).status == 0);
  for (int i = 0; i < 3; ++i) {  // the same connection again: keep-alive
    a.send(http_text("GET", "/api/v1/runs", c.vic));
    CHECK(a.read().status == 200);
  }
}
