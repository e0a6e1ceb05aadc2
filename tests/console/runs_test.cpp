// The runs half of the console's API: a run's timeline (the JSON `endure
// inspect --json` prints), and starting, signalling, cancelling and
// releasing runs over HTTP, which only an admin may do; refusals are 4xx
// with a JSON body naming what is wrong.
#include <catch2/catch.hpp>

#include "console/console_fixture.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {


/// The reply's status, with its body shown when a check fails.
int status_of(const http_reply& r) {
  UNSCOPED_INFO(r.body);
  return r.status;
}

} // namespace

SCENARIO("malformed bodies to start, signal, cancel and release are 400 with what is wrong",
         "[console][runs]") {
  console_fixture c;
  for (auto body : {"", "not json", "[1, 2]", "\"two_steps\"", "{\"workflow\": 7, \"id\": \"x\"}",
                    "{\"workflow\": \"two_steps\"}", "{\"id\": \"x\"}",
                    "{\"workflow\": \"two_steps\", \"id\": \"x\", \"input\": \"not a number\"}",
                    "{\"workflow\": \"nope\", \"id\": \"x\", \"input\": 1}"}) {
    INFO(body);
    auto r = c.call("POST", "/api/v1/runs", c.ada, body);
    CHECK(status_of(r) == 400);
    CHECK(body_of(r).contains("message"));
  }
  auto unknown = body_of(c.call("POST", "/api/v1/runs", c.ada,
                                R"({"workflow": "nope", "id": "x", "input": 1})"));
  CHECK_THAT(unknown["message"].get<std::string>(), Catch::Contains("two_steps"));
  CHECK_FALSE(c.rt().rt().store().run("x"));  // nothing was journaled

  REQUIRE(c.rt().rt().start("two_steps", "done", 1));
  c.rt().ended("done", 10s);
  for (auto [path, body] : {std::pair{"signal", "{}"}, {"signal", R"({"name": 3})"},
                            {"signal", "nope"}, {"cancel", R"({"reason": ["x"]})"},
                            {"cancel", "[]"}, {"release", R"({"reason": 1})"}}) {
    INFO(path << " " << body);
    auto r = c.call("POST", std::string("/api/v1/runs/done/") + path, c.ada, body);
    CHECK(status_of(r) == 400);
    CHECK(body_of(r).contains("error"));
  }
}

SCENARIO("a completed run's timeline shows its steps in order with their attempts",
         "[console][runs]") {
  console_fixture c;
  REQUIRE(c.rt().rt().start("two_steps", "t1", 4));
  REQUIRE(c.rt().ended("t1", 10s).status == run_status::completed);

  auto t = body_of(c.call("GET", "/api/v1/runs/t1", c.vic));
  CHECK(t["run"] == "t1");
  CHECK(t["workflow"] == "two_steps");
  CHECK(t["status"] == "completed");
  REQUIRE(t["steps"].size() == 2);
  CHECK(t["steps"][0]["name"] == "add one");
  CHECK(t["steps"][1]["name"] == "double");
  for (auto& s : t["steps"]) {
    REQUIRE(s["attempts"].size() == 1);
    CHECK(s["attempts"][0]["outcome"] == "completed");
    CHECK(s["attempts"][0]["started_at_ms"].get<std::int64_t>() >= t["created_at_ms"]);
  }
  CHECK(t["steps"][1]["result"] == "10");
  CHECK(t["finished"]["status"] == "completed");
  CHECK(t["finished"]["value"] == 10);
}

SCENARIO("a failed step's timeline names its error class and message", "[console][runs]") {
  console_fixture c;
  REQUIRE(c.rt().rt().start("fails", "f1", 0));
  REQUIRE(c.rt().ended("f1", 10s).status == run_status::failed);

  auto t = body_of(c.call("GET", "/api/v1/runs/f1", c.vic));
  CHECK(t["status"] == "failed");
  REQUIRE(t["steps"].size() == 1);
  auto& a = t["steps"][0]["attempts"].back();
  CHECK(a["outcome"] == "failed");
  CHECK(a["error_class"] == "fatal");
  CHECK_THAT(a["message"].get<std::string>(), Catch::Contains("the disk is full"));
  CHECK(t["steps"][0]["result"].is_null());
}

