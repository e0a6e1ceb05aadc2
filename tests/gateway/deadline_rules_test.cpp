// apply_deadline and reminders as pure functions over a request row: what
// each outcome does, and that a decision reached first always wins.
#include <catch2/catch.hpp>

#include "endure/actors/gateway/deadline.hpp"
#include "endure/actors/gateway/decide.hpp"

using namespace endure;
using namespace endure::gateway;
using nlohmann::json;

namespace {

human_request pending(const std::string& outcome) {
  human_request r;
  r.id = "run/1";
  r.run_id = "run";
  r.tool = "publish";
  r.created_ms = 10'000;
  r.rule = {{"allowed_decisions", {"approve", "reject"}},
            {"quorum", 2},
            {"eligible", {"ann", "bob", "cat"}},
            {"deadline", {{"after_seconds", 60}, {"outcome", outcome}}},
            {"reminders_seconds", {10, 30}}};
  if (outcome == "escalate") {
    r.rule["deadline"]["escalate_to"] = "managers";
    r.rule["escalate_eligible"] = {"max"};
  }
  r.due_ms = first_due_ms(r.created_ms, r.rule);
  return r;
}

} // namespace

SCENARIO("a request's deadline", "[deadline]") {
  GIVEN("a deadline not reached yet, or none") {
    auto r = pending("reject");
    CHECK(r.due_ms == 70'000);
    CHECK(apply_deadline(r, 69'999) == deadline_step::not_due);
    CHECK(r.status == request_status::pending);
    CHECK(*parse_deadline_answer(deadline_answer(r)) == parsed_deadline_answer{std::nullopt, 70'000});
    r.due_ms = 0;
    CHECK(apply_deadline(r, 1'000'000) == deadline_step::not_due);
  }
  GIVEN("reject") {
    auto r = pending("reject");
    REQUIRE(apply_deadline(r, 70'000) == deadline_step::expired);
    CHECK(r.status == request_status::expired);
    CHECK(r.outcome->what == decision::reject);
    CHECK(r.outcome->text == "no decision within 1m");
    auto answer = parse_deadline_answer(deadline_answer(r));
    REQUIRE(answer->outcome);
    CHECK(parse_outcome(*answer->outcome)->text == "no decision within 1m");
    CHECK(apply_deadline(r, 80'000) == deadline_step::final_already);
  }
  GIVEN("escalate, with one approval counted") {
    auto r = pending("escalate");
    REQUIRE(apply_decision(r, {"ann", decision::approve, {}, "c++", 20'000}, nullptr));
    REQUIRE(apply_deadline(r, 70'000) == deadline_step::escalated);
    CHECK(eligible_principals(r) == std::vector<std::string>{"max"});
    CHECK(r.approved_by.empty());
    CHECK(r.rule["quorum"] == 1);  // one manager: min(2, 1)
    CHECK(r.due_ms == 130'000);
    CHECK(r.audit.back().action == "escalated");
    CHECK(apply_deadline(r, 129'999) == deadline_step::not_due);
    REQUIRE(apply_deadline(r, 130'000) == deadline_step::expired);
    CHECK(r.outcome->text == "no decision within 1m after the escalation to managers");
  }
  GIVEN("keep_waiting") {
    auto r = pending("keep_waiting");
    REQUIRE(apply_deadline(r, 70'000) == deadline_step::kept_waiting);
    CHECK(r.status == request_status::pending);
    CHECK(r.due_ms == 0);
    CHECK(*parse_deadline_answer(deadline_answer(r)) == parsed_deadline_answer{std::nullopt, 0});
  }
  GIVEN("a decision applied just before the deadline step") {
    auto r = pending("reject");
    REQUIRE(apply_decision(r, {"ann", decision::reject, {{"reason", "no"}}, "c++", 69'999}, nullptr));
    REQUIRE(apply_decision(r, {"bob", decision::approve, {}, "c++", 69'999}, nullptr).error().code
            == errc::invalid_state);
    THEN("the deadline finds it final and answers the person's outcome") {
      REQUIRE(apply_deadline(r, 70'001) == deadline_step::final_already);
      auto answer = parse_deadline_answer(deadline_answer(r));
      REQUIRE(answer->outcome);
      CHECK(parse_outcome(*answer->outcome)->principals == std::vector<std::string>{"ann"});
      CHECK(r.status == request_status::decided);
    }
  }
  GIVEN("answers that cannot be read") {
    for (auto text : {"", "[]", "{}", R"({"due_ms": "soon"})", R"({"outcome": 5})", "{"})
      CHECK_FALSE(parse_deadline_answer(text));
  }
}

SCENARIO("reminders", "[deadline][reminder]") {
  auto r = pending("reject");
  CHECK(next_reminder_ms(r) == 20'000);
  CHECK(record_reminder(r, 19'999) == 0);
  CHECK(record_reminder(r, 20'000) == 1);
  CHECK(record_reminder(r, 20'001) == 0);  // the second is due at 40 s
  CHECK(next_reminder_ms(r) == 40'000);
  GIVEN("a process that was down past both: they are sent late, in order") {
    auto late = pending("reject");
    CHECK(record_reminder(late, 50'000) == 1);
    CHECK(record_reminder(late, 50'000) == 2);
    CHECK(record_reminder(late, 50'000) == 0);
    CHECK_FALSE(next_reminder_ms(late));
  }
  GIVEN("a decided request") {
    REQUIRE(apply_decision(r, {"ann", decision::reject, {}, "c++", 30'000}, nullptr));
    CHECK_FALSE(next_reminder_ms(r));
    CHECK(record_reminder(r, 50'000) == 0);
  }
}
