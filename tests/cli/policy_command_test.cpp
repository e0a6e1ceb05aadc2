// `endure policy check FILE` as a user runs it: a valid file prints one line
// per tool (condition, deciders, quorum, deadline) and the policy hash, exit
// 0; a refused file prints FILE:LINE:COLUMN: FIELD: what, exit 1.
#include <catch2/catch.hpp>

#include <fstream>

#include "cli/cli_runner.hpp"
#include "support/temp_dir.hpp"

using namespace endure::test;

namespace {

std::string write(const temp_dir& dir, const std::string& name, const std::string& text) {
  auto path = dir.file(name);
  std::ofstream(path) << text;
  return path;
}

const char* const good_policy = R"(# which tool calls wait for a person
groups:
  finance: [bob, carol]
  managers: [max]
interrupt_on:
  send_email: true
  read_file: false
  publish:
    when: {pointer: /amount, op: gt, value: 1000}
    approvers: {principals: [alice], groups: [finance]}
    quorum: 2
    deadline: {after: 30m, outcome: escalate, escalate_to: managers}
    reminders: [10m, 25m]
)";

} // namespace

SCENARIO("policy check prints what a valid policy gates and its hash", "[cli][policy]") {
  temp_dir dir;
  auto path = write(dir, "policy.yaml", good_policy);
  auto r = run_endure({"policy", "check", path});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.empty());
  CHECK_THAT(r.out, Catch::StartsWith(path + ": valid policy; 2 tools gated\n"));
  CHECK_THAT(r.out, Catch::Contains(
                      "  publish: gated when /amount gt 1000; decisions approve, edit, reject, "
                      "respond; decided by alice or group finance (bob, carol); quorum 2; "
                      "deadline 30m, then escalate to group managers; reminders at 10m, 25m\n"));
  CHECK_THAT(r.out, Catch::Contains("  read_file: not gated (listed false)\n"));
  CHECK_THAT(r.out, Catch::Contains("  send_email: gated on every call; decisions approve, edit, "
                                    "reject, respond; decided by anyone with the approver role; "
                                    "quorum 1; no deadline\n"));
  auto hash_at = r.out.find("policy hash: ");
  REQUIRE(hash_at != std::string::npos);
  auto hash = r.out.substr(hash_at + 13, 64);
  CHECK(hash.find_first_not_of("0123456789abcdef") == std::string::npos);

  // The same policy, reordered and restyled: the same hash.
  auto same = write(dir, "same.yaml", R"(interrupt_on: {publish: {reminders: [600s, 25m],
  deadline: {escalate_to: managers, outcome: escalate, after: 0030m}, quorum: 2,
  approvers: {groups: [finance], principals: [alice]}, when: {op: gt, pointer: /amount,
  value: 1000.0}}, send_email: true}
groups: {managers: [max], finance: [carol, bob]}
)");
  auto again = run_endure({"policy", "check", same});
  INFO(again.err);
  REQUIRE(again.code == 0);
  CHECK_THAT(again.out, Catch::Contains("policy hash: " + hash + "\n"));
}

SCENARIO("policy check refuses a bad policy with where and what", "[cli][policy][errors]") {
  temp_dir dir;
  std::string bad_text = good_policy;
  bad_text.replace(bad_text.find("quorum: 2"), 9, "quorum: 4");
  auto bad = write(dir, "bad.yaml", bad_text);
  auto r = run_endure({"policy", "check", bad});
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(r.err == bad + ":11:5: interrupt_on.publish.quorum: 4 exceeds the 3 approvers named\n");

  auto not_yaml = write(dir, "broken.yaml", "interrupt_on: {send_email: true\n");
  auto broken = run_endure({"policy", "check", not_yaml});
  CHECK(broken.code == 1);
  CHECK_THAT(broken.err, Catch::StartsWith(not_yaml + ":2:1: not valid YAML: "));

  auto missing = run_endure({"policy", "check", dir.file("none.yaml")});
  CHECK(missing.code == 1);
  CHECK(missing.err == dir.file("none.yaml") + ": no such policy file\n");

  auto usage = run_endure({"policy", "check"});
  CHECK(usage.code == 2);
  CHECK_THAT(usage.err, Catch::Contains("FILE is required"));
}
