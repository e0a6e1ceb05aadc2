// A person's decision on a request: decided once, only by its approvers,
// only as the rule allows, a quorum of distinct principals, edits checked
// against the tool's schema, and every attempt (refused ones too) in the
// request's audit trail. The row survives its encoding unchanged.
#include <catch2/catch.hpp>

#include "endure/actors/agent/canonical_json.hpp"
#include "endure/actors/agent/tool_registry.hpp"
#include "endure/actors/gateway/decide.hpp"
#include "endure/actors/utc_time.hpp"

using namespace endure;
using namespace endure::gateway;
using nlohmann::json;

namespace {

human_request publish_request(std::uint32_t quorum = 1,
                              std::vector<std::string> eligible = {"ann", "bob", "cy"}) {
  human_request r;
  r.id = "run-1/4";
  r.run_id = "run-1";
  r.tool = "publish";
  r.arguments = {{"title", "Durable agents"}};
  r.arguments_hash = agent::json_hash(r.arguments);
  r.rule = {{"tool", "publish"}, {"allowed_decisions", {"approve", "edit", "reject"}},
            {"quorum", quorum}, {"eligible", eligible}, {"policy_hash", "p1"}};
  r.created_ms = 1000;
  return r;
}

agent::tool_registry publish_tools() {
  agent::tool_registry t;
  json schema = {{"type", "object"},
                 {"properties", {{"title", {{"type", "string"}, {"maxLength", 40}}}}},
                 {"required", {"title"}}};
  REQUIRE(t.add({"publish", "Publishes.", schema, [](const json&) { return json{}; }, true}));
  return t;
}

decision_input as(std::string who, decision d, json payload = {}) {
  return {std::move(who), d, std::move(payload), "c++", 2000};
}

} // namespace

SCENARIO("a request is decided once and a second decision names who decided and when",
         "[gateway][decide]") {
  auto r = publish_request();
  auto tools = publish_tools();
  REQUIRE(*apply_decision(r, as("ann", decision::approve), &tools) == decide_result::decided);
  CHECK(r.status == request_status::decided);
  CHECK(r.outcome->principals == std::vector<std::string>{"ann"});
  auto again = apply_decision(r, as("bob", decision::reject, {{"reason", "late"}}), &tools);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == errc::invalid_state);
  CHECK_THAT(again.error().message, Catch::Contains("already decided by ann at 1970-01-01T00:00:02.000Z;"));
  CHECK(r.outcome->what == decision::approve);  // unchanged
  REQUIRE(r.audit.size() == 2);
  CHECK(r.audit[1].principal == "bob");
  CHECK_THAT(r.audit[1].outcome, Catch::StartsWith("refused"));
}

SCENARIO("only the request's approvers may decide, and only as the rule allows",
         "[gateway][decide]") {
  auto tools = publish_tools();
  auto r = publish_request();
  auto stranger = apply_decision(r, as("mallory", decision::approve), &tools);
  REQUIRE_FALSE(stranger);
  CHECK(stranger.error().code == errc::permission_denied);
  auto nobody = apply_decision(r, as("", decision::approve), &tools);
  CHECK(nobody.error().code == errc::permission_denied);
  auto respond = apply_decision(r, as("ann", decision::respond, {{"text", "done"}}), &tools);
  REQUIRE_FALSE(respond);
  CHECK(respond.error().code == errc::invalid_argument);
  CHECK(r.status == request_status::pending);
  CHECK(r.audit.size() == 3);  // every refused attempt is in the trail
}

SCENARIO("a quorum needs distinct principals", "[gateway][decide]") {
  auto tools = publish_tools();
  auto r = publish_request(2);
  REQUIRE(*apply_decision(r, as("ann", decision::approve), &tools) == decide_result::counted);
  CHECK(r.status == request_status::pending);
  auto twice = apply_decision(r, as("ann", decision::approve), &tools);
  REQUIRE_FALSE(twice);
  CHECK_THAT(twice.error().message, Catch::Contains("distinct"));
  REQUIRE(*apply_decision(r, as("bob", decision::approve), &tools) == decide_result::decided);
  CHECK(r.outcome->principals == std::vector<std::string>{"ann", "bob"});
}

SCENARIO("an edit runs only arguments that pass the tool's schema", "[gateway][decide]") {
  auto tools = publish_tools();
  auto r = publish_request();
  auto bad = apply_decision(r, as("ann", decision::edit, {{"arguments", {{"title", 7}}}}), &tools);
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("/title"));
  auto shapeless = apply_decision(r, as("ann", decision::edit, {{"title", "x"}}), &tools);
  CHECK_FALSE(shapeless);
  auto unknown_schema = apply_decision(r, as("ann", decision::edit, {{"arguments", {{"title", "x"}}}}),
                                       nullptr);
  CHECK_FALSE(unknown_schema);
  json edited = {{"title", "Durable agents, revised"}};
  REQUIRE(*apply_decision(r, as("bob", decision::edit, {{"arguments", edited}}), &tools)
          == decide_result::decided);
  CHECK(r.outcome->edited_arguments == edited);
  CHECK(r.outcome->edited_hash == agent::json_hash(edited));
  CHECK(r.outcome->edited_hash != r.arguments_hash);
}

