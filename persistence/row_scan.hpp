// Walking a side table page by page: every row whose key starts with a
// prefix, in key order, damaged rows reported beside the good ones so one
// bad row never hides the others. For the stores built on side tables
// (the escalation matrix's, the memory store) at restore. Any thread (reads
// only, one read transaction per page).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include "endure/persistence/journal.hpp"

namespace endure {

/// Calls `each(const stored_row&)` for every readable row of `table` whose
/// key starts with `prefix` and sorts after `after`, and `damaged(key,
/// const error&)` for each row that cannot be read, `page` rows per read.
/// Errors: the journal's (LMDB failing).
template <class Each, class Damaged>
expected<void> scan_rows(const journal& store, side_table table, std::string_view prefix,
                         std::string after, Each each, Damaged damaged,
                         std::size_t page = 4096) {
  for (;;) {
    auto rows = store.rows(table, prefix, after, page);
    if (!rows)
      return std::move(rows).error();
    std::string last;
    for (auto& [key, why] : rows->damaged) {
      damaged(key, why);
      last = std::max(last, key);
    }
    for (auto& row : rows->rows) {
      each(row);
      last = std::max(last, row.key);
    }
    if (rows->rows.size() + rows->damaged.size() < page)
      return {};
    after = std::move(last);
  }
}

} // namespace endure
