// Every way a policy file can be wrong is refused at load, with the file,
// the line and column where the field is written (at its key; at the item
// in a list), the field's path and what is wrong. The positions below were
// counted by hand from the texts: 1-based, as editors show them.
#include <nlohmann/json.hpp>

#include "endure/actors/gateway/policy.hpp"
#include "gateway/policy_test_support.hpp"

using endure::test::refusal;

SCENARIO("a file that is not a policy document", "[gateway][policy][errors]") {
  CHECK(refusal("") == "policy.yaml: the policy is empty: it needs at least interrupt_on:, e.g. "
                       "interrupt_on: {send_email: true}");
  CHECK_THAT(refusal("# only a comment\n\n"),
             Catch::StartsWith("policy.yaml: the policy is empty"));
  CHECK_THAT(refusal("interrupt_on: {send_email: true\n"),
             Catch::StartsWith("policy.yaml:2:1: not valid YAML: "));
  CHECK_THAT(refusal("interrupt_on:\n  publish: [a\n  other: b\n"),
             Catch::StartsWith("policy.yaml:3:8: not valid YAML: "));
  CHECK(refusal("just some text\n")
        == "policy.yaml:1:1: expected a map with interrupt_on: (and optionally groups:, "
           "default:), got the text 'just some text'");
  CHECK(refusal("- interrupt_on\n")
        == "policy.yaml:1:1: expected a map with interrupt_on: (and optionally groups:, "
           "default:), got a list");
  CHECK(refusal("interrupt_on: {}\n---\ninterrupt_on: {a: true}\n")
        == "policy.yaml:3:1: a second YAML document: a policy is one document");
  CHECK(refusal("groups: {ops: [olga]}\n")
        == "policy.yaml:1:1: interrupt_on: is required: the tools to gate, e.g. "
           "interrupt_on: {send_email: true}");
  CHECK(refusal("interrupt_on:\n")
        == "policy.yaml:1:1: interrupt_on: expected a map of tool names, e.g. {send_email: true}, "
           "got nothing");
  CHECK(refusal("interrupt_on: [send_email]\n")
        == "policy.yaml:1:1: interrupt_on: expected a map of tool names, e.g. {send_email: true}, "
           "got a list");
}

SCENARIO("text larger than a policy may be", "[gateway][policy][errors]") {
  std::string big = "interrupt_on: {}\n" + std::string(endure::gateway::max_policy_bytes, '#');
  CHECK_THAT(refusal(big), Catch::StartsWith("policy.yaml: is 1048593 bytes; a policy may have "
                                             "at most 1048576"));
}

SCENARIO("unknown fields and repeated keys, at every level", "[gateway][policy][errors]") {
  CHECK(refusal("interrupt_on: {}\nversion: 2\n")
        == "policy.yaml:2:1: version: unknown field; expected one of: interrupt_on, groups, "
           "default");
  CHECK(refusal("interrupt_on:\n  publish:\n    qorum: 2\n")
        == "policy.yaml:3:5: interrupt_on.publish.qorum: unknown field; expected one of: "
           "allowed_decisions, description, when, approvers, quorum, deadline, reminders");
  CHECK(refusal("interrupt_on:\n  publish: {approvers: {people: [ann]}}\n")
        == "policy.yaml:2:25: interrupt_on.publish.approvers.people: unknown field; expected one "
           "of: principals, groups");
  CHECK(refusal("interrupt_on:\n  publish: {deadline: {after: 1h, then: reject}}\n")
        == "policy.yaml:2:35: interrupt_on.publish.deadline.then: unknown field; expected one of: "
           "after, outcome, escalate_to");
  CHECK(refusal("default: {quorum: 2}\ninterrupt_on: {}\n")
        == "policy.yaml:1:11: default.quorum: unknown field; expected one of: description, "
           "approvers, deadline");
  CHECK(refusal("interrupt_on:\n  publish: {when: {pointer: /a, op: exists, negate: true}}\n")
        == "policy.yaml:2:45: interrupt_on.publish.when.negate: unknown field; expected one of: "
           "pointer, op, value, all, any, not");
  CHECK(refusal("interrupt_on:\n  publish: true\n  send_email: true\n  publish: false\n")
        == "policy.yaml:4:3: interrupt_on.publish: is given twice (first on line 2)");
  CHECK(refusal("interrupt_on: {}\ninterrupt_on: {a: true}\n")
        == "policy.yaml:2:1: interrupt_on: is given twice (first on line 1)");
  CHECK(refusal("base: &b {description: x}\ninterrupt_on:\n  publish:\n    <<: *b\n")
        == "policy.yaml:1:1: base: unknown field; expected one of: interrupt_on, groups, default");
  CHECK(refusal("interrupt_on:\n  publish:\n    <<: {description: x}\n")
        == "policy.yaml:3:5: interrupt_on.publish.<<: YAML merge keys are not supported: give "
           "shared settings in the top-level `default` block");
}

