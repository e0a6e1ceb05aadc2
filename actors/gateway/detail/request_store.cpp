// Request rows and their index entries in the journal (request_store.hpp).
#include "endure/actors/gateway/detail/request_store.hpp"

#include "endure/persistence/log.hpp"

namespace endure::gateway::detail {

expected<human_request> load_request(const journal& store, const std::string& id,
                                     record* as_stored) {
  auto row = store.row(side_table::requests, id);
  if (!row)
    return std::move(row).error();
  if (!*row)
    return make_error(errc::not_found, "no request " + id);
  if (as_stored)
    *as_stored = **row;
  return from_record(**row, id);
}

expected<void> store_request(journal& store, const index_keys& before, const human_request& r) {
  write_batch b;
  b.put_row(side_table::requests, r.id, to_record(r));
  update_index(b, before, r);
  return store.commit(std::move(b));
}

namespace {

constexpr std::size_t index_page = 1000;

/// Erases every key under `prefix` in `table`, a page per commit.
expected<void> erase_entries(journal& store, side_table table, std::string_view prefix) {
  for (;;) {
    auto page = store.rows(table, prefix, "", index_page);
    if (!page)
      return std::move(page).error();
    write_batch b;
    for (auto& row : page->rows)
      b.erase_row(table, row.key);
    for (auto& [key, why] : page->damaged)
      b.erase_row(table, key);
    if (b.empty())
      return {};
    if (auto ok = store.commit(std::move(b)); !ok)
      return ok;
    if (page->rows.size() + page->damaged.size() < index_page)
      return {};
  }
}

/// Puts the entries of every row, the mark of a complete index last.
expected<std::size_t> index_every_row(journal& store) {
  std::size_t indexed = 0;
  std::string after;
  for (;;) {
    auto page = store.rows(side_table::requests, "", after, index_page);
    if (!page)
      return std::move(page).error();
    write_batch b;
    for (auto& [key, why] : page->damaged)
      log::error("request " + key + " is damaged and gets no index entry: " + why.to_string());
    for (auto& row : page->rows) {
      auto r = from_record(row.rec, row.key);
      if (!r) {
        log::error(r.error().to_string() + "; it gets no index entry");
        continue;
      }
      update_index(b, {}, *r);
      ++indexed;
    }
    bool last = page->rows.size() + page->damaged.size() < index_page;
    if (last) {  // the marks last, in the batch of the last rows
      b.put_row(side_table::request_index, std::string{indexed_key}, index_record());
      b.erase_row(side_table::request_index, std::string{first_form_indexed_key});
    }
    if (!b.empty())
      if (auto ok = store.commit(std::move(b)); !ok)
        return std::move(ok).error();
    if (last)
      return indexed;
    after = page->rows.empty() ? std::string{} : page->rows.back().key;
    if (!page->damaged.empty())
      after = std::max(after, page->damaged.back().first);
  }
}

} // namespace

expected<std::size_t> ensure_index(journal& store) {
  auto complete = index_complete(store);
  if (!complete)
    return std::move(complete).error();
  if (*complete)
    return std::size_t{0};
  // Both marks go first, in one commit: readers of this build and of the
  // builds before the pending table scan the rows while the entries change
  // (a build before it would trust "indexed" over entries erased here, even
  // after a crash part way). Then every pending entry there is, in either
  // table: the first form's, and this form's that a build before it left
  // stale. The rows put back the true ones.
  write_batch unmark;
  unmark.erase_row(side_table::request_index, std::string{indexed_key});
  unmark.erase_row(side_table::request_index, std::string{first_form_indexed_key});
  if (auto ok = store.commit(std::move(unmark)); !ok)
    return std::move(ok).error();
  if (auto ok = erase_entries(store, side_table::pending_requests, ""); !ok)
    return std::move(ok).error();
  if (auto ok = erase_entries(store, side_table::request_index, pending_prefix); !ok)
    return std::move(ok).error();
  return index_every_row(store);
}

} // namespace endure::gateway::detail
