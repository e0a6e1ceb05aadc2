// The human gateway's rows in the journal: a request read, a request
// stored together with its index entries (request_index.hpp), and the
// index built once for a directory from before it. Blocking journal calls,
// made on the gateway's own (detached) thread. Internal.
#pragma once

#include <cstddef>
#include <string>

#include "endure/actors/gateway/human_request.hpp"
#include "endure/actors/gateway/request_index.hpp"
#include "endure/persistence/journal.hpp"

namespace endure::gateway::detail {

/// Request `id`'s row; errors: not_found, corrupt_record, the journal's.
/// `as_stored`, if given, receives the row's record as read: what a later
/// write_batch::put_row_if expects to replace.
expected<human_request> load_request(const journal& store, const std::string& id,
                                     record* as_stored = nullptr);

/// Stores `r`, whose index entries were `before` ({} for a new row), and
/// the index update in one commit.
expected<void> store_request(journal& store, const index_keys& before, const human_request& r);

/// Unless the index is complete (index_complete): erases every pending
/// entry (an older form's, or ones a build from before this form left
/// stale), writes the entries of every row and then the mark; returns how
/// many rows it indexed (0 when the index was complete). A damaged row is
/// logged and skipped (it has no entries; `endure request` still shows
/// what is readable of it). An interrupted build is redone from the start
/// at the next call.
expected<std::size_t> ensure_index(journal& store);

} // namespace endure::gateway::detail
