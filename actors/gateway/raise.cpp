#include "endure/actors/gateway/raise.hpp"

#include <algorithm>
#include <optional>

#include "endure/actors/agent/canonical_json.hpp"
#include "endure/actors/detail/clock.hpp"
#include "endure/actors/detail/step_services.hpp"
#include "endure/actors/gateway/deadline.hpp"
#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/gateway/policy.hpp"
#include "endure/actors/gateway/request_index.hpp"
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

/// The request row `id` raised before (a step re-run after a crash), if
/// any. It must bind the arguments `arguments_hash` of the call raising it
/// now: the run trusts the outcome the gateway delivers for that id
/// without reading the row again.
std::optional<raised_request> raised_before(::endure::detail::step_services& services,
                                            const std::string& id,
                                            const std::string& arguments_hash) {
  auto existing = services.store()->row(side_table::requests, id);
  if (!existing)
    throw retryable_error("request " + id + ": " + existing.error().to_string());
  if (!*existing)
    return std::nullopt;
  auto stored = from_record(**existing, id);
  if (!stored)
    throw retryable_error(stored.error().to_string());
  if (stored->arguments_hash != arguments_hash)
    throw fatal_error("request " + id + " was raised for other arguments than this call's; "
                      "nothing runs on its decision");
  services.raised(id);
  return raised_request{id, stored->due_ms};
}

/// Writes `r` unless its row exists (checked inside the commit: two attempts
/// that overlap never reset a decided row, nor index it as pending);
/// returns the stored deadline.
raised_request store_once(::endure::detail::step_services& services, const human_request& r) {
  if (auto before = raised_before(services, r.id, r.arguments_hash))
    return *before;
  write_batch b;
  b.put_row(side_table::requests, r.id, to_record(r), /*if_absent*/ true);
  update_index(b, {}, r);  // its entries in the row's own batch (request_index.hpp)
  if (auto ok = services.store()->commit(std::move(b)); !ok) {
    if (ok.error().code == errc::already_exists)  // another attempt stored it first
      if (auto before = raised_before(services, r.id, r.arguments_hash))
        return *before;
    throw retryable_error("request " + r.id + " could not be journaled: " + ok.error().to_string());
  }
  services.raised(r.id);
  return {r.id, r.due_ms};
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

std::string raised_text(const raised_request& r) {
  if (r.id.empty())
    return {};
  return nlohmann::json{{"request", r.id}, {"due_ms", r.due_ms}}.dump();
}

raised_request parse_raised(const std::string& text) {
  if (text.empty() || text.front() != '{')
    return {text, 0};
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("request") || !j["request"].is_string())
    throw fatal_error("a gate step's journaled result cannot be read: " + text);
  return {j["request"].get<std::string>(), j.value("due_ms", std::int64_t{0})};
}

raised_request raise_if_gated(::endure::detail::step_services& services,
                              const std::string& run_id, const std::string& tool,
                              const nlohmann::json& args, const std::string& id) {
  // A row raised before the process died stands, whatever the policy says
  // now: its request may be pending in someone's inbox.
  if (auto before = raised_before(services, id, agent::json_hash(args)))
    return *before;
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
  if (rule->deadline && rule->deadline->outcome == deadline_outcome::escalate)
    r.rule["escalate_eligible"] = p->group_members(rule->deadline->escalate_to);
  r.due_ms = first_due_ms(r.created_ms, r.rule);
  return store_once(services, r);
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

raised_request raise_question(::endure::detail::step_services& services,
                              const std::string& run_id, const nlohmann::json& question,
                              const std::string& id) {
  auto r = new_request(id, run_id, request_kind::question, "ask_human", question,
                       "the agent asked");
  r.rule = {{"allowed_decisions", {"respond"}}, {"quorum", 1}};
  return store_once(services, r);
}

} // namespace endure::gateway
