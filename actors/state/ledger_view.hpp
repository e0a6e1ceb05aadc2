// What a session orients by (the session loop's "orient" step): the whole
// ledger's counts, the one item to work on next, and the full rows of that
// item and of the next failing ones: the part of a ledger one model call's
// context can show (context_inputs::counts says the rest). Read from the
// items' standing rows (ledger_store::states) and a handful of item rows,
// so orienting in a 10,000-item ledger parses 21 items, not 10,000, and the
// journaled result stays a few kilobytes however long the ledger grows.
// Any thread (blocking journal reads).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "endure/actors/state/ledger_types.hpp"
#include "endure/persistence/error.hpp"

namespace endure::state {

class ledger_store;

struct ledger_view {
  std::size_t total = 0;    ///< items in the ledger
  std::size_t passing = 0;  ///< of them passing (by evidence or override)
  /// The item to work on (next_to_work_on); "" when every item passes.
  std::string current;
  /// `current` first (when set), then up to `next_items` other failing
  /// items in listing order (listing_key): what the context assembler
  /// lists after the counts.
  std::vector<ledger_item> items;
};

/// The item to work on next: a failing one; an item whose verification
/// failed three times waits behind the others; then priority and ledger
/// order. Null when none fails.
const item_state* next_to_work_on(std::span<const item_state> items);

/// The task's view (see ledger_view). Errors: the store's (not_found for
/// a task without a ledger, corrupt_record naming a damaged item).
expected<ledger_view> read_view(const ledger_store& ledger, std::string_view task,
                                std::size_t next_items);

/// The same view of a whole ledger already read (ledger_store::items).
ledger_view view_of(std::span<const ledger_item> all, std::size_t next_items);

/// The view as journaled JSON text, and back (corrupt_record when it does
/// not read: a damaged journal entry).
std::string to_json_text(const ledger_view& view);
expected<ledger_view> ledger_view_from_json(std::string_view text);

} // namespace endure::state