SCENARIO("an unknown run is 404 for every runs endpoint", "[console][runs]") {
  console_fixture c;
  auto r = c.call("GET", "/api/v1/runs/nobody", c.vic);
  CHECK(status_of(r) == 404);
  CHECK(body_of(r)["error"] == "not_found");
  CHECK_THAT(body_of(r)["message"].get<std::string>(), Catch::Contains("nobody"));
  CHECK(status_of(c.call("POST", "/api/v1/runs/nobody/cancel", c.ada, "{}")) == 404);
  CHECK(status_of(c.call("POST", "/api/v1/runs/nobody/signal", c.ada, R"({"name": "go"})"))
        == 404);
  CHECK(status_of(c.call("POST", "/api/v1/runs/nobody/frobnicate", c.ada, "{}")) == 404);
}

SCENARIO("viewers and approvers may read runs but not start or steer them", "[console][runs]") {
  console_fixture c;
  auto id = c.gated_run("g1");
  for (auto* token : {&c.vic, &c.ann}) {
    auto start = c.call("POST", "/api/v1/runs", *token,
                        R"({"workflow": "two_steps", "id": "s1", "input": 1})");
    CHECK(status_of(start) == 403);
    CHECK(body_of(start)["error"] == "forbidden");
    CHECK(status_of(c.call("POST", "/api/v1/runs/g1/cancel", *token, "{}")) == 403);
    CHECK(status_of(c.call("POST", "/api/v1/runs/g1/signal", *token, R"({"name": "go"})"))
          == 403);
    CHECK(status_of(c.call("GET", "/api/v1/runs/g1", *token)) == 200);
  }
  CHECK(status_of(c.call("POST", "/api/v1/runs", "", "{}")) == 401);
  CHECK_FALSE(c.rt().rt().store().run("s1"));
  CHECK(c.rt().rt().store().run("g1")->status == run_status::waiting);
}

SCENARIO("an admin starts a run over HTTP and it completes", "[console][runs]") {
  console_fixture c;
  auto r = c.call("POST", "/api/v1/runs", c.ada,
                  R"({"workflow": "two_steps", "id": "h1", "input": 20})");
  REQUIRE(status_of(r) == 200);
  CHECK(body_of(r)["run"] == "h1");
  REQUIRE(c.rt().ended("h1", 10s).status == run_status::completed);
  auto t = body_of(c.call("GET", "/api/v1/runs/h1", c.vic));
  CHECK(t["finished"]["value"] == 42);
  // Starting the same id again is idempotent: the run as it is.
  auto again = c.call("POST", "/api/v1/runs", c.ada,
                      R"({"workflow": "two_steps", "id": "h1", "input": 20})");
  CHECK(status_of(again) == 200);
  CHECK(body_of(again)["status"] == "completed");

  auto listed = body_of(c.call("GET", "/api/v1/runs?workflow=two_steps", c.vic));
  REQUIRE(listed["runs"].size() == 1);
  CHECK(listed["runs"][0]["id"] == "h1");
  CHECK(body_of(c.call("GET", "/api/v1/runs?workflow=fails", c.vic))["runs"].empty());
}

SCENARIO("runs are listed by age: older_than and newer_than take policy durations",
         "[console][runs]") {
  console_fixture c;
  REQUIRE(c.rt().rt().start("two_steps", "young", 1));
  auto ids = [&](const std::string& query) {
    auto listed = body_of(c.call("GET", "/api/v1/runs?" + query, c.vic));
    std::vector<std::string> out;
    for (auto& r : listed["runs"])
      out.push_back(r["id"].get<std::string>());
    return out;
  };
  CHECK(ids("newer_than=1h") == std::vector<std::string>{"young"});
  CHECK(ids("older_than=1h").empty());
  CHECK(ids("newer_than=1h&older_than=1d").empty());
  CHECK(ids("older_than=1h&status=running").empty());
  for (auto bad : {"older_than=1", "newer_than=soon", "older_than=-5m", "newer_than="}) {
    auto r = c.call("GET", std::string("/api/v1/runs?") + bad, c.vic);
    INFO(bad);
    CHECK(status_of(r) == 400);
    CHECK_THAT(body_of(r)["message"].get<std::string>(),
               Catch::Contains(std::string(bad).substr(0, std::string(bad).find('='))));
  }
}

