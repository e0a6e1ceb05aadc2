// The policy hash is journaled with every decision: it must name what the
// policy means, not how it was written. The same policy in another order,
// style, quoting or unit hashes the same; any change to what gate() or
// may_decide() would answer changes it.
#include <nlohmann/json.hpp>

#include "endure/actors/agent/canonical_json.hpp"
#include "endure/actors/gateway/policy.hpp"
#include "gateway/policy_test_support.hpp"

using endure::test::must_load;
using nlohmann::json;

namespace {

const char* const base = R"(groups:
  finance: [bob, carol]
  managers: [max]
default:
  description: needs a person
interrupt_on:
  send_email: true
  publish:
    allowed_decisions: [approve, reject]
    when: {all: [{pointer: /amount, op: gt, value: 1000}, {pointer: /to, op: in, value: [a, b]}]}
    approvers: {principals: [alice], groups: [finance]}
    quorum: 2
    deadline: {after: 30m, outcome: escalate, escalate_to: managers}
    reminders: [10m, 25m]
)";

} // namespace

SCENARIO("the same policy written differently hashes the same", "[gateway][hash]") {
  auto h = must_load(base).hash();
  CHECK(h.size() == 64);
  CHECK(h == must_load(base).hash());
  const char* const same[] = {
    // keys in another order, flow style, comments, quotes, other units,
    // sets reordered, defaults spelled out, a `false` tool added
    R"(# the same policy
interrupt_on:
  publish:
    reminders: [1500s, 600s]
    deadline: {escalate_to: "managers", after: 1800s, outcome: escalate}
    quorum: 2
    approvers: {groups: [finance], principals: ['alice']}
    when: {all: [{op: in, value: [b, a, b], pointer: /to}, {value: 1000.0, op: gt, pointer: "/amount"}]}
    allowed_decisions: [reject, approve]
    description: needs a person
  send_email: {allowed_decisions: [respond, reject, edit, approve], description: needs a person}
  read_file: false
groups: {managers: [max], finance: [carol, bob]}
)",
    R"(groups: {finance: [bob, carol], managers: [max]}
interrupt_on: {send_email: {description: "needs a person", approvers: {}, quorum: 1},
  publish: {allowed_decisions: [approve, reject], description: needs a person,
    when: {all: [{pointer: /to, op: in, value: [a, b]}, {pointer: /amount, op: gt, value: 1000}]},
    approvers: {principals: [alice], groups: [finance]}, quorum: 2,
    deadline: {after: 0.5h, outcome: escalate, escalate_to: managers}, reminders: [10m, 25m]}}
)",
  };
  // 0.5h is not a duration: the second text must differ only where allowed.
  auto first = must_load(same[0]);
  CHECK(first.hash() == h);
  CHECK(first.to_json() == must_load(base).to_json());
  std::string second = same[1];
  second.replace(second.find("0.5h"), 4, "30m");
  CHECK(must_load(second).hash() == h);
}

SCENARIO("any change to what the policy means changes its hash", "[gateway][hash]") {
  auto h = must_load(base).hash();
  struct edit {
    const char* from;
    const char* to;
  };
  const edit edits[] = {
    {"send_email: true", "send_email: false"},
    {"send_email: true", "send_mail: true"},
    {"[approve, reject]", "[approve, reject, edit]"},
    {"value: 1000}", "value: 1001}"},
    {"value: 1000}", "value: \"1000\"}"},
    {"op: gt", "op: ge"},
    {"/amount", "/total"},
    {"{all:", "{any:"},
    {"value: [a, b]", "value: [a, b, c]"},
    {"principals: [alice]", "principals: [alicia]"},
    {"principals: [alice]", "principals: [alice, zed]"},
    {"groups: [finance]}", "groups: [finance, managers]}"},
    {"finance: [bob, carol]", "finance: [bob, carol, dan]"},
    {"managers: [max]", "managers: [maxine]"},
    {"quorum: 2", "quorum: 1"},
    {"after: 30m", "after: 31m"},
    {"outcome: escalate, escalate_to: managers", "outcome: reject"},
    {"escalate_to: managers", "escalate_to: finance"},
    {"reminders: [10m, 25m]", "reminders: [10m]"},
    {"description: needs a person", "description: needs a human"},
  };
  for (auto& e : edits) {
    std::string text = base;
    auto at = text.find(e.from);
    REQUIRE(at != std::string::npos);
    text.replace(at, std::string{e.from}.size(), e.to);
    INFO(e.from << " -> " << e.to);
    CHECK(must_load(text).hash() != h);
  }
  // A condition wrapped in not, or removed, changes what gates.
  std::string negated = base;
  negated.replace(negated.find("when: {all: ["), 13, "when: {not: {all: [");
  negated.replace(negated.find("]}\n    approvers"), 2, "]}}");
  CHECK(must_load(negated).hash() != h);
}

SCENARIO("the hash is the SHA-256 of the canonical JSON form", "[gateway][hash]") {
  auto p = must_load("interrupt_on: {send_email: true}\n");
  // Pinned: changing the canonical form changes every journaled hash, so it
  // must be a deliberate, visible change.
  CHECK(p.to_json().dump()
        == R"({"groups":{},"interrupt_on":{"send_email":{"allowed_decisions":["approve","edit","reject","respond"],"approvers":{"groups":[],"principals":[]},"deadline":null,"description":"","quorum":1,"reminders_seconds":[],"when":null}}})");
  CHECK(p.hash() == endure::agent::json_hash(p.to_json()));
}
