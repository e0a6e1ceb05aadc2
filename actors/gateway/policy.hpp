// The policy gate (layer 1 of durable autonomy): which tool calls wait for
// a person, who may decide them, how, and by when. Loaded once from a YAML
// file in the talk's own shape,
//
//   interrupt_on: {send_email: true, execute_sql: true, delete_file: true, publish: true}
//
// and asked for every tool call: gate(tool, args) says whether the call
// waits and with which rule. The format is documented in
// actors/gateway/README.md. A policy is immutable and cheap to copy
// (shared); every method is const and safe on any thread. yaml-cpp stays
// inside the library.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "endure/actors/gateway/gate_rule.hpp"
#include "endure/persistence/error.hpp"

namespace endure::gateway {

class policy;

namespace detail {
struct policy_data;
policy make_policy(policy_data data);
} // namespace detail

/// A policy file larger than this is refused unread.
inline constexpr std::size_t max_policy_bytes = 1 << 20;

class policy {
public:
  // -- asking the gate ------------------------------------------------------

  /// The rule for a call of `tool` with `args`, or nullopt when the call
  /// does not wait: the tool is not listed, is listed `false`, or its
  /// `when` does not hold for these arguments. Tool names match exactly
  /// (case-sensitive). Never throws.
  std::optional<gate_rule> gate(std::string_view tool, const nlohmann::json& args) const;

  /// True if `principal` may decide a request under `rule` (a rule this
  /// policy made): the rule names no approvers (then anyone the gateway
  /// gave the approver role may), or names the principal, or a group the
  /// principal is in. An empty principal never may.
  bool may_decide(const gate_rule& rule, std::string_view principal) const;

  /// The members of group `name`, sorted; empty if there is no such group.
  std::vector<std::string> group_members(std::string_view name) const;

  // -- identity -------------------------------------------------------------

  /// Lowercase hex SHA-256 of the canonical JSON form (to_json()): the same
  /// policy written differently (order, quoting, whitespace, comments,
  /// "30m" or "1800s", defaults spelled out or not) hashes the same; any
  /// change to what gate() or may_decide() answer changes it. Journaled
  /// with every decision.
  const std::string& hash() const noexcept;

  /// The canonical form: {"groups": {name: [principals]}, "interrupt_on":
  /// {tool: {"allowed_decisions", "approvers", "deadline", "description",
  /// "quorum", "reminders_seconds", "when"}}}, every default applied, every
  /// set sorted. Tools listed `false` are left out: they gate nothing.
  nlohmann::json to_json() const;

  /// One line per listed tool, sorted by name: what gates it, who decides,
  /// quorum, deadline, reminders (`endure policy check` prints them).
  std::vector<std::string> describe() const;

  /// The file path or source name the policy was loaded from.
  const std::string& source() const noexcept;

  /// The tools that gate at least some calls, sorted.
  std::vector<std::string> gated_tools() const;

private:
  friend policy detail::make_policy(detail::policy_data data);
  explicit policy(std::shared_ptr<const detail::policy_data> data) : data_(std::move(data)) {}
  std::shared_ptr<const detail::policy_data> data_;
};

/// Parses a policy from YAML text; `source_name` names it in errors. A
/// refused policy is an invalid_argument error whose message reads
/// `SOURCE:LINE:COLUMN: FIELD: what is wrong`, e.g.
/// `policy.yaml:7:5: interrupt_on.publish.quorum: 4 exceeds the 3 approvers
/// named` (LINE:COLUMN is left out where the text has no position, as in an
/// empty document). The first problem found is reported.
expected<policy> parse_policy(std::string_view text, std::string source_name);

/// Reads and parses the file at `path` (named as given in errors). Errors:
/// not_found (no such file), io_error (unreadable, a directory, larger than
/// max_policy_bytes), or parse_policy's.
expected<policy> load_policy_file(const std::string& path);

} // namespace endure::gateway
