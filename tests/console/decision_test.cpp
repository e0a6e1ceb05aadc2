// Deciding over HTTP: the token's principal decides (a name in the body is
// ignored), the audit trail names the channel and the client's address, an
// approval resumes the gated run to completion, and the runtime's refusals
// come back as 4xx with a JSON body.
#include <catch2/catch.hpp>

#include "console/console_fixture.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {


std::string decision_path(const std::string& id) {
  return "/api/v1/requests/" + url_id(id) + "/decision";
}

} // namespace

SCENARIO("an approval over HTTP is the token's principal's and resumes the run",
         "[console][decision]") {
  console_fixture c;
  auto id = c.gated_run("run-a");
  auto inbox = body_of(c.call("GET", "/api/v1/inbox", c.ann));
  REQUIRE(inbox["requests"].size() == 1);
  CHECK(inbox["requests"][0]["id"] == id);
  CHECK(inbox["requests"][0]["tool"] == "publish");
  CHECK(body_of(c.call("GET", "/api/v1/inbox", c.vic))["requests"].empty());  // not an approver

  // The body names bob (an approver too) and mallory: both are ignored.
  auto r = c.call("POST", decision_path(id), c.ann,
                  R"({"decision": "approve", "principal": "bob", "by": "mallory"})");
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(body_of(r)["result"] == "decided");

  auto out = c.rt().ended("run-a", 10s);
  CHECK(out.status == run_status::completed);
  auto row = body_of(c.call("GET", "/api/v1/requests/" + id, c.vic));  // a raw '/' works too
  CHECK(row["status"] == "decided");
  CHECK(row["outcome"]["principals"] == json{"ann"});
  CHECK(row["outcome"]["channel"] == "http 127.0.0.1");
  auto& last = row["audit"].back();
  CHECK(last["principal"] == "ann");
  CHECK(last["channel"] == "http 127.0.0.1");
  CHECK(last["action"] == "approve");
  CHECK(body_of(c.call("GET", "/api/v1/inbox", c.ann))["requests"].empty());
}

SCENARIO("the runtime's refusals map to HTTP statuses with a JSON body", "[console][decision]") {
  console_fixture c;
  auto id = c.gated_run("run-b");
  WHEN("the body is not JSON, or not an object, or names no decision") {
    for (auto body : {"{\"decision\": ", "[1, 2]", "not json", "\"approve\""}) {
      CAPTURE(body);
      auto r = c.call("POST", decision_path(id), c.ann, body);
      CHECK(r.status == 400);
      CHECK(body_of(r)["error"] == "malformed_json");
    }
    for (auto body : {"{}", "{\"decision\": 5}", "{\"principal\": \"ann\"}"}) {
      CAPTURE(body);
      auto r = c.call("POST", decision_path(id), c.ann, body);
      CHECK(r.status == 400);
      CHECK_THAT(body_of(r)["message"].get<std::string>(), Catch::Contains("\"decision\""));
    }
  }
  WHEN("the decision is not one of the four") {
    CHECK(c.call("POST", decision_path(id), c.ann, R"({"decision": "maybe"})").status == 400);
    THEN("the request is still pending") {
      auto row = body_of(c.call("GET", "/api/v1/requests/" + url_id(id), c.ann));
      CHECK(row["status"] == "pending");
    }
  }
  WHEN("the body nests deeper than any decision needs") {
    std::string deep = R"({"decision": "edit", "arguments": )" + std::string(5000, '[')
                       + std::string(5000, ']') + "}";
    auto r = c.call("POST", decision_path(id), c.ann, deep);
    CHECK(r.status == 400);
    CHECK(body_of(r)["error"] == "malformed_json");
    CHECK(c.call("GET", "/healthz", "").status == 200);  // and the server is up
  }
  WHEN("the request does not exist") {
    auto r = c.call("POST", decision_path("run-b/999"), c.ann, R"({"decision": "approve"})");
    CHECK(r.status == 404);
    CHECK(c.call("GET", "/api/v1/requests/nope", c.ann).status == 404);
  }
  WHEN("it was decided already") {
    REQUIRE(c.call("POST", decision_path(id), c.ann, R"({"decision": "reject", "reason": "no"})")
              .status == 200);
    auto again = c.call("POST", decision_path(id), c.bob, R"({"decision": "approve"})");
    CHECK(again.status == 409);
    CHECK(body_of(again)["error"] == "invalid_state");
    THEN("the refused attempt is in the audit trail, with who and from where") {
      auto row = body_of(c.call("GET", "/api/v1/requests/" + url_id(id), c.ann));
      auto& last = row["audit"].back();
      CHECK(last["principal"] == "bob");
      CHECK_THAT(last["channel"].get<std::string>(), Catch::StartsWith("http 127.0.0.1"));
      CHECK_THAT(last["outcome"].get<std::string>(), Catch::Contains("refused"));
    }
  }
}

SCENARIO("runs are listed by id with a status filter and paging", "[console][runs]") {
  console_fixture c;
  c.gated_run("r1");
  c.gated_run("r2");
  c.gated_run("r3");
  auto all = body_of(c.call("GET", "/api/v1/runs", c.vic));
  REQUIRE(all["runs"].size() == 3);
  CHECK(all["next"].is_null());
  auto first = body_of(c.call("GET", "/api/v1/runs?limit=2", c.vic));
  REQUIRE(first["runs"].size() == 2);
  CHECK(first["runs"][0]["id"] == "r1");
  CHECK(first["runs"][0]["workflow"] == "publishes");
  CHECK(first["next"] == "r2");
  auto rest = body_of(c.call("GET", "/api/v1/runs?limit=2&after=r2", c.vic));
  REQUIRE(rest["runs"].size() == 1);
  CHECK(rest["runs"][0]["id"] == "r3");
  CHECK(body_of(c.call("GET", "/api/v1/runs?status=completed", c.vic))["runs"].empty());
  CHECK(body_of(c.call("GET", "/api/v1/runs?status=waiting", c.vic))["runs"].size() == 3);
  for (auto bad : {"?status=done", "?limit=0", "?limit=1001", "?limit=x"}) {
    CAPTURE(bad);
    CHECK(c.call("GET", std::string("/api/v1/runs") + bad, c.vic).status == 400);
  }
}
