// The context assembler (durable statefulness, issue 18): builds the two
// messages of one model call (system: the agent's instructions; user: the
// task, the current item and what the agent should know about the rest)
// from the task's state, under a token budget. A session's context is never
// its chat history grown without bound: each call's prompt is assembled
// afresh from the ledger, the progress log, memory hits and recent results,
// so a session that would outgrow the budget can end and a fresh one start
// from state without losing anything (the talk's context-window reset,
// made harmless).
//
// Pure functions of their inputs: no clock, no randomness, no I/O, no
// locale; any thread. The same inputs give byte-identical messages and the
// same prompt_hash, so a journaled call can be checked on replay and a
// prompt can be traced to the state it came from.
//
// What goes in, in this fixed priority order (actors/state/README.md,
// "Context assembler"); each section or entry is either included whole or
// left out, and the manifest says which and why:
//
//   0. Required, or an error: the instructions (the system message), the
//      task id and goal, and the current item with its acceptance criteria,
//      its verification and its last evidence. Never truncated: if they
//      alone exceed the budget, assemble_context returns an error saying by
//      how much and what to do.
//   1. The ledger summary: counts (items, passing, failing), then the next
//      failing items by (priority, order), at most limits.next_items, listed
//      without gaps (one that does not fit ends the list).
//   2. The progress log, newest first, at most limits.progress entries,
//      without gaps (so the newest entry is always in if it fits).
//   3. Memory hits by score (ties: key, then text), at most
//      limits.memories; each one that fits goes in.
//   4. Recent tool results, newest first, at most limits.recent; each one
//      that fits goes in.
//
// Tokens are estimated as the `sim` model and the agent loop estimate them
// (net/token_estimate.hpp):
// ceil(chars / 4) per text plus 4 per message. A real model's tokenizer
// differs: keep budget_tokens below its context window with a margin.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "endure/actors/state/ledger_types.hpp"
#include "endure/actors/state/memory_types.hpp"
#include "endure/persistence/error.hpp"

namespace endure::state {

// -- token estimates ---------------------------------------------------------

/// Tokens a text costs: net::estimate_tokens, ceil(chars / 4). Every
/// budget decision in endure's statefulness uses this one function.
std::size_t estimate_tokens(std::string_view text) noexcept;

/// What one chat message costs beyond its text (role, separators): 4, as
/// the sim model counts it.
inline constexpr std::size_t message_overhead_tokens = 4;

/// Tokens a conversation of these message texts costs: the sum of
/// message_overhead_tokens + estimate_tokens(text) over the messages.
std::size_t estimate_conversation_tokens(std::span<const std::string> messages) noexcept;

/// Whether a conversation of these message texts is within `budget_tokens`.
/// The session loop asks this before each model call: a conversation that
/// no longer fits ends the session, and the next one starts from state.
bool fits_budget(std::span<const std::string> messages, std::size_t budget_tokens) noexcept;

// -- inputs ------------------------------------------------------------------

// memory_hit, one hit of the memory store (a remembered text and how well
// it matches; a NaN score is left out, manifest "invalid"), is the memory
// store's own (memory_types.hpp): recall's hits go in as they are.

/// How many entries each bounded section may list at most.
struct context_limits {
  /// Failing items listed after the counts. Default: 20.
  std::size_t next_items = 20;
  /// Progress entries, newest first. Default: 10.
  std::size_t progress = 10;
  /// Memory hits, best first. Default: 20.
  std::size_t memories = 20;
  /// Recent tool results, newest first. Default: 20.
  std::size_t recent = 20;
};

/// How many items a ledger has and how many of them pass.
struct ledger_counts {
  std::size_t items = 0;
  std::size_t passing = 0;
};

/// Everything one call's context is assembled from. The spans are read
/// during assemble_context only.
struct context_inputs {
  std::string task;          ///< the task id
  std::string goal;          ///< the task's goal, in words
  std::string instructions;  ///< the system message (always included)
  /// The whole ledger, in any order (it is ranked by priority, order, id).
  /// Ids are unique, as the ledger store keeps them. With `counts` set:
  /// part of it, holding the current item and at least the
  /// limits.next_items failing items first in listing order (a
  /// ledger_view's items).
  std::span<const ledger_item> items;
  /// The whole ledger's counts when `items` is only part of it.
  std::optional<ledger_counts> counts;
  std::span<const progress_entry> progress;  ///< oldest first
  std::string current_item;                  ///< an id of `items`
  std::span<const memory_hit> memories;      ///< any order (ranked by score)
  std::span<const std::string> recent;       ///< newest last
  std::size_t budget_tokens = 0;
  context_limits limits{};
};

// -- output ------------------------------------------------------------------

/// One line of the manifest: a section or entry, put in or left out.
struct context_section {
  /// "instructions", "task", "current_item", "ledger_summary",
  /// "next_failing", "progress", "memory" or "recent".
  std::string name;
  /// Which one: an item id, "session 12", a memory key, "result 1 of 5
  /// (newest first)", or what a summary row stands for.
  std::string detail;
  /// Its estimate_tokens (with its section heading when it opens one).
  std::size_t tokens = 0;
  bool included = false;
  /// "required", "fits", or why it was left out: "budget: needs 120
  /// tokens, 40 left", "limit: only the 20 next failing items are listed",
  /// "empty: no memory hits given", ...
  std::string reason;
};

struct assembled_context {
  std::string system;  ///< the instructions, verbatim
  std::string user;    ///< the assembled state
  /// What the two messages cost: 2 * message_overhead_tokens +
  /// estimate_tokens(system) + estimate_tokens(user); <= budget_tokens.
  std::size_t tokens = 0;
  /// XXH3-128 (32 lowercase hex) of system, a NUL byte, and user.
  std::string prompt_hash;
  /// In priority order: every section and entry considered, put in or not.
  std::vector<context_section> manifest;
};

/// Assembles one call's context. Errors:
/// * invalid_argument: current_item empty; or the required part
///   (instructions, task, current item) exceeds budget_tokens, the message
///   naming the item, the tokens over and what to do.
/// * not_found: current_item is not in `items`.
/// * invalid_argument: current_item occurs more than once in `items`.
/// * invalid_argument: `counts` smaller than what `items` holds, or
///   `items` holding fewer next failing items than limits.next_items while
///   `counts` says there are more.
expected<assembled_context> assemble_context(const context_inputs& in);

} // namespace endure::state
