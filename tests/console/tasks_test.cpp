// The tasks of the console's API: GET /api/v1/tasks lists every long task
// with its tally, GET /api/v1/tasks/ID is its ledger (each item's status
// and last evidence), progress log and artifacts, for any viewer; an
// unknown task is 404 naming it, a POST is 405, no token is 401.
#include <catch2/catch.hpp>

#include "console/console_fixture.hpp"
#include "endure/actors/state/ledger_json.hpp"
#include "endure/actors/state/ledger_store.hpp"
#include "endure/actors/state/record_tags.hpp"
#include "endure/persistence/journal.hpp"

using namespace endure;
using namespace endure::test;
using nlohmann::json;

SCENARIO("a viewer reads a task's ledger, evidence and progress over HTTP", "[console][tasks]") {
  console_fixture c;
  state::ledger_store ledger{const_cast<journal&>(c.rt().rt().store())};
  auto items = state::ledger_spec_from_json(R"([
    {"id": "a", "description": "First", "verification": {"command": "true"}},
    {"id": "b", "description": "Second", "verification": {"command": "false"}}])");
  REQUIRE(items);
  REQUIRE(ledger.create("docs", "Write the docs", *items, 1));
  state::evidence e;
  e.ran = "true";
  e.passed = true;
  e.exit_status = 0;
  REQUIRE(ledger.record_verification("docs", "a", e));
  state::progress_entry p;
  p.session = 2;
  p.items = {"a"};
  p.ended = "verified";
  REQUIRE(ledger.append_progress("docs", p));

  auto list = c.call("GET", "/api/v1/tasks", c.vic);
  REQUIRE(list.status == 200);
  auto tasks = body_of(list)["tasks"];
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0]["task"] == "docs");
  CHECK(tasks[0]["passing"] == 1);
  CHECK(tasks[0]["items"] == 2);

  auto one = c.call("GET", "/api/v1/tasks/docs", c.vic);
  REQUIRE(one.status == 200);
  auto report = body_of(one);
  CHECK(report["ledger"]["items"][0]["status"] == "passing");
  CHECK(report["ledger"]["items"][0]["last"]["ran"] == "true");
  CHECK(report["ledger"]["items"][1]["status"] == "failing");
  CHECK(report["ledger"]["items"][1]["last"].is_null());
  CHECK(report["progress"][0]["ended"] == "verified");
  CHECK(report["artifacts"].empty());

  auto missing = c.call("GET", "/api/v1/tasks/nope", c.vic);
  CHECK(missing.status == 404);
  CHECK_THAT(body_of(missing)["message"].get<std::string>(), Catch::Contains("no task nope"));
  CHECK(c.call("POST", "/api/v1/tasks/docs", c.ada, "{}").status == 405);
  CHECK(c.call("GET", "/api/v1/tasks/docs", "").status == 401);

  // A damaged item row: the ledger is not shown shorter than it is, and the
  // answer names the row's trouble.
  write_batch damage;
  damage.put_row(side_table::ledger, "i/docs/b", record{state::ledger_item_tag, 1, "{oops"});
  REQUIRE(const_cast<journal&>(c.rt().rt().store()).commit(std::move(damage)));
  auto damaged = c.call("GET", "/api/v1/tasks/docs", c.vic);
  CHECK(damaged.status == 500);
  CHECK(body_of(damaged)["error"] == "corrupt_record");
  CHECK_THAT(body_of(damaged)["message"].get<std::string>(), Catch::Contains("item b"));
}
