// event_detail (request_event.hpp).
#include "endure/actors/gateway/request_event.hpp"

#include "endure/actors/gateway/decide.hpp"

namespace endure::gateway {

namespace {

using json = nlohmann::json;

/// The reason the request was raised: the "raised" audit entry's outcome.
std::string why(const human_request& r) {
  for (auto& a : r.audit)
    if (a.action == "raised")
      return a.outcome;
  return {};
}

void add_kind_fields(std::string_view kind, const human_request& r, json& d) {
  auto quorum = r.rule.value("quorum", 1u);
  if (kind == "waiting") {
    d["why"] = why(r);
    d["quorum"] = quorum;
    if (r.due_ms == 0 && r.rule.contains("deadline") && r.rule["deadline"].is_object())
      d["deadline_passed"] = true;
  } else if (kind == "counted") {
    d["by"] = r.approved_by.empty() ? std::string{} : r.approved_by.back();
    d["approved_by"] = r.approved_by;
    d["quorum"] = quorum;
  } else if (kind == "decided" && r.outcome) {
    d["decision"] = std::string{to_string(r.outcome->what)};
    d["by"] = r.outcome->principals;
  } else if (kind == "expired" && r.outcome) {
    d["reason"] = r.outcome->text;
  } else if (kind == "escalated") {
    d["to"] = r.rule["deadline"].value("escalate_to", std::string{});
    d["quorum"] = quorum;
  } else if (kind == "reminder") {
    d["number"] = r.reminders_sent;
    d["of"] = r.rule.value("reminders_seconds", json::array()).size();
  }
}

} // namespace

std::string event_detail(std::string_view kind, const human_request& r) {
  json d = {{"tool", r.tool},
            {"kind", std::string{to_string(r.kind)}},
            {"status", std::string{to_string(r.status)}},
            {"eligible", eligible_principals(r)},
            {"since_ms", r.created_ms},
            {"due_ms", r.due_ms}};
  add_kind_fields(kind, r, d);
  return d.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace endure::gateway
