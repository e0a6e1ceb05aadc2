// What a person's decision does to a request, as a pure function: who may
// decide, which decisions the rule allows, quorum, edited arguments checked
// against the tool's schema, and a refusal that says why. The human gateway
// (and `endure approve` with no process running) apply it, then store the
// row and tell the run. Any thread.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "endure/actors/gateway/human_request.hpp"
#include "endure/persistence/error.hpp"

namespace endure::agent {
class tool_registry;
}

namespace endure::gateway {

struct decision_input {
  /// Who decides: from the channel's authentication, never from a body.
  std::string principal;
  decision what = decision::approve;
  /// edit: {"arguments": {...}}; reject: {"reason": "..."} (optional);
  /// respond: {"text": "..."}; approve: ignored.
  nlohmann::json payload;
  /// "c++", "cli", "http".
  std::string channel = "c++";
  std::int64_t now_ms = 0;
};

enum class decide_result : std::uint8_t {
  decided,  ///< the request has its outcome: tell the run
  counted,  ///< an approval towards the quorum; still pending
};

/// Applies `in` to `r`. Every attempt, accepted or refused, is appended to
/// r.audit, so the caller stores `r` either way. Refusals: invalid_state (no
/// longer pending: names who decided and when), permission_denied (not an
/// approver of this request), invalid_argument (a decision the rule does not
/// allow, the same principal approving twice, an edit whose arguments break
/// the tool's schema, a question answered with anything but respond, or
/// with a text that is not exactly one of the question's non-empty
/// "choices"). Times in messages are UTC ISO 8601 (utc_time.hpp).
/// `tools` checks edits; null refuses every edit.
expected<decide_result> apply_decision(human_request& r, const decision_input& in,
                                       const agent::tool_registry* tools);

/// Whether `name` may be a principal (or channel): 1 to 200 bytes of
/// valid UTF-8 without control characters, as it is journaled, shown and
/// compared. apply_decision refuses any other; a policy naming one as an
/// approver is refused when it loads (nobody could ever decide as it).
bool valid_principal(const std::string& name);

/// The principals who may decide `r` (its rule's approvers, groups
/// resolved when it was raised); empty = anyone with the approver role.
std::vector<std::string> eligible_principals(const human_request& r);

} // namespace endure::gateway