SCENARIO("tool entries of the wrong shape or with bad names", "[gateway][policy][errors]") {
  CHECK(refusal("interrupt_on:\n  publish: yes\n")
        == "policy.yaml:2:3: interrupt_on.publish: expected true, false or a map of settings, got "
           "the text 'yes'");
  CHECK(refusal("interrupt_on:\n  publish:\n")
        == "policy.yaml:2:3: interrupt_on.publish: expected true, false or a map of settings, got "
           "nothing");
  CHECK(refusal("interrupt_on:\n  publish: \"true\"\n")
        == "policy.yaml:2:3: interrupt_on.publish: expected true, false or a map of settings, got "
           "the text 'true'");
  CHECK(refusal("interrupt_on:\n  publish: 1\n")
        == "policy.yaml:2:3: interrupt_on.publish: expected true, false or a map of settings, got "
           "the number 1");
  CHECK(refusal("interrupt_on:\n  send email: true\n")
        == "policy.yaml:2:3: interrupt_on.send email: 'send email' is not a tool name: use 1 to 64 "
           "of a-z, A-Z, 0-9, _ and -");
  CHECK_THAT(refusal("interrupt_on:\n  " + std::string(65, 'a') + ": true\n"),
             Catch::StartsWith("policy.yaml:2:3: interrupt_on." + std::string(65, 'a') + ": '"));
  CHECK(refusal("interrupt_on:\n  \"\": true\n")
        == "policy.yaml:2:3: interrupt_on.: '' is not a tool name: use 1 to 64 of a-z, A-Z, 0-9, "
           "_ and -");
  CHECK(refusal("interrupt_on:\n  [a, b]: true\n")
        == "policy.yaml:2:3: interrupt_on: a key must be text, got a list");
  // 64 characters of the allowed set are a tool name.
  endure::test::must_load("interrupt_on:\n  " + std::string(62, 'a') + "-_: true\n");
}

SCENARIO("decisions", "[gateway][policy][errors]") {
  CHECK(refusal("interrupt_on:\n  publish:\n    allowed_decisions: [approve, maybe]\n")
        == "policy.yaml:3:34: interrupt_on.publish.allowed_decisions[1]: unknown decision "
           "'maybe'; expected one of: approve, edit, reject, respond");
  CHECK(refusal("interrupt_on:\n  publish:\n    allowed_decisions: []\n")
        == "policy.yaml:3:5: interrupt_on.publish.allowed_decisions: at least one decision is "
           "needed: approve, edit, reject or respond");
  CHECK(refusal("interrupt_on:\n  publish:\n    allowed_decisions: [reject, reject]\n")
        == "policy.yaml:3:33: interrupt_on.publish.allowed_decisions[1]: 'reject' is listed twice");
  CHECK(refusal("interrupt_on:\n  publish:\n    allowed_decisions: approve\n")
        == "policy.yaml:3:5: interrupt_on.publish.allowed_decisions: expected a list of "
           "decisions, got the text 'approve'");
}

