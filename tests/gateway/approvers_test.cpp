// Who may decide a gated call: named principals, members of named groups,
// or anyone with the approver role; and how many must agree.
#include <nlohmann/json.hpp>

#include "endure/actors/gateway/policy.hpp"
#include "gateway/policy_test_support.hpp"

using namespace endure::gateway;
using endure::test::must_load;
using nlohmann::json;

SCENARIO("may_decide resolves principals and groups", "[gateway][approvers]") {
  auto p = must_load(R"(groups:
  finance: [bob, carol]
  legal: [lee, carol]
interrupt_on:
  publish:
    approvers: {principals: [alice], groups: [finance, legal]}
    quorum: 4
  pay:
    approvers: {groups: [finance]}
  send_email: true
)");
  auto publish = *p.gate("publish", json::object());
  CHECK(publish.quorum == 4);  // alice, bob, carol, lee: carol counts once
  for (auto who : {"alice", "bob", "carol", "lee"}) {
    INFO(who);
    CHECK(p.may_decide(publish, who));
  }
  CHECK_FALSE(p.may_decide(publish, "mallory"));
  CHECK_FALSE(p.may_decide(publish, "Alice"));  // exact names
  CHECK_FALSE(p.may_decide(publish, "finance"));  // a group's name is not a principal
  CHECK_FALSE(p.may_decide(publish, ""));

  auto pay = *p.gate("pay", json::object());
  CHECK(p.may_decide(pay, "bob"));
  CHECK_FALSE(p.may_decide(pay, "alice"));
  CHECK_FALSE(p.may_decide(pay, "lee"));

  auto mail = *p.gate("send_email", json::object());
  CHECK(mail.approvers.anyone());
  CHECK(p.may_decide(mail, "anyone-at-all"));
  CHECK_FALSE(p.may_decide(mail, ""));

  CHECK(p.group_members("legal") == std::vector<std::string>{"carol", "lee"});
  CHECK(p.group_members("nobody").empty());
}

SCENARIO("a rule names its approvers sorted, without repeats", "[gateway][approvers]") {
  auto p = must_load(R"(groups: {b: [x], a: [y]}
interrupt_on:
  t: {approvers: {principals: [zoe, adam, mia], groups: [b, a]}, quorum: 5}
)");
  auto rule = *p.gate("t", json::object());
  CHECK(rule.approvers.principals == std::vector<std::string>{"adam", "mia", "zoe"});
  CHECK(rule.approvers.groups == std::vector<std::string>{"a", "b"});
  CHECK(rule.quorum == 5);
}

SCENARIO("a quorum fits the approvers named", "[gateway][approvers]") {
  // Exactly as many as named is fine; with anyone, no bound but 1000.
  must_load("interrupt_on:\n  t: {approvers: {principals: [a, b, c]}, quorum: 3}\n");
  must_load("groups: {g: [a, b]}\ninterrupt_on:\n  t: {approvers: {groups: [g]}, quorum: 2}\n");
  auto p = must_load("interrupt_on:\n  t: {quorum: 1000}\n");
  CHECK(p.gate("t", json::object())->quorum == 1000);
  CHECK_THAT(endure::test::refusal("groups: {g: [a, b]}\ninterrupt_on:\n"
                                   "  t: {approvers: {groups: [g]}, quorum: 3}\n"),
             Catch::EndsWith("interrupt_on.t.quorum: 3 exceeds the 2 approvers named"));
}

SCENARIO("a deadline escalates to a group the policy defines", "[gateway][approvers]") {
  auto p = must_load(R"(groups: {managers: [max, mo]}
interrupt_on:
  t: {deadline: {after: 4h, outcome: escalate, escalate_to: managers}, reminders: [1h, 3h]}
)");
  auto rule = *p.gate("t", json::object());
  REQUIRE(rule.deadline);
  CHECK(p.group_members(rule.deadline->escalate_to) == std::vector<std::string>{"max", "mo"});
}
