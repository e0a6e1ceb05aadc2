// The readers of a tool rule's fields (internal to actors/gateway): each
// takes the YAML field, checks everything about it and returns the value,
// or throws policy_error located at the field. policy_loader.cpp puts them
// together into a policy.
#include "endure/actors/gateway/detail/rule_reader.hpp"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "endure/actors/gateway/decide.hpp"
#include "endure/actors/gateway/duration.hpp"

namespace endure::gateway::detail {

namespace {

constexpr int max_condition_depth = 16;
constexpr long long max_quorum = 1000;
std::string principal(const yaml_field& f) {
  auto name = f.text("a principal (text)");
  if (!valid_principal(name))
    f.fail("a principal is 1 to 200 bytes of UTF-8 text without control characters "
           "(as a decision names who made it)");
  return name;
}

/// Refuses an item listed twice (a typo, most likely); returns the set sorted.
std::vector<std::string> distinct(std::vector<std::pair<std::string, yaml_field>> items) {
  std::vector<std::string> out;
  for (auto& [value, field] : items) {
    if (std::find(out.begin(), out.end(), value) != out.end())
      field.fail("'" + value + "' is listed twice");
    out.push_back(value);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string group_name(const yaml_field& f, const group_map& groups) {
  auto name = f.text("a group name");
  if (groups.find(name) == groups.end())
    f.fail("unknown group '" + name + "'"
           + (groups.empty() ? std::string{": the policy defines no groups (top-level groups:)"}
                             : ": define it under the top-level groups:"));
  return name;
}

std::chrono::seconds duration(const yaml_field& f) {
  if (!f.node().IsScalar())
    f.fail("expected a duration such as 30m, got " + detail::describe_node(f.node()));
  auto d = parse_duration(f.node().Scalar());
  if (!d)
    f.fail(d.error().message);
  return *d;
}

condition read_combination(const map_entry& e, int depth) {
  if (e.name == "not")
    return condition::negate(read_condition(e.value, depth + 1));
  std::vector<condition> parts;
  for (auto& item : e.value.items("a list of conditions"))
    parts.push_back(read_condition(item, depth + 1));
  auto c = e.name == "all" ? condition::all(std::move(parts)) : condition::any(std::move(parts));
  if (!c)
    e.value.fail(c.error().message);
  return *c;
}

condition read_comparison(const yaml_field& f, const std::vector<map_entry>& es) {
  auto* pointer = find_entry(es, "pointer");
  auto* op = find_entry(es, "op");
  auto* value = find_entry(es, "value");
  if (!pointer)
    f.fail_at("pointer", "is required: the JSON pointer to an argument, e.g. /amount");
  if (!op)
    f.fail_at("op", "is required: one of gt, ge, lt, le, eq, ne, in, not_in, exists, matches");
  auto path = pointer->value.text("a JSON pointer such as /amount");
  auto op_name = op->value.text("an operator");
  auto parsed = parse_condition_op(op_name);
  if (!parsed)
    op->value.fail("unknown operator '" + op_name
                   + "'; expected one of: gt, ge, lt, le, eq, ne, in, not_in, exists, matches");
  auto tested = condition::exists(path);  // checks the pointer, reported where it is written
  if (!tested)
    pointer->value.fail(tested.error().message);
  if (*parsed == condition_op::exists) {
    if (value)
      value->key.fail("exists takes no value (to test absence, write {not: {pointer: ..., "
                      "op: exists}})");
    return *tested;
  }
  if (!value)
    f.fail_at("value", "is required for op: " + op_name);
  auto c = condition::compare(path, *parsed, value->value.json_value());
  if (!c)
    value->value.fail(c.error().message);
  return *c;
}

} // namespace

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
           || c == '-';
  });
}

group_map read_groups(const yaml_field& f) {
  group_map groups;
  for (auto& e : f.entries({}, "a map of group names to lists of principals")) {
    if (!valid_name(e.name))
      e.key.fail("'" + e.name + "' is not a group name: use 1 to 64 of a-z, A-Z, 0-9, _ and -");
    std::vector<std::pair<std::string, yaml_field>> members;
    for (auto& item : e.value.items("a list of principals"))
      members.emplace_back(principal(item), item);
    if (members.empty())
      e.value.fail("a group needs at least one principal");
    groups[e.name] = distinct(std::move(members));
  }
  return groups;
}

approver_set read_approvers(const yaml_field& f, const group_map& groups) {
  approver_set a;
  auto es = f.entries({"principals", "groups"}, "a map with principals and/or groups");
  if (auto* e = find_entry(es, "principals")) {
    std::vector<std::pair<std::string, yaml_field>> items;
    for (auto& item : e->value.items("a list of principals"))
      items.emplace_back(principal(item), item);
    a.principals = distinct(std::move(items));
  }
  if (auto* e = find_entry(es, "groups")) {
    std::vector<std::pair<std::string, yaml_field>> items;
    for (auto& item : e->value.items("a list of group names"))
      items.emplace_back(group_name(item, groups), item);
    a.groups = distinct(std::move(items));
  }
  return a;
}

