// parse_policy and load_policy_file: YAML text -> a validated policy, or
// the first thing wrong with it, located (file:line:column) and named by
// its field path. Everything a policy can say is checked here, once, so
// policy::gate() never meets a bad rule. yaml-cpp is used only here and in
// detail/yaml_reader.cpp.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>
#include <yaml-cpp/depthguard.h>

#include "endure/actors/gateway/detail/policy_data.hpp"
#include "endure/actors/gateway/detail/yaml_reader.hpp"
#include "endure/actors/gateway/duration.hpp"
#include "endure/actors/gateway/policy.hpp"

namespace endure::gateway {

namespace {

using detail::find_entry;
using detail::map_entry;
using detail::yaml_field;
using group_map = std::map<std::string, std::vector<std::string>, std::less<>>;

constexpr int max_condition_depth = 16;
constexpr long long max_quorum = 1000;
constexpr std::size_t max_principal_bytes = 256;

/// What the top-level `default` block gives every tool that does not.
struct tool_defaults {
  std::string description;
  approver_set approvers;
  std::optional<deadline_rule> deadline;
};

/// Tool and group names: [a-zA-Z0-9_-]{1,64}, as tool-calling APIs allow.
bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
           || c == '-';
  });
}

std::string principal(const yaml_field& f) {
  auto name = f.text("a principal (text)");
  if (name.empty() || name.size() > max_principal_bytes)
    f.fail("a principal is 1 to " + std::to_string(max_principal_bytes) + " bytes of text");
  if (std::any_of(name.begin(), name.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
    f.fail("a principal cannot contain control characters");
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

std::string group_name(const yaml_field& f, const group_map& groups) {
  auto name = f.text("a group name");
  if (groups.find(name) == groups.end())
    f.fail("unknown group '" + name + "'"
           + (groups.empty() ? std::string{": the policy defines no groups (top-level groups:)"}
                             : ": define it under the top-level groups:"));
  return name;
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

std::chrono::seconds duration(const yaml_field& f) {
  if (!f.node().IsScalar())
    f.fail("expected a duration such as 30m, got " + detail::describe_node(f.node()));
  auto d = parse_duration(f.node().Scalar());
  if (!d)
    f.fail(d.error().message);
  return *d;
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

condition read_condition(const yaml_field& f, int depth);

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

tool_defaults read_defaults(const yaml_field& f, const group_map& groups) {
  tool_defaults d;
  auto es = f.entries({"description", "approvers", "deadline"},
                      "a map with description, approvers, deadline");
  if (auto* e = find_entry(es, "description"))
    d.description = e->value.text("a description (text)");
  if (auto* e = find_entry(es, "approvers"))
    d.approvers = read_approvers(e->value, groups);
  if (auto* e = find_entry(es, "deadline"))
    d.deadline = read_deadline(e->value, groups);
  return d;
}

gate_rule default_rule(const std::string& tool, const tool_defaults& d) {
  gate_rule r;
  r.tool = tool;
  r.allowed_decisions.assign(all_decisions.begin(), all_decisions.end());
  r.description = d.description;
  r.approvers = d.approvers;
  r.deadline = d.deadline;
  return r;
}

detail::tool_policy read_tool_settings(const map_entry& tool, const tool_defaults& d,
                                       const group_map& groups) {
  detail::tool_policy t{default_rule(tool.name, d), std::nullopt};
  auto& r = t.rule;
  auto es = tool.value.entries({"allowed_decisions", "description", "when", "approvers", "quorum",
                                "deadline", "reminders"},
                               "true, false or a map of settings");
  if (auto* e = find_entry(es, "allowed_decisions"))
    r.allowed_decisions = read_decisions(e->value);
  if (auto* e = find_entry(es, "description"))
    r.description = e->value.text("a description (text)");
  if (auto* e = find_entry(es, "approvers"))
    r.approvers = read_approvers(e->value, groups);
  if (auto* e = find_entry(es, "deadline"))
    r.deadline = read_deadline(e->value, groups);
  if (auto* e = find_entry(es, "reminders"))
    r.reminders = read_reminders(e->value, r.deadline, !find_entry(es, "deadline"));
  if (auto* e = find_entry(es, "quorum"))
    r.quorum = read_quorum(e->value, r.approvers, groups);
  if (auto* e = find_entry(es, "when")) {
    t.when = read_condition(e->value, 1);
    r.condition = t.when->describe();
  }
  return t;
}

void read_tools(const yaml_field& f, const tool_defaults& d, const group_map& groups,
                detail::policy_data& out) {
  for (auto& tool : f.entries({}, "a map of tool names, e.g. {send_email: true}")) {
    if (!valid_name(tool.name))
      tool.key.fail("'" + tool.name
                    + "' is not a tool name: use 1 to 64 of a-z, A-Z, 0-9, _ and -");
    if (tool.value.is_bool()) {
      if (tool.value.boolean())
        out.gated.emplace(tool.name, detail::tool_policy{default_rule(tool.name, d), std::nullopt});
      else
        out.ungated.push_back(tool.name);
      continue;
    }
    if (!tool.value.is_map())
      tool.value.fail("expected true, false or a map of settings, got "
                      + detail::describe_node(tool.value.node()));
    out.gated.emplace(tool.name, read_tool_settings(tool, d, groups));
  }
  std::sort(out.ungated.begin(), out.ungated.end());
}

detail::policy_data read_policy(const yaml_field& root, std::string source) {
  detail::policy_data out;
  out.source = std::move(source);
  auto es = root.entries({"interrupt_on", "groups", "default"},
                         "a map with interrupt_on: (and optionally groups:, default:)");
  if (auto* e = find_entry(es, "groups"))
    out.groups = read_groups(e->value);
  tool_defaults d;
  if (auto* e = find_entry(es, "default"))
    d = read_defaults(e->value, out.groups);
  auto* tools = find_entry(es, "interrupt_on");
  if (!tools)
    root.fail_at("interrupt_on", "is required: the tools to gate, e.g. "
                                 "interrupt_on: {send_email: true}");
  read_tools(tools->value, d, out.groups, out);
  return out;
}

std::string located(const std::string& source, const detail::policy_error& e) {
  std::string out = source;
  if (e.line > 0)
    out += ":" + std::to_string(e.line) + ":" + std::to_string(e.column);
  out += ": ";
  if (!e.field.empty())
    out += e.field + ": ";
  return out + e.message;
}

/// The one document of the text; throws policy_error for none or several.
YAML::Node single_document(const std::string& text) {
  auto docs = YAML::LoadAll(text);
  for (std::size_t i = 1; i < docs.size(); ++i)
    if (!docs[i].IsNull()) {
      auto mark = docs[i].Mark();
      throw detail::policy_error{mark.line + 1, mark.column + 1, "",
                                 "a second YAML document: a policy is one document"};
    }
  if (docs.empty() || docs[0].IsNull())
    throw detail::policy_error{0, 0, "",
                               "the policy is empty: it needs at least interrupt_on:, e.g. "
                               "interrupt_on: {send_email: true}"};
  return docs[0];
}

} // namespace

expected<policy> parse_policy(std::string_view text, std::string source_name) {
  if (text.size() > max_policy_bytes)
    return make_error(errc::invalid_argument,
                      source_name + ": is " + std::to_string(text.size())
                        + " bytes; a policy may have at most " + std::to_string(max_policy_bytes));
  try {
    auto root = single_document(std::string{text});
    return detail::make_policy(read_policy(yaml_field{root, ""}, source_name));
  } catch (const detail::policy_error& e) {
    return make_error(errc::invalid_argument, located(source_name, e));
  } catch (const YAML::DeepRecursion& e) {  // yaml-cpp's own message is "bad file"
    return make_error(errc::invalid_argument,
                      located(source_name, {e.mark.line + 1, e.mark.column + 1, "",
                                            "not valid YAML: nested more than "
                                              + std::to_string(e.depth()) + " levels deep"}));
  } catch (const YAML::Exception& e) {
    return make_error(errc::invalid_argument,
                      located(source_name, {e.mark.line + 1, e.mark.column + 1, "",
                                            "not valid YAML: " + e.msg}));
  } catch (const nlohmann::json::exception& e) {
    // Every text is checked for UTF-8 where it is read; this keeps the
    // promise that loading never throws should a path have been missed.
    return make_error(errc::invalid_argument,
                      source_name + ": text that has no canonical JSON form: " + e.what());
  }
}

expected<policy> load_policy_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found)
    return make_error(errc::not_found, path + ": no such policy file");
  if (status.type() == fs::file_type::directory)
    return make_error(errc::io_error, path + ": is a directory, not a policy file");
  auto size = fs::file_size(path, ec);
  if (!ec && size > max_policy_bytes)
    return make_error(errc::io_error, path + ": is " + std::to_string(size)
                                        + " bytes; a policy may have at most "
                                        + std::to_string(max_policy_bytes));
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error(errc::io_error, path + ": cannot read the policy file: "
                                        + std::strerror(errno));
  // Bounded read: a special file (/dev/zero) has no size to check first.
  std::string text(max_policy_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad())
    return make_error(errc::io_error, path + ": reading the policy file failed");
  text.resize(static_cast<std::size_t>(in.gcount()));
  return parse_policy(text, path);
}

} // namespace endure::gateway
