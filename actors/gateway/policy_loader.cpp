// parse_policy and load_policy_file: YAML text -> a validated policy, or
// the first thing wrong with it, located (file:line:column) and named by
// its field path. Everything a policy can say is checked here, once, so
// policy::gate() never meets a bad rule: the document and the tools here,
// each field of a rule in detail/rule_reader.cpp. yaml-cpp is used only in
// these and detail/yaml_reader.cpp.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <yaml-cpp/depthguard.h>

#include "endure/actors/gateway/detail/policy_data.hpp"
#include "endure/actors/gateway/detail/rule_reader.hpp"
#include "endure/actors/gateway/detail/yaml_reader.hpp"
#include "endure/actors/gateway/duration.hpp"
#include "endure/actors/gateway/policy.hpp"

namespace endure::gateway {

namespace {

using detail::find_entry;
using detail::located;
using detail::group_map;
using detail::map_entry;
using detail::read_approvers;
using detail::read_condition;
using detail::read_deadline;
using detail::read_decisions;
using detail::read_groups;
using detail::read_quorum;
using detail::read_reminders;
using detail::valid_name;
using detail::yaml_field;

/// What the top-level `default` block gives every tool that does not.
struct tool_defaults {
  std::string description;
  approver_set approvers;
  std::optional<deadline_rule> deadline;
};

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