deadline_rule read_deadline(const yaml_field& f, const group_map& groups) {
  auto es = f.entries({"after", "outcome", "escalate_to"},
                      "a map with after, outcome, escalate_to");
  deadline_rule dl;
  auto* after = find_entry(es, "after");
  if (!after)
    f.fail_at("after", "is required: how long to wait, e.g. after: 30m");
  dl.after = duration(after->value);
  if (auto* e = find_entry(es, "outcome")) {
    auto name = e->value.text("an outcome");
    auto outcome = parse_deadline_outcome(name);
    if (!outcome)
      e->value.fail("unknown outcome '" + name
                    + "'; expected one of: reject, escalate, keep_waiting");
    dl.outcome = *outcome;
  }
  auto* to = find_entry(es, "escalate_to");
  if (dl.outcome == deadline_outcome::escalate && !to)
    f.fail_at("escalate_to", "is required with outcome: escalate (the group the request goes to)");
  if (to && dl.outcome != deadline_outcome::escalate)
    to->key.fail("only applies with outcome: escalate (this deadline's outcome is "
                 + std::string{to_string(dl.outcome)} + ")");
  if (to)
    dl.escalate_to = group_name(to->value, groups);
  return dl;
}

std::vector<decision> read_decisions(const yaml_field& f) {
  std::vector<std::pair<std::string, yaml_field>> named;
  for (auto& item : f.items("a list of decisions")) {
    auto name = item.text("a decision");
    if (!parse_decision(name))
      item.fail("unknown decision '" + name + "'; expected one of: approve, edit, reject, respond");
    named.emplace_back(name, item);
  }
  if (named.empty())
    f.fail("at least one decision is needed: approve, edit, reject or respond");
  auto names = distinct(std::move(named));
  std::vector<decision> out;
  for (auto d : all_decisions)  // canonical order
    if (std::find(names.begin(), names.end(), to_string(d)) != names.end())
      out.push_back(d);
  return out;
}

std::vector<std::chrono::seconds> read_reminders(const yaml_field& f,
                                                 const std::optional<deadline_rule>& deadline,
                                                 bool default_deadline) {
  std::vector<std::chrono::seconds> out;
  for (auto& item : f.items("a list of durations, e.g. [10m, 25m]")) {
    auto at = duration(item);
    if (deadline && at >= deadline->after)
      item.fail(format_duration(at) + " is not before the " + (default_deadline ? "default " : "")
                + "deadline (" + format_duration(deadline->after) + ")");
    if (std::find(out.begin(), out.end(), at) != out.end())
      item.fail(format_duration(at) + " is listed twice");
    out.push_back(at);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::uint32_t read_quorum(const yaml_field& f, const approver_set& approvers,
                          const group_map& groups) {
  auto k = f.integer("a whole number of approvals");
  if (k < 1)
    f.fail(std::to_string(k) + " is not a quorum: at least 1 approval is needed");
  if (!approvers.anyone()) {
    std::set<std::string> named(approvers.principals.begin(), approvers.principals.end());
    for (auto& g : approvers.groups)
      named.insert(groups.at(g).begin(), groups.at(g).end());
    if (static_cast<std::size_t>(k) > named.size())
      f.fail(std::to_string(k) + " exceeds the " + std::to_string(named.size()) + " approver"
             + (named.size() == 1 ? "" : "s") + " named");
  }
  if (k > max_quorum)
    f.fail(std::to_string(k) + " is more than the " + std::to_string(max_quorum)
           + " approvals a quorum may ask for");
  return static_cast<std::uint32_t>(k);
}

condition read_condition(const yaml_field& f, int depth) {
  if (depth > max_condition_depth)
    f.fail("conditions nest more than " + std::to_string(max_condition_depth) + " levels deep");
  constexpr const char* forms =
    "{pointer, op, value}, {all: [...]}, {any: [...]} or {not: ...}";
  auto es = f.entries({"pointer", "op", "value", "all", "any", "not"},
                      std::string{"a condition: "} + forms);
  if (es.empty())
    f.fail(std::string{"an empty condition: give "} + forms);
  for (auto& e : es) {
    if (e.name != "all" && e.name != "any" && e.name != "not")
      continue;
    if (es.size() != 1)
      e.key.fail("cannot share a condition with other fields; nest them instead, e.g. "
                 "{all: [{pointer: /a, op: exists}, {pointer: /b, op: exists}]}");
    return read_combination(e, depth);
  }
  return read_comparison(f, es);
}

} // namespace endure::gateway::detail
