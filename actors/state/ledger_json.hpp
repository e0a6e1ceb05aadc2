// The ledger's and the progress log's JSON: the ledger spec a user writes,
// the rows the store keeps, the export `endure inspect` and
// state::export_ledger give. Parsers check every field they read and name
// the item and the field that is wrong; unknown keys of stored rows are
// ignored (a newer build's rows still read), unknown keys of a spec are
// refused (a typo must not silently drop a check). Any thread.
//
// A ledger spec:
//
//   {"items": [
//     {"id": "doc-01", "description": "Write docs/01.md about ...",
//      "priority": 0,
//      "acceptance": ["has a title", "mentions kill -9"],
//      "verification": {"command": "grep -q 'kill -9' docs/01.md",
//                       "expect_exit": 0, "expect_output": "",
//                       "timeout_ms": 5000}},
//     {"id": "api-02", "description": "...",
//      "verification": {"tool": "check_api", "args": {"path": "/v1"},
//                       "expect": {"ok": true}}}]}
//
// (a bare array of items is accepted too). Required: id, description,
// verification with exactly one of command and tool.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "endure/actors/state/ledger_types.hpp"
#include "endure/persistence/error.hpp"

namespace endure::state {

/// Whether `id` is a valid task or item id: 1 to 100 of [A-Za-z0-9._-].
bool valid_id(std::string_view id) noexcept;

/// Parses a ledger spec: every item failing, `order` its position.
/// Errors: invalid_argument "ledger spec: item 3 (\"doc-03\"):
/// verification.timeout_ms: must be ...", naming the item and field
/// (duplicate ids, unknown fields and an empty ledger too).
expected<std::vector<ledger_item>> ledger_spec_from_json(std::string_view text);

/// An item's whole stored form (definition, status, last evidence, counts).
std::string to_json_text(const ledger_item& item);
expected<ledger_item> item_from_json(std::string_view text);

std::string to_json_text(const evidence& e);
expected<evidence> evidence_from_json(std::string_view text);

std::string to_json_text(const progress_entry& p);
expected<progress_entry> progress_from_json(std::string_view text);

/// "failing" or "passing".
const char* to_string(item_status s) noexcept;

} // namespace endure::state
