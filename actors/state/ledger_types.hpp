// The task ledger's and the progress log's value types (durable
// statefulness, actors/state/). A long task keeps what is done and what is
// not in its ledger: items, each with acceptance criteria and a
// verification, all *failing* when created; only the runtime flips an item
// to passing, and only with the evidence of a verification that ran and
// passed. Plain structs: the store (ledger_store.hpp), the JSON codecs
// (ledger_json.hpp), the context assembler and the session loop share them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace endure::state {

/// How an item is checked. Exactly one of `command` and `tool` is set.
struct verification {
  /// A shell command (/bin/sh -c) run in the task's workspace directory.
  std::string command;
  /// The exit status that passes. Default: 0.
  int expect_exit = 0;
  /// Text the command's standard output must contain (empty: any output).
  std::string expect_output;
  /// Or: a tool of the runtime's registry (runtime_options::tools), called
  /// with `tool_args` (a JSON object, as text) ...
  std::string tool;
  std::string tool_args = "{}";
  /// ... whose JSON result must hold every field of this JSON object with
  /// the same value (text; "{}": any result that is not an error).
  std::string expect_result = "{}";
  /// A verification still running after this is cut off (the process group
  /// killed) and fails with that evidence. Default: 30 s.
  std::chrono::milliseconds timeout{30'000};

  friend bool operator==(const verification&, const verification&) = default;
};

/// What one verification did: the proof an item's status rests on.
struct evidence {
  std::string ran;                 ///< the command line, or "tool NAME ARGS"
  bool passed = false;
  std::optional<int> exit_status;  ///< a command's; none for a tool or a kill
  bool timed_out = false;
  /// SHA-256 (hex) of the command's standard output or the tool's result.
  std::string result_hash;
  /// Why it failed, in words (empty when it passed).
  std::string reason;
  /// The last 2 KiB of the output (stdout then stderr) or of the result.
  std::string output_tail;
  std::int64_t at_ms = 0;          ///< when it finished (Unix ms)
  std::int64_t duration_ms = 0;
  std::uint32_t session = 0;       ///< the session that ran it (0: none)
  std::string run_id;              ///< the run that ran it
  /// The step that ran it (its idempotency key, RUN/STEP; empty outside a
  /// step): the step re-run after a crash that came between storing this
  /// evidence and journaling its result finds it instead of running again.
  std::string step;
};

enum class item_status : std::uint8_t { failing = 0, passing = 1 };

/// One item of the ledger (the talk's feature list entry).
struct ledger_item {
  /// [A-Za-z0-9._-], 1 to 100 characters, unique in its ledger.
  std::string id;
  std::string description;
  /// 0 is the most urgent; items are worked in (priority, ledger order).
  std::int32_t priority = 0;
  /// What "done" means, in words the agent reads.
  std::vector<std::string> acceptance;
  verification verify;
  /// Position in the ledger spec (ties of priority keep this order).
  std::uint32_t order = 0;

  // Kept by the runtime, never by the agent:
  item_status status = item_status::failing;
  /// The last verification's evidence; a passing item always has one.
  std::optional<evidence> last;
  std::uint32_t verifications = 0;  ///< verifications run
  /// Edits of acceptance / verification approved through the gateway.
  std::uint32_t revision = 0;
  /// Passing by a person's override (audited: who, why), not by evidence.
  std::string overridden_by;
};

/// An item's standing without its definition: all that choosing the next
/// item to work on needs. The store keeps it in a small row beside the
/// item's, written in the same commit, so a session orients by reading
/// these for the whole ledger and the full rows of a few items only.
struct item_state {
  std::string id;
  item_status status = item_status::failing;
  std::int32_t priority = 0;
  std::uint32_t order = 0;
  std::uint32_t verifications = 0;
  bool overridden = false;
};

/// The order items are listed and worked in: priority, then ledger order,
/// then id (for ledger_item and item_state alike).
template <class Item>
auto listing_key(const Item& it) {
  return std::tie(it.priority, it.order, it.id);
}

/// One entry of the progress log: what one session did, written back at
/// its end and read first by the next session.
struct progress_entry {
  std::uint32_t session = 0;   ///< 1 for the initializer, then 2, 3, ...
  std::int64_t at_ms = 0;
  std::string model;           ///< the model the session ran on
  std::vector<std::string> items;  ///< the items it worked on
  std::string tried;           ///< what was tried
  std::string changed;         ///< what changed (commit, items now passing)
  std::string next;            ///< what the next session should do
  std::string ended;           ///< why it ended: "verified", "budget", ...
};

} // namespace endure::state