SCENARIO("cancelling a waiting run over HTTP cancels it and withdraws its request",
         "[console][runs]") {
  console_fixture c;
  auto id = c.gated_run("w1");
  auto r = c.call("POST", "/api/v1/runs/w1/cancel", c.ada, R"({"reason": "not today"})");
  REQUIRE(status_of(r) == 200);
  CHECK(body_of(r)["run"] == "w1");
  CHECK(c.rt().ended("w1", 10s).status == run_status::cancelled);
  REQUIRE(eventually([&] {
    auto row = json::parse(c.call("GET", "/api/v1/requests/" + url_id(id), c.vic).body,
                           nullptr, false);
    return row.is_object() && row["status"] == "expired";
  }));
  auto row = body_of(c.call("GET", "/api/v1/requests/" + url_id(id), c.vic));
  CHECK(row["audit"].back()["action"] == "withdrawn");
  CHECK(body_of(c.call("GET", "/api/v1/inbox", c.ann))["requests"].empty());
  // An ended run takes no more cancels or signals.
  auto late = c.call("POST", "/api/v1/runs/w1/cancel", c.ada, "{}");
  CHECK(status_of(late) == 409);
  CHECK(body_of(late)["error"] == "invalid_state");
  CHECK(status_of(c.call("POST", "/api/v1/runs/w1/signal", c.ada, R"({"name": "go"})")) == 409);
}

SCENARIO("a cancel over HTTP journals who sent it and from where, with or without a reason",
         "[console][runs]") {
  console_fixture c;
  c.gated_run("why1");
  c.gated_run("why2");
  REQUIRE(status_of(c.call("POST", "/api/v1/runs/why1/cancel", c.ada,
                           R"({"reason": "not today"})")) == 200);
  REQUIRE(status_of(c.call("POST", "/api/v1/runs/why2/cancel", c.ada, "{}")) == 200);
  REQUIRE(c.rt().ended("why1", 10s).status == run_status::cancelled);
  REQUIRE(c.rt().ended("why2", 10s).status == run_status::cancelled);
  // The journal's record (the run's detail and timeline), not only the log.
  CHECK_THAT(c.call("GET", "/api/v1/runs/why1", c.vic).body,
             Catch::Contains("not today (ada over HTTP from 127.0.0.1)"));
  CHECK_THAT(c.call("GET", "/api/v1/runs/why2", c.vic).body,
             Catch::Contains("ada over HTTP from 127.0.0.1"));
}

SCENARIO("releasing a run that is not quarantined is 409 and changes nothing",
         "[console][runs]") {
  console_fixture c;
  c.gated_run("q1");
  auto r = c.call("POST", "/api/v1/runs/q1/release", c.ada, R"({"reason": "looked fine"})");
  CHECK(status_of(r) == 409);
  CHECK(body_of(r)["error"] == "invalid_state");
  CHECK_THAT(body_of(r)["message"].get<std::string>(), Catch::Contains("q1"));
  CHECK(c.rt().rt().store().run("q1")->status == run_status::waiting);
}

