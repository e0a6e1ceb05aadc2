// A request for a person: a gated tool call waiting for a decision, or a
// question an agent asked (ask_human). The human gateway owns these; each is
// a row of the journal's `requests` side table, written before anyone is
// told of it, and decided at most once. Plain values; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "endure/actors/gateway/decision.hpp"
#include "endure/persistence/error.hpp"
#include "endure/persistence/record.hpp"

namespace endure::gateway {

/// The record tag of a request row (persistence/FORMAT.md: 64- later layers).
inline constexpr std::uint16_t human_request_tag = 64;

enum class request_kind : std::uint8_t { approval, question };
enum class request_status : std::uint8_t { pending, decided, expired };

std::string_view to_string(request_kind k) noexcept;
std::string_view to_string(request_status s) noexcept;

/// One thing that happened to a request: raised, a decision or a refused
/// attempt at one, a reminder, an escalation, the deadline.
struct audit_entry {
  std::int64_t at_ms = 0;
  std::string principal;  ///< who; empty for the system
  std::string channel;    ///< "c++", "cli", "http", "system"
  std::string action;     ///< "raised", "approve", "edit", "reject", "respond", "expired", ...
  std::string outcome;    ///< "accepted", "counted", or why it was refused
  friend bool operator==(const audit_entry&, const audit_entry&) = default;
};

/// What was decided.
struct request_outcome {
  decision what = decision::reject;
  std::vector<std::string> principals;  ///< who decided (quorum: every approver)
  std::int64_t at_ms = 0;
  std::string channel;
  /// edit: the arguments to run instead, and their hash.
  nlohmann::json edited_arguments;
  std::string edited_hash;
  /// reject: the reason; respond: the text that is the tool's result.
  std::string text;
  friend bool operator==(const request_outcome&, const request_outcome&) = default;
};

struct human_request {
  /// The raising step's idempotency key ("RUN/STEP"): unique, and the same
  /// when a crashed step raises it again.
  std::string id;
  std::string run_id;
  request_kind kind = request_kind::approval;
  /// The gated tool, or "ask_human".
  std::string tool;
  /// approval: the call's arguments and json_hash of them; question:
  /// {"question", "choices", "context"}.
  nlohmann::json arguments;
  std::string arguments_hash;
  /// approval: gateway::to_json(gate_rule), with the policy's hash.
  nlohmann::json rule;
  std::int64_t created_ms = 0;
  /// When the current deadline passes (ms since the epoch); 0: none (no
  /// deadline, keep_waiting after it passed, or decided). Set at raise to
  /// created_ms + the rule's deadline; an escalation sets it again.
  std::int64_t due_ms = 0;
  /// The deadline escalated the request once (the next one expires it).
  bool escalated = false;
  /// How many of rule.reminders_seconds were sent (each once, in order).
  std::uint32_t reminders_sent = 0;
  request_status status = request_status::pending;
  /// Distinct principals who approved so far (quorum).
  std::vector<std::string> approved_by;
  std::optional<request_outcome> outcome;
  /// The outcome reached the run (journaled there as a signal).
  bool delivered = false;
  std::vector<audit_entry> audit;
  friend bool operator==(const human_request&, const human_request&) = default;
};

/// Settles pending `r` with nobody's decision (a deadline, a run that
/// ended): status expired, outcome reject by nobody (channel "system") with
/// text `reason`, no deadline, delivered (the run gets it otherwise, or
/// nobody waits), and audit entry `action`.
void close_unanswered(human_request& r, std::int64_t now_ms, std::string_view action,
                      std::string reason);

/// The signal a run waits on for request `id`'s outcome.
std::string decision_signal(std::string_view id);
/// The request id the gateway (and an offline decision) journals that
/// signal under, and no public API can: runtime::signal, the control socket
/// and `endure signal` draw a random one (in-process code that messages the
/// runs actor directly could, as it could write the journal itself).
/// A run trusts the outcome a signal carries only under this id.
std::string delivery_id(std::string_view id);

/// The row as a record envelope's payload (msgpack of its JSON form).
record to_record(const human_request& r);
/// Decodes a row; errors name the request.
expected<human_request> from_record(const record& rec, std::string_view id);

/// The outcome as the run receives it (the signal's payload), and back.
std::string outcome_payload(const request_outcome& o);
expected<request_outcome> parse_outcome(std::string_view payload);

} // namespace endure::gateway
