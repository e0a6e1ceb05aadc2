#include "endure/actors/gateway/raise.hpp"

#include <algorithm>

#include "endure/actors/agent/canonical_json.hpp"
#include "endure/actors/detail/clock.hpp"
#include "endure/actors/detail/step_services.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/gateway/policy.hpp"
#include "endure/persistence/failure.hpp"
#include "endure/persistence/journal.hpp"

namespace endure::gateway {

namespace {

/// Who may decide, resolved now: the rule's principals and the members of
/// its groups. Empty: anyone with the approver role.
std::vector<std::string> eligible(const policy& p, const gate_rule& rule) {
  auto out = rule.approvers.principals;
  for (auto& g : rule.approvers.groups)
    for (auto& member : p.group_members(g))
      out.push_back(member);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

/// Writes `r` unless its row exists (a step re-run after a crash, two
/// attempts overlapping): checked inside the commit, never overwritten.
void store_once(::endure::detail::step_services& services, const human_request& r) {
  write_batch b;
  b.put_row(side_table::requests, r.id, to_record(r), /*if_absent*/ true);
  if (auto ok = services.store()->commit(std::move(b)); !ok)
    throw retryable_error("request " + r.id + " could not be journaled: " + ok.error().to_string());
  services.raised(r.id);
}

human_request new_request(const std::string& id, const std::string& run_id, request_kind kind,
                          const std::string& tool, nlohmann::json args, std::string why) {
  human_request r;
  r.id = id;
  r.run_id = run_id;
  r.kind = kind;
  r.tool = tool;
  r.arguments_hash = agent::json_hash(args);
  r.arguments = std::move(args);
  r.created_ms = ::endure::detail::now_ms();
  r.audit.push_back({r.created_ms, "", "system", "raised", std::move(why)});
  return r;
}

} // namespace

std::string raise_if_gated(::endure::detail::step_services& services, const std::string& run_id,
                           const std::string& tool, const nlohmann::json& args,
                           const std::string& id) {
  // A row raised before the process died stands, whatever the policy says
  // now: its request may be pending in someone's inbox.
  auto existing = services.store()->row(side_table::requests, id);
  if (!existing)
    throw retryable_error("request " + id + ": " + existing.error().to_string());
  if (*existing) {
    services.raised(id);
    return id;
  }
  auto* p = services.policy();
  if (!p)
    return {};
  auto rule = p->gate(tool, args);
  if (!rule)
    return {};
  std::string why = rule->matched.empty() ? "the policy gates every call of " + tool : "";
  for (auto& m : rule->matched)
    why += (why.empty() ? "" : "; ") + m;
  auto r = new_request(id, run_id, request_kind::approval, tool, args, std::move(why));
  r.rule = to_json(*rule);
  r.rule["eligible"] = eligible(*p, *rule);
  store_once(services, r);
  return id;
}

std::string stored_outcome(::endure::detail::step_services& services, const std::string& id,
                           const std::string& arguments_hash) {
  auto row = services.store()->row(side_table::requests, id);
  if (!row)
    throw retryable_error("request " + id + ": " + row.error().to_string());
  if (!*row)
    throw fatal_error("request " + id + " is not in the journal");
  auto r = from_record(**row, id);
  if (!r)
    throw fatal_error(r.error().to_string());
  if (r->arguments_hash != arguments_hash)
    throw fatal_error("request " + id + " binds other arguments than this call's; "
                      "nothing runs on its decision");
  if (r->status == request_status::pending || !r->outcome)
    return {};
  return outcome_payload(*r->outcome);
}

std::string raise_question(::endure::detail::step_services& services, const std::string& run_id,
                           const nlohmann::json& question, const std::string& id) {
  auto r = new_request(id, run_id, request_kind::question, "ask_human", question,
                       "the agent asked");
  r.rule = {{"allowed_decisions", {"respond"}}, {"quorum", 1}};
  store_once(services, r);
  return id;
}

} // namespace endure::gateway
