// Who may use the console API: a bearer token from the token store, checked
// per request (a revoke takes effect without a restart), and a role high
// enough for the endpoint. Health checks need no token.
#include <catch2/catch.hpp>

#include "console/console_fixture.hpp"

using namespace endure;
using namespace endure::test;
using nlohmann::json;

SCENARIO("the API refuses a request without a valid token with 401 and says why",
         "[console][auth]") {
  console_fixture c;
  for (auto token : {std::string{}, std::string{"endure_not-a-real-token"},
                     c.ann + "x", std::string{"garbage with spaces"}}) {
    CAPTURE(token);
    auto r = c.call("GET", "/api/v1/inbox", token);
    CHECK(r.status == 401);
    CHECK(r.headers["www-authenticate"] == "Bearer");
    auto b = body_of(r);
    CHECK(b["error"] == "unauthorized");
    CHECK_FALSE(b["message"].get<std::string>().empty());
  }
  // Basic credentials are no bearer token.
  http_probe p(c.port());
  p.send("GET /api/v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YW5uOmFubg==\r\n\r\n");
  CHECK(p.read().status == 401);
}

SCENARIO("a revoked token is refused at once, without restarting the server",
         "[console][auth]") {
  console_fixture c;
  REQUIRE(c.call("GET", "/api/v1/inbox", c.vic).status == 200);
  auto other = c.other_store();  // as `endure token revoke vic` in another process
  REQUIRE(other.revoke("vic"));
  auto r = c.call("GET", "/api/v1/inbox", c.vic);
  CHECK(r.status == 401);
  CHECK(r.headers["www-authenticate"] == "Bearer");
  CHECK(c.call("GET", "/api/v1/inbox", c.ann).status == 200);
}

SCENARIO("a viewer reads but may not decide: 403, and the request stays pending",
         "[console][auth]") {
  console_fixture c;
  auto id = c.gated_run("run-v");
  CHECK(c.call("GET", "/api/v1/requests/" + url_id(id), c.vic).status == 200);
  auto r = c.call("POST", "/api/v1/requests/" + url_id(id) + "/decision", c.vic,
                  R"({"decision": "approve"})");
  CHECK(r.status == 403);
  CHECK(body_of(r)["error"] == "forbidden");
  auto row = body_of(c.call("GET", "/api/v1/requests/" + url_id(id), c.ann));
  CHECK(row["status"] == "pending");
}

SCENARIO("health checks need no token, and readyz follows the runtime", "[console][health]") {
  console_fixture c;
  auto h = c.call("GET", "/healthz");
  CHECK(h.status == 200);
  CHECK(body_of(h)["status"] == "ok");
  CHECK(c.call("GET", "/readyz").status == 200);
  c.api().detach();
  auto r = c.call("GET", "/readyz");
  CHECK(r.status == 503);
  CHECK(body_of(r)["error"] == "not_ready");
  CHECK(c.call("GET", "/healthz").status == 200);
  CHECK(c.call("GET", "/api/v1/inbox", c.ann).status == 503);
  c.api().attach(c.rt().rt());
  CHECK(c.call("GET", "/readyz").status == 200);
}
