// What a policy file may say, read the way the gate will use it: the talk's
// one-liner as is, then every field of a tool's rule, the defaults block
// and groups, and loading from a file.
#include <fstream>

#include <nlohmann/json.hpp>

#include "endure/actors/gateway/policy.hpp"
#include "gateway/policy_test_support.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::gateway;
using endure::test::must_load;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::vector<decision> every_decision{decision::approve, decision::edit, decision::reject,
                                           decision::respond};

} // namespace

SCENARIO("the talk's one-liner loads as it is", "[gateway][policy]") {
  auto p = must_load(
    "interrupt_on: {send_email: true, execute_sql: true, delete_file: true, publish: true}\n");
  for (auto tool : {"send_email", "execute_sql", "delete_file", "publish"}) {
    INFO(tool);
    auto rule = p.gate(tool, json::object());
    REQUIRE(rule);
    CHECK(rule->tool == tool);
    CHECK(rule->allowed_decisions == every_decision);
    CHECK(rule->approvers.anyone());
    CHECK(rule->quorum == 1);
    CHECK_FALSE(rule->deadline);
    CHECK(rule->reminders.empty());
    CHECK(rule->condition.empty());
    CHECK(rule->matched.empty());
    CHECK(rule->policy_hash == p.hash());
  }
  CHECK_FALSE(p.gate("search_web", json::object()));
  CHECK_FALSE(p.gate("Send_Email", json::object()));  // names match exactly
  CHECK(p.gated_tools() == std::vector<std::string>{"delete_file", "execute_sql", "publish",
                                                    "send_email"});
}

SCENARIO("false lists a tool without gating it", "[gateway][policy]") {
  auto p = must_load("interrupt_on:\n  send_email: true\n  read_file: false\n");
  CHECK(p.gate("send_email", json::object()));
  CHECK_FALSE(p.gate("read_file", json::object()));
  CHECK(p.gated_tools() == std::vector<std::string>{"send_email"});
  auto lines = p.describe();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "read_file: not gated (listed false)");
}

SCENARIO("an empty interrupt_on gates nothing", "[gateway][policy]") {
  auto p = must_load("interrupt_on: {}\n");
  CHECK_FALSE(p.gate("send_email", json::object()));
  CHECK(p.describe().empty());
}

SCENARIO("every field of a tool's rule is read", "[gateway][policy]") {
  auto p = must_load(R"(# a full rule
groups:
  finance: [bob, carol]
  managers: [dana]
interrupt_on:
  publish:
    allowed_decisions: [reject, approve]
    description: "Publishing is visible to everyone"
    when: {pointer: /amount, op: gt, value: 1000}
    approvers: {principals: [alice], groups: [finance]}
    quorum: 2
    deadline: {after: 30m, outcome: escalate, escalate_to: managers}
    reminders: [25m, 10m]
)");
  auto rule = p.gate("publish", json{{"amount", 5000}});
  REQUIRE(rule);
  CHECK(rule->allowed_decisions == std::vector<decision>{decision::approve, decision::reject});
  CHECK(rule->allows(decision::approve));
  CHECK_FALSE(rule->allows(decision::edit));
  CHECK(rule->description == "Publishing is visible to everyone");
  CHECK(rule->approvers.principals == std::vector<std::string>{"alice"});
  CHECK(rule->approvers.groups == std::vector<std::string>{"finance"});
  CHECK(rule->quorum == 2);
  REQUIRE(rule->deadline);
  CHECK(rule->deadline->after == 30min);
  CHECK(rule->deadline->outcome == deadline_outcome::escalate);
  CHECK(rule->deadline->escalate_to == "managers");
  CHECK(rule->reminders == std::vector<std::chrono::seconds>{10min, 25min});
  CHECK(rule->condition == "/amount gt 1000");
  CHECK(rule->matched == std::vector<std::string>{"/amount gt 1000 (is 5000)"});
  CHECK_FALSE(p.gate("publish", json{{"amount", 10}}));

  auto lines = p.describe();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]
        == "publish: gated when /amount gt 1000; decisions approve, reject; decided by alice or "
           "group finance (bob, carol); quorum 2; deadline 30m, then escalate to group managers; "
           "reminders at 10m, 25m; description: \"Publishing is visible to everyone\"");
}

SCENARIO("deadline outcomes and their defaults", "[gateway][policy]") {
  auto p = must_load(R"(interrupt_on:
  a: {deadline: {after: 90s}}
  b: {deadline: {after: 2h, outcome: keep_waiting}, reminders: [1h]}
  c: {deadline: {after: 1d, outcome: reject}}
)");
  auto a = p.gate("a", json::object());
  REQUIRE((a && a->deadline));
  CHECK(a->deadline->after == 90s);
  CHECK(a->deadline->outcome == deadline_outcome::reject);  // the safe default
  CHECK(a->deadline->escalate_to.empty());
  auto b = p.gate("b", json::object());
  REQUIRE((b && b->deadline));
  CHECK(b->deadline->outcome == deadline_outcome::keep_waiting);
  CHECK(b->reminders == std::vector<std::chrono::seconds>{1h});
  auto c = p.gate("c", json::object());
  REQUIRE((c && c->deadline));
  CHECK(c->deadline->after == 24h);
}

