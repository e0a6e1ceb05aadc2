// The ledger and the progress log from a workflow: every read and write is
// a journaled step, so a replay after a restart sees what the run saw and
// writes nothing twice. The store (ledger_store.hpp) lives in the
// runtime's journal. Item status changes only here, in verify_item (with
// the evidence of a verification that ran) and apply_override (a person's
// decision through the human gateway): no model output can reach them.
//
//   co_await state::create_ledger(ctx, "docs", "Write the manual", items);
//   auto item = co_await state::verify_item(ctx, "docs", "doc-01", workdir, session);
//   if (item.status == state::item_status::passing) ...
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "endure/actors/context.hpp"
#include "endure/actors/state/ledger_store.hpp"
#include "endure/actors/state/ledger_view.hpp"
#include "endure/actors/task.hpp"

namespace endure::state {

/// Step "ledger:create": creates the task's ledger (all failing), or finds
/// the same one (a restart). A different ledger under the id fails the run
/// (fatal, naming the task). With `claim`, the same step makes this run the
/// task's one writer, as claim_task does (run_long_task claims so: a step
/// of its own would not replay runs an earlier build journaled).
task<task_row> create_ledger(context& ctx, std::string task, std::string goal,
                             std::vector<ledger_item> items, std::string workspace = {},
                             bool claim = false);

/// Step STEP (default "ledger:read"): every item, as the run sees it now.
task<std::vector<ledger_item>> read_ledger(context& ctx, std::string task,
                                           std::string step = "ledger:read");

/// Step STEP: the counts, the item to work on next and the next
/// `next_items` failing items (ledger_view.hpp), as the run sees them now;
/// reads and journals a few items however long the ledger is. A run an
/// earlier build journaled STEP for (the whole ledger, read_ledger's
/// inputs) replays that step and takes the view from it (view_of).
task<ledger_view> read_ledger_view(context& ctx, std::string task, std::string step,
                                   std::size_t next_items);

/// Step "verify:ITEM": runs the item's verification (a command in
/// `workdir`, or a tool of the runtime's registry, each cut off at its
/// timeout) and stores its evidence: the item is passing iff it passed.
/// Returns the item as stored. A verification is never retried by the step:
/// a failing check is evidence, not an error. The step re-run after a kill
/// that came between storing the evidence and journaling it returns that
/// evidence (evidence::step) instead of running the check a second time.
task<ledger_item> verify_item(context& ctx, std::string task, std::string item,
                              std::filesystem::path workdir, std::uint32_t session);

/// Asks a person (ctx.ask_human, choices "approve" / "reject") to approve
/// `change` of the item, then applies it (step "ledger:edit ITEM"): the
/// item becomes failing at revision + 1. Returns whether it was approved.
task<bool> request_edit(context& ctx, std::string task, std::string item, item_edit change,
                        std::string why);

/// Step "ledger:override ITEM": marks the item passing on a person's word
/// (`by` who decided, `why`), audited.
task<ledger_item> apply_override(context& ctx, std::string task, std::string item,
                                 std::string by, std::string why);

/// Step "task:claim": makes this run the task's one writer
/// (ledger_store::claim); a run is live while running, waiting or
/// quarantined. Fails the run (fatal) when another live run has the task,
/// naming it and what to do.
task<void> claim_task(context& ctx, std::string task);

/// Step "ledger:complete": marks the task complete; fails the run (fatal)
/// naming the failing items if any fails.
task<task_row> complete_task(context& ctx, std::string task);

/// Step "progress:SESSION": stores the session's entry (once).
task<void> write_progress(context& ctx, std::string task, progress_entry entry);

/// Step STEP (default "progress:read"): the progress log, oldest first
/// (damaged entries left out and logged).
task<std::vector<progress_entry>> read_progress(context& ctx, std::string task,
                                                std::string step = "progress:read");
/// The same, the newest `newest` entries only (oldest first). A run an
/// earlier build journaled STEP for as the whole log (the overload above's
/// inputs) replays that step and keeps its newest entries.
task<std::vector<progress_entry>> read_progress(context& ctx, std::string task, std::string step,
                                                std::size_t newest);

} // namespace endure::state
