// `endure request ID [--json]`: one request of the human gateway with
// everything a reviewer or an auditor asks: its tool or question, the
// arguments and their hash, why it waits and under which rule (policy
// hash), who may decide, its status, the outcome and whether it reached the
// run, and the audit trail (every attempt, refused ones too). Read-only:
// works next to a running serve.
#include <algorithm>
#include <ctime>
#include <iostream>

#include "endure/cli/command.hpp"
#include "endure/cli/journal_view.hpp"
#include "endure/cli/request_rows.hpp"

namespace endure::cli {

namespace {

using gateway::human_request;
using json = nlohmann::json;

/// "2024-05-01 12:00:03.250 UTC".
std::string utc_text(std::int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03d UTC", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

/// JSON for a person: a list of names as "ann, bob", anything else as JSON.
std::string text_of(const json& j) {
  if (j.is_array() && std::all_of(j.begin(), j.end(), [](const json& x) { return x.is_string(); })) {
    std::string out;
    for (auto& x : j)
      out += (out.empty() ? "" : ", ") + x.get<std::string>();
    return out.empty() ? "nobody" : out;
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void print_outcome(const human_request& r) {
  if (!r.outcome) {
    if (!r.approved_by.empty())
      std::cout << "  approved by: " << text_of(r.approved_by) << " (quorum "
                << r.rule.value("quorum", 1u) << ")\n";
    return;
  }
  auto& o = *r.outcome;
  std::cout << "  outcome:    " << to_string(o.what) << " by " << text_of(o.principals) << " at "
            << utc_text(o.at_ms) << " (" << o.channel << ")\n";
  if (o.what == gateway::decision::edit)
    std::cout << "  edited:     " << text_of(o.edited_arguments) << " (hash " << o.edited_hash
              << ")\n";
  if (!o.text.empty())
    std::cout << "  " << (o.what == gateway::decision::reject ? "reason:     " : "text:       ")
              << o.text << "\n";
  std::cout << "  delivered:  " << (r.delivered ? "yes" : "not yet (at the next start)") << "\n";
}

void print_request(const human_request& r) {
  std::cout << "request " << r.id << " (run " << r.run_id << "): " << to_string(r.status)
            << "\n";
  if (r.kind == gateway::request_kind::question)
    std::cout << "  question:   " << r.arguments.value("question", std::string{}) << "\n";
  else
    std::cout << "  tool:       " << r.tool << "\n";
  std::cout << "  arguments:  " << text_of(r.arguments) << "\n"
            << "  hash:       " << r.arguments_hash << "\n"
            << "  why:        " << why_text(r) << "\n"
            << "  decides:    " << deciders_text(r) << "; quorum "
            << r.rule.value("quorum", 1u) << "; allows "
            << text_of(r.rule.value("allowed_decisions", json::array())) << "\n"
            << "  raised:     " << utc_text(r.created_ms) << "\n";
  if (auto hash = r.rule.value("policy_hash", std::string{}); !hash.empty())
    std::cout << "  policy:     " << hash << "\n";
  print_outcome(r);
  std::cout << "  audit:\n";
  for (auto& a : r.audit)
    std::cout << "    " << utc_text(a.at_ms) << "  "
              << (a.principal.empty() ? std::string{"system"} : a.principal) << " (" << a.channel
              << ") " << a.action << ": " << a.outcome << "\n";
  std::cout << std::flush;
}

int show(const command_env& env, const std::string& id, bool as_json) {
  auto j = open_journal_view(env.globals.data_dir);
  if (!j)
    return fail(j.error().message);
  auto row = (*j)->row(side_table::requests, id);
  if (!row)
    return fail("request " + id + ": " + row.error().message);
  if (!*row)
    return fail("request " + id + ": not found in " + env.globals.data_dir
                + "; see `endure inbox` for the pending requests");
  auto r = gateway::from_record(**row, id);
  if (!r)
    return fail(r.error().message);
  if (as_json)
    std::cout << request_json(*r).dump(2, ' ', false, json::error_handler_t::replace)
              << std::endl;
  else
    print_request(*r);
  return 0;
}

} // namespace

void add_request_command(CLI::App& app, command_env& env) {
  auto id = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("request", "one request: rule, arguments, outcome, audit trail");
  cmd->add_option("ID", *id, "request id (RUN/STEP; see endure inbox)")->required();
  cmd->add_flag("--json", *as_json, "print the stored row as JSON");
  cmd->callback([&env, id, as_json] { env.exit_code = show(env, *id, *as_json); });
}

} // namespace endure::cli
