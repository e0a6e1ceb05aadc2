// apply_deadline, the deadline step's answer and reminders (deadline.hpp).
#include "endure/actors/gateway/deadline.hpp"

#include <algorithm>
#include <chrono>

#include "endure/actors/gateway/duration.hpp"

namespace endure::gateway {

namespace {

using json = nlohmann::json;

std::int64_t after_ms(const json& rule) {
  auto d = rule.contains("deadline") ? rule["deadline"] : json{};
  return d.is_object() ? d.value("after_seconds", std::int64_t{0}) * 1000 : 0;
}

std::string outcome_of(const json& rule) {
  auto& d = rule.at("deadline");
  return d.value("outcome", std::string{"reject"});
}

std::string within(const json& rule) {
  return "no decision within "
         + format_duration(std::chrono::seconds{after_ms(rule) / 1000});
}

void expire(human_request& r, std::int64_t now_ms) {
  auto reason = within(r.rule);
  if (r.escalated)
    reason += " after the escalation to " + r.rule["deadline"].value("escalate_to", std::string{});
  close_unanswered(r, now_ms, "expired", std::move(reason));  // the run's deadline step carries it
}

void escalate(human_request& r, std::int64_t now_ms) {
  auto members = r.rule.value("escalate_eligible", std::vector<std::string>{});
  auto quorum = r.rule.value("quorum", 1u);
  r.rule["escalated_from"] = {{"eligible", r.rule.value("eligible", json::array())},
                              {"quorum", quorum},
                              {"approved_by", r.approved_by}};
  r.rule["eligible"] = members;
  r.rule["quorum"] = std::max<std::uint32_t>(
    1, std::min<std::uint32_t>(quorum, static_cast<std::uint32_t>(members.size())));
  r.approved_by.clear();
  r.escalated = true;
  r.due_ms = now_ms + after_ms(r.rule);
  std::string to = r.rule["deadline"].value("escalate_to", std::string{});
  std::string who;
  for (auto& m : members)
    who += (who.empty() ? "" : ", ") + m;
  r.audit.push_back({now_ms, "", "system", "escalated",
                     within(r.rule) + ": to " + to + " (" + who + ")"});
}

} // namespace

std::int64_t first_due_ms(std::int64_t created_ms, const json& rule) {
  auto after = after_ms(rule);
  return after > 0 ? created_ms + after : 0;
}

deadline_step apply_deadline(human_request& r, std::int64_t now_ms) {
  if (r.status != request_status::pending)
    return deadline_step::final_already;
  if (r.due_ms == 0 || now_ms < r.due_ms)
    return deadline_step::not_due;
  auto outcome = outcome_of(r.rule);
  if (outcome == "escalate" && !r.escalated) {
    escalate(r, now_ms);
    return deadline_step::escalated;
  }
  if (outcome == "keep_waiting") {
    r.due_ms = 0;
    r.audit.push_back({now_ms, "", "system", "deadline", within(r.rule) + ": keeps waiting"});
    return deadline_step::kept_waiting;
  }
  expire(r, now_ms);  // reject, or the escalated request's second deadline
  return deadline_step::expired;
}

std::string deadline_answer(const human_request& r) {
  if (r.status != request_status::pending && r.outcome)
    return json{{"outcome", outcome_payload(*r.outcome)}}.dump();
  return json{{"due_ms", r.due_ms}}.dump();
}

expected<parsed_deadline_answer> parse_deadline_answer(std::string_view text) {
  auto j = json::parse(text, nullptr, false);
  parsed_deadline_answer out;
  if (j.is_object() && j.contains("outcome") && j["outcome"].is_string()) {
    out.outcome = j["outcome"].get<std::string>();
    return out;
  }
  if (j.is_object() && j.contains("due_ms") && j["due_ms"].is_number_integer()) {
    out.due_ms = j["due_ms"].get<std::int64_t>();
    return out;
  }
  return make_error(errc::invalid_argument, "the gateway's answer at a deadline has neither an "
                                            "outcome nor a due time: " + std::string{text});
}

std::optional<std::int64_t> next_reminder_ms(const human_request& r) {
  if (r.status != request_status::pending || !r.rule.contains("reminders_seconds"))
    return std::nullopt;
  auto& offsets = r.rule["reminders_seconds"];
  if (!offsets.is_array() || r.reminders_sent >= offsets.size())
    return std::nullopt;
  return r.created_ms + offsets[r.reminders_sent].get<std::int64_t>() * 1000;
}

std::uint32_t record_reminder(human_request& r, std::int64_t now_ms) {
  auto due = next_reminder_ms(r);
  if (!due || now_ms < *due)
    return 0;
  auto number = ++r.reminders_sent;
  r.audit.push_back({now_ms, "", "system", "reminder",
                     std::to_string(number) + " of "
                       + std::to_string(r.rule["reminders_seconds"].size())});
  return number;
}

} // namespace endure::gateway
