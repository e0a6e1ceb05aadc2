// Artifacts and write-backs from a workflow, as journaled steps:
//
//   auto id = co_await state::save_artifact(ctx, "doc-7", "report.md", text, session);
//   auto commit = co_await state::commit_workspace(ctx, "/srv/tasks/doc-7", "Draft section 2");
//
// save_artifact is the step "artifact:NAME": the artifact is stored in the
// runtime's journal (artifact_store.hpp) with the provenance (this run,
// `session`, this step) and its id is journaled; a replay reads the id
// back, and a step re-run after a crash updates the same listing (its
// identity is the same), never adds one. commit_workspace is the step
// "workspace:commit": every change of the workspace in `dir` is committed
// (workspace.hpp) under the step's idempotency key (run id + "/" + step),
// so a re-run after kill -9 between the commit and its journal entry finds
// the key on HEAD and commits nothing: one commit per write-back. Its
// result is HEAD's id after it (also when nothing needed committing).
//
// Failures: a bad task id, name, size, path or message is fatal (trying
// again cannot help), naming run and step; storage or git failing is
// retryable. Run actor's thread, like all workflow code; the steps run on
// activity threads.
#pragma once

#include <cstdint>
#include <string>

#include "endure/actors/context.hpp"

namespace endure::state {

/// The step "artifact:NAME"; its result is the artifact id (SHA-256 hex).
op_awaiter<std::string> save_artifact(context& ctx, std::string task, std::string name,
                                      std::string bytes, std::uint32_t session = 0);

/// The step "workspace:commit"; its result is HEAD's commit id after it.
/// With `allow_empty`, a tree without changes still gets a commit (one per
/// write-back); without it, none (workspace::commit_all).
op_awaiter<std::string> commit_workspace(context& ctx, std::string dir, std::string message,
                                         bool allow_empty = false);

} // namespace endure::state