SCENARIO("the default block fills what a tool leaves out", "[gateway][policy]") {
  auto p = must_load(R"(groups: {ops: [olga], managers: [max]}
default:
  description: needs a person
  approvers: {groups: [ops]}
  deadline: {after: 1h, outcome: escalate, escalate_to: managers}
interrupt_on:
  send_email: true
  execute_sql: {description: runs SQL, approvers: {principals: [sam]}, reminders: [30m]}
  publish: {deadline: {after: 10m}}
)");
  auto mail = p.gate("send_email", json::object());
  REQUIRE(mail);
  CHECK(mail->description == "needs a person");
  CHECK(mail->approvers.groups == std::vector<std::string>{"ops"});
  REQUIRE(mail->deadline);
  CHECK(mail->deadline->after == 1h);
  CHECK(mail->deadline->escalate_to == "managers");

  auto sql = p.gate("execute_sql", json::object());
  REQUIRE(sql);
  CHECK(sql->description == "runs SQL");
  CHECK(sql->approvers.principals == std::vector<std::string>{"sam"});
  CHECK(sql->approvers.groups.empty());  // the tool's approvers replace the default's
  CHECK(sql->reminders == std::vector<std::chrono::seconds>{30min});  // before the default's 1h
  REQUIRE(sql->deadline);
  CHECK(sql->deadline->after == 1h);

  auto pub = p.gate("publish", json::object());
  REQUIRE((pub && pub->deadline));
  CHECK(pub->deadline->after == 10min);
  CHECK(pub->deadline->outcome == deadline_outcome::reject);
  CHECK(pub->description == "needs a person");
}

SCENARIO("an empty approvers map means anyone, even over a default", "[gateway][policy]") {
  auto p = must_load(R"(default: {approvers: {principals: [ann]}}
interrupt_on:
  a: true
  b: {approvers: {}}
)");
  CHECK(p.gate("a", json::object())->approvers.principals == std::vector<std::string>{"ann"});
  CHECK(p.gate("b", json::object())->approvers.anyone());
}

SCENARIO("quoting, flow and block style, comments and aliases all read the same",
         "[gateway][policy]") {
  auto p = must_load(R"(
# comment
"interrupt_on":
  'send_email': {description: &d "shared text"}   # trailing comment
  publish:
    description: *d
    when:
      pointer: "/to"
      op: matches
      value: '@example\.com$'
)");
  CHECK(p.gate("send_email", json::object())->description == "shared text");
  CHECK(p.gate("publish", json{{"to", "ann@example.com"}})->description == "shared text");
  CHECK_FALSE(p.gate("publish", json{{"to", "ann@example.org"}}));
}

SCENARIO("to_json gives the canonical form with every default applied", "[gateway][policy]") {
  auto p = must_load("interrupt_on: {publish: true, read: false}\n");
  auto expected = json::parse(R"({
    "groups": {},
    "interrupt_on": {"publish": {
      "allowed_decisions": ["approve", "edit", "reject", "respond"],
      "approvers": {"groups": [], "principals": []},
      "deadline": null, "description": "", "quorum": 1,
      "reminders_seconds": [], "when": null}}})");
  CHECK(p.to_json() == expected);
  auto rule = to_json(*p.gate("publish", json::object()));
  CHECK(rule["tool"] == "publish");
  CHECK(rule["policy_hash"] == p.hash());
}

SCENARIO("a policy loads from a file, named by its path in errors", "[gateway][policy][file]") {
  endure::test::temp_dir dir;
  auto path = dir.file("policy.yaml");
  {
    std::ofstream out(path);
    out << "interrupt_on: {send_email: true}\n";
  }
  auto p = load_policy_file(path);
  REQUIRE(p);
  CHECK(p->source() == path);
  CHECK(p->gate("send_email", json::object()));
  CHECK(p->hash() == must_load("interrupt_on: {send_email: true}").hash());

  WHEN("the file is missing, a directory, too large or not a policy") {
    auto missing = load_policy_file(dir.file("nope.yaml"));
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == errc::not_found);
    CHECK(missing.error().message == dir.file("nope.yaml") + ": no such policy file");

    auto directory = load_policy_file(dir.path());
    REQUIRE_FALSE(directory);
    CHECK(directory.error().code == errc::io_error);
    CHECK_THAT(directory.error().message, Catch::Contains("is a directory"));

    auto big_path = dir.file("big.yaml");
    {
      std::ofstream out(big_path);
      out << "interrupt_on: {}\n" << std::string(max_policy_bytes, '#') << "\n";
    }
    auto big = load_policy_file(big_path);
    REQUIRE_FALSE(big);
    CHECK_THAT(big.error().message, Catch::Contains("a policy may have at most 1048576"));

    auto bad_path = dir.file("bad.yaml");
    {
      std::ofstream out(bad_path);
      out << "interrupt_on:\n  publish: {quorum: 0}\n";
    }
    auto bad = load_policy_file(bad_path);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message
          == bad_path + ":2:13: interrupt_on.publish.quorum: 0 is not a quorum: at least 1 "
                        "approval is needed");
  }
}
