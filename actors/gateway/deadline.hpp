// What a request's deadline and reminders do to it, as pure functions over
// the row: the human gateway applies them (serialised with decisions, so a
// decision and the deadline never both win), stores the row and tells the
// run and the subscribers. The run's side of a deadline (the answer its
// journaled deadline step records) is encoded here too. Any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "endure/actors/gateway/human_request.hpp"
#include "endure/persistence/error.hpp"

namespace endure::gateway {

/// What apply_deadline did.
enum class deadline_step : std::uint8_t {
  final_already,  ///< decided or expired before: nothing changed
  not_due,        ///< pending, its deadline not reached (or none): nothing changed
  expired,        ///< rejected by the deadline: status expired, outcome set
  escalated,      ///< handed to the escalate_to group with a new deadline
  kept_waiting,   ///< keep_waiting: the deadline is gone, the request waits on
};

/// The first deadline of a request raised at `created_ms` under `rule`
/// (gateway::to_json(gate_rule) form): created_ms + after, or 0 for none.
std::int64_t first_due_ms(std::int64_t created_ms, const nlohmann::json& rule);

/// Applies the deadline of pending `r` at `now_ms`, appending an audit
/// entry ("expired", "escalated", "deadline") when it acts:
/// * reject: status expired, outcome reject by nobody (channel "system"),
///   text "no decision within 30m"; delivered (the run gets it from its
///   deadline step's answer, not from a signal).
/// * escalate: the eligible principals become rule.escalate_eligible (the
///   escalate_to group's members, resolved at raise), approvals counted
///   so far no longer count (the group decides afresh), the quorum becomes
///   min(quorum, members), and a second deadline of the same duration
///   starts now; when that one passes the request expires.
/// * keep_waiting: due_ms becomes 0 and the request waits without end.
deadline_step apply_deadline(human_request& r, std::int64_t now_ms);

/// The answer the run's deadline step journals: {"outcome": payload} when
/// the request is final (decided or expired), else {"due_ms": N} (0: wait
/// without a deadline).
std::string deadline_answer(const human_request& r);

struct parsed_deadline_answer {
  std::optional<std::string> outcome;  ///< outcome_payload text when final
  std::int64_t due_ms = 0;
  friend bool operator==(const parsed_deadline_answer&, const parsed_deadline_answer&) = default;
};
/// Errors (invalid_argument) name what is missing.
expected<parsed_deadline_answer> parse_deadline_answer(std::string_view text);

/// When the next reminder of pending `r` is due (ms since the epoch), or
/// nullopt: none left, or not pending.
std::optional<std::int64_t> next_reminder_ms(const human_request& r);

/// Marks the next reminder sent at `now_ms` (audit entry "reminder",
/// outcome "N of M") if it is due; returns its 1-based number, or 0.
std::uint32_t record_reminder(human_request& r, std::int64_t now_ms);

} // namespace endure::gateway
