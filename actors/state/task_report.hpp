// What a person or a tool sees of a long task, read from the journal (and
// its workspace's git log): the ledger with every item's status and last
// evidence, the audit, the progress log, the artifacts with their
// provenance. `endure task` prints it; the console serves it at
// GET /api/v1/tasks/TASK. Read-only: safe on a journal and workspace a
// live runtime writes (the workspace is opened without touching its locks).
#pragma once

#include <string>
#include <string_view>

#include "endure/persistence/error.hpp"

namespace endure {
class journal;
}

namespace endure::state {

/// {"ledger": (ledger_store::export_json), "progress": [entries, oldest
/// first], "progress_damaged": [...], "artifacts": [{name, hash, size,
/// run_id, session, step, at_ms}], "commits": [{id, message}] (newest
/// first, at most 50; absent without a workspace)}. Errors: not_found
/// naming the task, the journal's.
expected<std::string> task_report_json(const journal& store, std::string_view task);

/// The same for people: a tally, one line per item (status, last evidence
/// or override), the progress log as a chart, the last commits.
expected<std::string> task_report_text(const journal& store, std::string_view task);

/// {"tasks": [{"task", "goal", "items", "passing", "complete"}]}.
expected<std::string> task_list_json(const journal& store);

} // namespace endure::state