SCENARIO("a question with choices takes exactly one of them as its answer", "[gateway][decide]") {
  human_request q;
  q.id = "run-3/1";
  q.run_id = "run-3";
  q.kind = request_kind::question;
  q.tool = "ask_human";
  q.arguments = {{"question", "Which audience?"}, {"choices", {"engineers", "managers"}},
                 {"context", ""}};
  for (std::string near : {"Engineers", "engineers ", "", "engineers, managers", "other"}) {
    CAPTURE(near);
    auto refused = apply_decision(q, as("ann", decision::respond, {{"text", near}}), nullptr);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == errc::invalid_argument);
    CHECK_THAT(refused.error().message,
               Catch::Contains("request run-3/1 (run run-3)")
                 && Catch::Contains("exactly one of the choices") 
                 && Catch::Contains("\"engineers\", \"managers\""));
    CHECK(q.status == request_status::pending);
  }
  REQUIRE(q.audit.size() == 5);  // every refused answer is in the trail
  CHECK_THAT(q.audit.back().outcome, Catch::StartsWith("refused: the answer must be"));
  auto answered = apply_decision(q, as("bob", decision::respond, {{"text", "managers"}}), nullptr);
  REQUIRE(answered);
  CHECK(*answered == decide_result::decided);
  CHECK(q.outcome->text == "managers");

  // Choices that are empty or not a list of texts restrict nothing.
  for (json choices : {json::array(), json(nullptr), json("engineers"), json{5, true}}) {
    CAPTURE(choices);
    human_request open = q;
    open.status = request_status::pending;
    open.outcome.reset();
    open.arguments["choices"] = choices;
    CHECK(apply_decision(open, as("ann", decision::respond, {{"text", "anything"}}), nullptr));
  }
}

SCENARIO("times in a refusal read as UTC ISO 8601", "[gateway][decide]") {
  CHECK(utc_time_text(0) == "1970-01-01T00:00:00.000Z");
  CHECK(utc_time_text(1'796'124'266'215) == "2026-12-01T11:24:26.215Z");
  CHECK(utc_time_text(1'799'064'184'250) == "2027-01-04T12:03:04.250Z");
  CHECK(utc_time_text(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(utc_time_text(951'782'400'000) == "2000-02-29T00:00:00.000Z");  // a leap day
}

SCENARIO("a question is answered with respond only", "[gateway][decide]") {
  human_request q;
  q.id = "run-2/1";
  q.run_id = "run-2";
  q.kind = request_kind::question;
  q.tool = "ask_human";
  q.arguments = {{"question", "Which audience?"}};
  CHECK_FALSE(apply_decision(q, as("ann", decision::approve), nullptr));
  auto answered = apply_decision(q, as("ann", decision::respond, {{"text", "engineers"}}), nullptr);
  REQUIRE(answered);
  CHECK(q.outcome->text == "engineers");
}

SCENARIO("a request row and an outcome survive their encoding", "[gateway][decide]") {
  auto tools = publish_tools();
  auto r = publish_request(2);
  REQUIRE(apply_decision(r, as("ann", decision::approve), &tools));
  REQUIRE(apply_decision(r, as("bob", decision::approve), &tools));
  auto back = from_record(to_record(r), r.id);
  REQUIRE(back);
  CHECK(*back == r);
  auto payload = parse_outcome(outcome_payload(*r.outcome));
  REQUIRE(payload);
  CHECK(*payload == *r.outcome);
  CHECK_FALSE(parse_outcome("{\"decision\": \"maybe\"}"));
  CHECK_FALSE(parse_outcome("not json"));
  auto damaged = to_record(r);
  damaged.payload = damaged.payload.substr(0, damaged.payload.size() / 2);
  auto refused = from_record(damaged, r.id);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::corrupt_record);
  CHECK_THAT(refused.error().message, Catch::Contains("request run-1/4"));
}

SCENARIO("one person's edit cannot stand in for a quorum", "[gateway][decide]") {
  auto tools = publish_tools();
  auto r = publish_request(2);
  auto edit = apply_decision(r, as("ann", decision::edit, {{"arguments", r.arguments}}), &tools);
  REQUIRE_FALSE(edit);
  CHECK_THAT(edit.error().message, Catch::Contains("needs 2 approvals"));
  CHECK(r.status == request_status::pending);
}

SCENARIO("a principal that is not printable UTF-8 is refused and still audited",
         "[gateway][decide]") {
  auto tools = publish_tools();
  auto r = publish_request(1, {});  // anyone may decide
  for (std::string bad : {std::string{"\xff"}, std::string{"ann\n"}, std::string(201, 'a')}) {
    auto d = apply_decision(r, as(bad, decision::approve), &tools);
    REQUIRE_FALSE(d);
    CHECK(d.error().code == errc::permission_denied);
  }
  CHECK(r.status == request_status::pending);
  CHECK(r.audit.size() == 3);
  CHECK(gateway::outcome_payload({decision::approve, {"\xff"}, 1, "c++", {}, {}, {}}).size() > 0);
  CHECK(from_record(to_record(r), r.id));
}

SCENARIO("a rejection whose reason is not text is refused and audited", "[gateway][decide]") {
  auto tools = publish_tools();
  auto r = publish_request();
  for (json reason : {json(5), json::array({"late"}), json(nullptr)}) {
    auto d = apply_decision(r, as("ann", decision::reject, {{"reason", reason}}), &tools);
    REQUIRE_FALSE(d);
    CHECK(d.error().code == errc::invalid_argument);
    CHECK_THAT(d.error().message, Catch::Contains("a rejection's reason is text"));
  }
  CHECK(r.status == request_status::pending);
  CHECK(r.audit.size() == 3);
  REQUIRE(*apply_decision(r, as("ann", decision::reject, {{"reason", "late"}}), &tools)
          == decide_result::decided);
  CHECK(r.outcome->text == "late");
}