SCENARIO("groups and approvers", "[gateway][policy][errors]") {
  CHECK(refusal("interrupt_on:\n  publish:\n    approvers: {groups: [finance]}\n")
        == "policy.yaml:3:26: interrupt_on.publish.approvers.groups[0]: unknown group 'finance': "
           "the policy defines no groups (top-level groups:)");
  CHECK(refusal("groups: {ops: [olga]}\ninterrupt_on:\n  publish:\n"
                "    approvers: {groups: [ops, finance]}\n")
        == "policy.yaml:4:31: interrupt_on.publish.approvers.groups[1]: unknown group 'finance': "
           "define it under the top-level groups:");
  CHECK(refusal("groups:\n  ops: []\ninterrupt_on: {}\n")
        == "policy.yaml:2:3: groups.ops: a group needs at least one principal");
  CHECK(refusal("groups:\n  ops: [olga, olga]\ninterrupt_on: {}\n")
        == "policy.yaml:2:15: groups.ops[1]: 'olga' is listed twice");
  CHECK(refusal("groups:\n  on call: [olga]\ninterrupt_on: {}\n")
        == "policy.yaml:2:3: groups.on call: 'on call' is not a group name: use 1 to 64 of a-z, "
           "A-Z, 0-9, _ and -");
  CHECK(refusal("groups:\n  ops: olga\ninterrupt_on: {}\n")
        == "policy.yaml:2:3: groups.ops: expected a list of principals, got the text 'olga'");
  CHECK(refusal("interrupt_on:\n  publish: {approvers: {principals: [\"\"]}}\n")
        == "policy.yaml:2:38: interrupt_on.publish.approvers.principals[0]: a principal is 1 to "
           "200 bytes of UTF-8 text without control characters (as a decision names who made "
           "it)");
  // 201 bytes: the policy would name an approver who could never decide.
  CHECK_THAT(refusal("interrupt_on:\n  publish: {approvers: {principals: [" + std::string(201, 'a')
                     + "]}}\n"),
             Catch::Contains("principals[0]: a principal is 1 to 200 bytes"));
  CHECK(refusal("interrupt_on:\n  publish: {approvers: {principals: [1234]}}\n")
        == "policy.yaml:2:38: interrupt_on.publish.approvers.principals[0]: expected a principal "
           "(text), got the number 1234 (quote it, '1234', if you mean that text)");
  CHECK(refusal("interrupt_on:\n  publish: {approvers: {principals: [\"a\\tb\"]}}\n")
        == "policy.yaml:2:38: interrupt_on.publish.approvers.principals[0]: a principal is 1 to "
           "200 bytes of UTF-8 text without control characters (as a decision names who made "
           "it)");
  CHECK(refusal("interrupt_on:\n  publish: {approvers: [ann]}\n")
        == "policy.yaml:2:13: interrupt_on.publish.approvers: expected a map with principals "
           "and/or groups, got a list");
}

