// Where a task's ledger and progress log live: side tables of the journal's
// LMDB environment (the same one as the runs, so exactly as durable):
//
//   ledger    "t/" TASK                the task: goal, item ids, spec hash, completion
//             "i/" TASK "/" ITEM       an item: definition, status, last evidence
//             "s/" TASK "/" ITEM       its standing (item_state), written with it
//             "e/" TASK "/" ITEM "/" N the evidence of its N-th verification (N: 8 hex)
//   progress  TASK "/" SESSION         one entry per session (SESSION: 8 hex)
//
// The only ways an item becomes passing are record_verification() with
// evidence that passed and override_passing() naming the person (audited in
// the item and the task); nothing else writes a status. One writer per task:
// the run that claimed it (claim()), while that run lives; reads from
// anywhere (`endure inspect`, the console). Blocking journal calls:
// activity threads, tools, the CLI.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "endure/actors/state/ledger_types.hpp"
#include "endure/persistence/error.hpp"

namespace endure {
class journal;
class write_batch;
}

namespace endure::state {

/// A task's own row.
struct task_row {
  std::string task;
  std::string goal;
  std::vector<std::string> items;  ///< item ids in ledger order
  std::string spec_hash;           ///< SHA-256 of the spec's items as created
  /// The task's workspace directory, when a session loop keeps one.
  std::string workspace;
  std::int64_t created_ms = 0;
  /// Set once every item passed (or was overridden) and the run said so;
  /// cleared when an item fails a later verification or is edited.
  std::int64_t completed_ms = 0;
  /// Audit of person-made changes: "override ITEM by WHO: WHY", "edit ...".
  std::vector<std::string> audit;
  /// The run working on the task (claim()); empty before the first claim.
  std::string owner;
};

/// An approved change of an item's definition (ledger edits go through the
/// gateway first: the session loop asks a person). Empty fields keep theirs.
struct item_edit {
  std::string description;
  std::optional<std::vector<std::string>> acceptance;
  std::optional<verification> verify;
};

class ledger_store {
public:
  explicit ledger_store(journal& store) noexcept : store_(&store) {}

  /// Creates `task`'s ledger, every item failing, in one commit. The same
  /// task created again with the same items (a step re-run after a crash)
  /// returns the stored row; with other items it fails with already_exists
  /// naming the task (a ledger is never silently replaced). Errors also:
  /// invalid_argument (bad task id, no items, duplicate item ids).
  expected<task_row> create(std::string_view task, std::string_view goal,
                            const std::vector<ledger_item>& items, std::int64_t now_ms,
                            std::string_view workspace = {});

  /// The ids of every task with a ledger, in id order (up to `max`).
  expected<std::vector<std::string>> tasks(std::size_t max = 10'000) const;

  /// The task's row; nullopt when it has no ledger.
  expected<std::optional<task_row>> task(std::string_view task) const;
  /// Every item in ledger order. A damaged item row fails the read with
  /// corrupt_record naming it: a ledger must never look shorter than it is.
  expected<std::vector<ledger_item>> items(std::string_view task) const;
  /// Every item's standing (status, priority, order, verifications), in
  /// ledger order: a few bytes per item where items() parses each whole
  /// row. A ledger written before these rows existed, or one whose standing
  /// row is damaged, is read from its item rows instead (same answer).
  expected<std::vector<item_state>> states(std::string_view task) const;
  /// One item; not_found naming task and item.
  expected<ledger_item> item(std::string_view task, std::string_view id) const;
  /// Every verification's evidence of an item, oldest first.
  expected<std::vector<evidence>> evidence_of(std::string_view task, std::string_view id) const;

  /// Stores the evidence of the item's next verification and sets the
  /// status from it: passing iff `e.passed`, failing otherwise (a passing
  /// item whose check now fails is failing again). Returns the item.
  expected<ledger_item> record_verification(std::string_view task, std::string_view id,
                                            const evidence& e);
  /// Applies an approved edit: revision + 1, status failing (the new
  /// definition has not been verified), audited with `approved_by`.
  expected<ledger_item> edit(std::string_view task, std::string_view id, const item_edit& change,
                             std::string_view approved_by);
  /// Marks a failing item passing on a person's word, without evidence;
  /// the item and the task's audit name who and why. invalid_argument when
  /// `by` or `why` is empty.
  expected<ledger_item> override_passing(std::string_view task, std::string_view id,
                                         std::string_view by, std::string_view why);
  /// Makes `run` the task's one writer. Granted when the task has no
  /// owner, `run` owns it already (a restart), or its owner is not live
  /// (`live(owner)` false: the run ended, was cancelled, or never existed
  /// in this journal). Otherwise invalid_state naming the owner and what to
  /// do: two runs on one task would work the same item twice and number
  /// their sessions alike. Atomic among the claims of one process (the
  /// journal's writer is one process).
  expected<task_row> claim(std::string_view task, std::string_view run,
                           const std::function<bool(const std::string&)>& live);
  /// Marks the task complete; invalid_state naming the failing items
  /// while any item fails (premature victory is refused here too).
  expected<task_row> complete(std::string_view task, std::int64_t now_ms);

  /// Stores the entry of `e.session` (the same session again replaces it:
  /// a write-back re-run after a crash writes one entry, not two).
  expected<void> append_progress(std::string_view task, const progress_entry& e);
  /// The progress log, oldest first; a damaged entry is skipped and
  /// reported in `damaged` (the log must still be readable).
  struct progress_log {
    std::vector<progress_entry> entries;
    std::vector<std::string> damaged;  ///< "session N: why"
  };
  expected<progress_log> progress(std::string_view task) const;
  /// The newest `newest` entries that read, oldest first (what a waking
  /// session reads: the log's older entries are not read at all); a
  /// damaged one is reported in `damaged` and the read goes one further back.
  expected<progress_log> progress(std::string_view task, std::size_t newest) const;

  /// The ledger as JSON: {"task", "goal", "passing", "failing", "complete",
  /// "items": [item with its last evidence], "audit", "owner"}.
  expected<std::string> export_json(std::string_view task) const;

private:
  /// The task's row; not_found when it has no ledger.
  expected<task_row> existing(std::string_view task) const;
  /// Adds the item's row and its standing row to `b` (always together).
  static void put_item(write_batch& b, std::string_view task, const ledger_item& item);
  /// Writes an item and its task's row (whose audit names a person's
  /// change) in one commit.
  expected<ledger_item> put_audited(std::string_view task, const ledger_item& item,
                                    const task_row& row);
  journal* store_;
};

} // namespace endure::state
