// The four ways a reviewer can answer a gated tool call (the talk's
// interrupt_on vocabulary): approve it as it is, edit its arguments, reject
// it, or respond in the tool's place. Plain values, any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace endure::gateway {

enum class decision : std::uint8_t {
  /// Run the call with the arguments the agent gave.
  approve,
  /// Run the call with arguments the reviewer changed.
  edit,
  /// Do not run the call; the agent is told it was refused.
  reject,
  /// Do not run the call; the reviewer's text is the tool's result.
  respond,
};

/// Every decision, in the canonical order policies list them.
inline constexpr std::array<decision, 4> all_decisions{decision::approve, decision::edit,
                                                       decision::reject, decision::respond};

/// "approve", "edit", "reject", "respond".
std::string_view to_string(decision d) noexcept;

/// The decision named `name` (exact, lowercase), or nullopt.
std::optional<decision> parse_decision(std::string_view name) noexcept;

} // namespace endure::gateway