SCENARIO("a run's timeline says what it waited for and who answered", "[console][runs]") {
  console_fixture c;
  auto id = c.gated_run("d1");
  auto waiting = body_of(c.call("GET", "/api/v1/runs/d1", c.vic));
  CHECK(waiting["status"] == "waiting");
  REQUIRE(waiting["requests"].size() == 1);
  CHECK(waiting["requests"][0]["id"] == id);
  CHECK(waiting["requests"][0]["tool"] == "publish");
  CHECK(waiting["requests"][0]["status"] == "pending");
  CHECK(waiting["requests"][0]["outcome"].is_null());

  REQUIRE(status_of(c.call("POST", "/api/v1/requests/" + url_id(id) + "/decision", c.ann,
                           R"({"decision": "approve"})")) == 200);
  REQUIRE(c.rt().ended("d1", 10s).status == run_status::completed);
  auto t = body_of(c.call("GET", "/api/v1/runs/d1", c.vic));
  REQUIRE(t["requests"].size() == 1);
  auto& outcome = t["requests"][0]["outcome"];
  CHECK(outcome["decision"] == "approve");
  CHECK(outcome["principals"] == json{"ann"});
  CHECK(outcome["channel"] == "http 127.0.0.1");
  CHECK(t["requests"][0]["status"] == "decided");
}

SCENARIO("runs waiting for a person are listed apart from the others", "[console][runs]") {
  console_fixture c;
  c.gated_run("p1");
  REQUIRE(c.rt().rt().start("two_steps", "p0", 1));
  c.rt().ended("p0", 10s);
  REQUIRE(c.rt().rt().start("awaits_go", "p2", 0));  // waiting, for a signal
  REQUIRE(c.rt().await_status("p2", run_status::waiting));
  auto r = body_of(c.call("GET", "/api/v1/runs?waiting_for_human=true", c.vic));
  REQUIRE(r["runs"].size() == 1);
  CHECK(r["runs"][0]["id"] == "p1");
  CHECK(body_of(c.call("GET", "/api/v1/runs?waiting_for_human=true&status=completed", c.vic))
          ["runs"].empty());
  CHECK(status_of(c.call("GET", "/api/v1/runs?waiting_for_human=yes", c.vic)) == 400);
  CHECK(body_of(c.call("GET", "/api/v1/runs?status=waiting", c.vic))["runs"].size() == 2);
}

SCENARIO("a signal over HTTP resumes the run that waits for it", "[console][runs]") {
  console_fixture c;
  auto r = c.call("POST", "/api/v1/runs", c.ada,
                  R"({"workflow": "awaits_go", "id": "s1", "input": 0})");
  REQUIRE(status_of(r) == 200);
  REQUIRE(c.rt().await_status("s1", run_status::waiting));
  auto sent = c.call("POST", "/api/v1/runs/s1/signal", c.ada,
                     R"({"name": "go", "payload": "green light"})");
  REQUIRE(status_of(sent) == 200);
  CHECK(body_of(sent)["run"] == "s1");
  REQUIRE(c.rt().ended("s1", 10s).status == run_status::completed);
  auto t = body_of(c.call("GET", "/api/v1/runs/s1", c.vic));
  CHECK(t["finished"]["value"] == "green light");
  REQUIRE(t["signals"].size() == 1);
  CHECK_THAT(t["signals"][0].get<std::string>(), Catch::Contains("go"));
}

SCENARIO("a run's timeline lists its own requests, not those of a run whose id extends it",
         "[console][runs]") {
  // Request ids are "RUN/STEP" and a run id may hold '/': run "a"'s
  // prefix "a/" also matches run "a/b"'s requests.
  console_fixture c;
  auto mine = c.gated_run("a");
  auto theirs = c.gated_run("a/b");
  auto a = body_of(c.call("GET", "/api/v1/runs/a", c.vic));
  REQUIRE(a["requests"].size() == 1);
  CHECK(a["requests"][0]["id"] == mine);
  auto ab = body_of(c.call("GET", "/api/v1/runs/" + url_id("a/b"), c.vic));
  REQUIRE(ab["requests"].size() == 1);
  CHECK(ab["requests"][0]["id"] == theirs);
}

SCENARIO("error answers are valid JSON even when they echo bytes that are not UTF-8",
         "[console]") {
  console_fixture c;
  auto r = c.call("GET", "/api/v1/runs/%FF%FE", c.vic);
  CHECK(r.status == 404);
  CHECK(body_of(r)["error"] == "not_found");
}