SCENARIO("quorum", "[gateway][policy][errors]") {
  // The brief's example, line for line.
  CHECK(refusal(R"(groups:
  finance: [bob, carol]
interrupt_on:
  publish:
    approvers: {principals: [alice], groups: [finance]}
    description: publish an article
    quorum: 4
)") == "policy.yaml:7:5: interrupt_on.publish.quorum: 4 exceeds the 3 approvers named");
  // A principal named directly and in a group counts once.
  CHECK(refusal("groups: {finance: [bob, alice]}\ninterrupt_on:\n  publish:\n"
                "    approvers: {principals: [alice], groups: [finance]}\n    quorum: 3\n")
        == "policy.yaml:5:5: interrupt_on.publish.quorum: 3 exceeds the 2 approvers named");
  // Against the default's approvers when the tool names none.
  CHECK(refusal("default: {approvers: {principals: [ann]}}\n"
                "interrupt_on:\n  publish: {quorum: 2}\n")
        == "policy.yaml:3:13: interrupt_on.publish.quorum: 2 exceeds the 1 approver named");
  CHECK(refusal("interrupt_on:\n  publish: {quorum: 0}\n")
        == "policy.yaml:2:13: interrupt_on.publish.quorum: 0 is not a quorum: at least 1 "
           "approval is needed");
  CHECK(refusal("interrupt_on:\n  publish: {quorum: -1}\n")
        == "policy.yaml:2:13: interrupt_on.publish.quorum: -1 is not a quorum: at least 1 "
           "approval is needed");
  CHECK(refusal("interrupt_on:\n  publish: {quorum: two}\n")
        == "policy.yaml:2:13: interrupt_on.publish.quorum: expected a whole number of approvals, "
           "got the text 'two'");
  CHECK(refusal("interrupt_on:\n  publish: {quorum: 1.5}\n")
        == "policy.yaml:2:13: interrupt_on.publish.quorum: expected a whole number of approvals, "
           "got the number 1.5");
  CHECK(refusal("interrupt_on:\n  publish: {quorum: 1001}\n")
        == "policy.yaml:2:13: interrupt_on.publish.quorum: 1001 is more than the 1000 approvals "
           "a quorum may ask for");
  CHECK_THAT(refusal("interrupt_on:\n  publish: {quorum: 99999999999999999999999}\n"),
             Catch::StartsWith("policy.yaml:2:13: interrupt_on.publish.quorum: "));
}

SCENARIO("deadlines and reminders", "[gateway][policy][errors]") {
  CHECK(refusal("interrupt_on:\n  publish:\n    deadline: {after: 30}\n")
        == "policy.yaml:3:16: interrupt_on.publish.deadline.after: '30' has no unit: write 30s, "
           "30m, 30h or 30d");
  CHECK(refusal("interrupt_on:\n  publish:\n    deadline: {after: 30min}\n")
        == "policy.yaml:3:16: interrupt_on.publish.deadline.after: '30min' has an unknown unit: "
           "use one of s, m, h, d after a whole number, e.g. 30m");
  CHECK(refusal("interrupt_on:\n  publish:\n    deadline: {after: 0m}\n")
        == "policy.yaml:3:16: interrupt_on.publish.deadline.after: '0m' is zero: a duration must "
           "be positive");
  CHECK(refusal("interrupt_on:\n  publish:\n    deadline: {after: 366d}\n")
        == "policy.yaml:3:16: interrupt_on.publish.deadline.after: '366d' is longer than a year "
           "(365d); use outcome: keep_waiting to wait without end");
  CHECK(refusal("interrupt_on:\n  publish:\n    deadline: {after: soon}\n")
        == "policy.yaml:3:16: interrupt_on.publish.deadline.after: 'soon' is not a duration: "
           "write a whole number and a unit, e.g. 90s, 30m, 2h, 1d");
  CHECK(refusal("interrupt_on:\n  publish:\n    deadline: {after: [30m]}\n")
        == "policy.yaml:3:16: interrupt_on.publish.deadline.after: expected a duration such as "
           "30m, got a list");
  CHECK(refusal("interrupt_on:\n  publish:\n    deadline: {outcome: reject}\n")
        == "policy.yaml:3:5: interrupt_on.publish.deadline.after: is required: how long to wait, "
           "e.g. after: 30m");
  CHECK(refusal("interrupt_on:\n  publish:\n    deadline: {after: 1h, outcome: approve}\n")
        == "policy.yaml:3:27: interrupt_on.publish.deadline.outcome: unknown outcome 'approve'; "
           "expected one of: reject, escalate, keep_waiting");
  CHECK(refusal("groups: {managers: [max]}\ninterrupt_on:\n  publish:\n"
                "    deadline: {after: 1h, outcome: escalate}\n")
        == "policy.yaml:4:5: interrupt_on.publish.deadline.escalate_to: is required with "
           "outcome: escalate (the group the request goes to)");
  CHECK(refusal("groups: {managers: [max]}\ninterrupt_on:\n  publish:\n"
                "    deadline: {after: 1h, escalate_to: managers}\n")
        == "policy.yaml:4:27: interrupt_on.publish.deadline.escalate_to: only applies with "
           "outcome: escalate (this deadline's outcome is reject)");
  CHECK(refusal("interrupt_on:\n  publish:\n"
                "    deadline: {after: 1h, outcome: escalate, escalate_to: managers}\n")
        == "policy.yaml:3:46: interrupt_on.publish.deadline.escalate_to: unknown group "
           "'managers': the policy defines no groups (top-level groups:)");
  CHECK(refusal("interrupt_on:\n  publish:\n    deadline: {after: 30m}\n"
                "    reminders: [10m, 30m]\n")
        == "policy.yaml:4:22: interrupt_on.publish.reminders[1]: 30m is not before the deadline "
           "(30m)");
  CHECK(refusal("default: {deadline: {after: 1h}}\ninterrupt_on:\n  publish:\n"
                "    reminders: [2h]\n")
        == "policy.yaml:4:17: interrupt_on.publish.reminders[0]: 2h is not before the default "
           "deadline (1h)");
  CHECK(refusal("interrupt_on:\n  publish:\n    reminders: [10m, 600s]\n")
        == "policy.yaml:3:22: interrupt_on.publish.reminders[1]: 10m is listed twice");
  CHECK(refusal("interrupt_on:\n  publish:\n    reminders: 10m\n")
        == "policy.yaml:3:5: interrupt_on.publish.reminders: expected a list of durations, e.g. "
           "[10m, 25m], got the text '10m'");
  // Without a deadline, reminders have nothing to be before.
  endure::test::must_load("interrupt_on:\n  publish: {reminders: [400h]}\n");
}

SCENARIO("text fields, tags and encodings", "[gateway][policy][errors]") {
  CHECK(refusal("interrupt_on:\n  publish: {description: 42}\n")
        == "policy.yaml:2:13: interrupt_on.publish.description: expected a description (text), "
           "got the number 42 (quote it, '42', if you mean that text)");
  CHECK(refusal("interrupt_on:\n  publish: {description: [a]}\n")
        == "policy.yaml:2:13: interrupt_on.publish.description: expected a description (text), "
           "got a list");
  CHECK(refusal("interrupt_on:\n  publish: {description: \"\xff\xfe\"}\n")
        == "policy.yaml:2:13: interrupt_on.publish.description: text that is not valid UTF-8");
  CHECK(refusal("interrupt_on:\n  publish: {description: !!int 5}\n")
        == "policy.yaml:2:13: interrupt_on.publish.description: the YAML tag "
           "tag:yaml.org,2002:int is not supported: write the value without a tag");
}

SCENARIO("YAML nested past the parser's depth limit", "[gateway][policy][errors]") {
  std::string deep = "interrupt_on: " + std::string(5000, '[') + std::string(5000, ']') + "\n";
  CHECK_THAT(refusal(deep), Catch::StartsWith("policy.yaml:1:")
                              && Catch::EndsWith(": not valid YAML: nested more than 500 levels "
                                                 "deep"));
}

SCENARIO("a damaged policy is refused with a location, never thrown or crashed on",
         "[gateway][policy][errors]") {
  const std::string full = R"(groups:
  finance: [bob, carol]
  managers: [max]
default:
  description: "needs a person"
  deadline: {after: 1h, outcome: escalate, escalate_to: managers}
interrupt_on:
  send_email: true
  read_file: false
  publish:
    allowed_decisions: [approve, reject]
    when: {any: [{pointer: /amount, op: gt, value: 1000}, {not: {pointer: /draft, op: exists}},
                 {pointer: /to, op: matches, value: '@example\.com$'}]}
    approvers: {principals: [alice], groups: [finance]}
    quorum: 2
    reminders: [10m, 25m]
)";
  endure::test::must_load(full);
  auto check = [](const std::string& text) {
    INFO(text);
    std::optional<endure::expected<endure::gateway::policy>> p;
    REQUIRE_NOTHROW(p.emplace(endure::gateway::parse_policy(text, "policy.yaml")));
    if (!*p)
      CHECK_THAT(p->error().message, Catch::StartsWith("policy.yaml"));
  };
  // Every prefix (a file cut short), and every byte replaced by characters
  // that change YAML's structure or encoding.
  for (std::size_t n = 0; n <= full.size(); ++n)
    check(full.substr(0, n));
  for (std::size_t i = 0; i < full.size(); ++i)
    for (char c : {':', '[', '{', '"', '\'', '-', '\n', ' ', '#', '&', '*', '!', '\xff', '\0'}) {
      auto damaged = full;
      damaged[i] = c;
      check(damaged);
    }
}
