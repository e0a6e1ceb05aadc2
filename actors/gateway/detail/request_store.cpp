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

expected<std::size_t> ensure_index(journal& store) {
  auto marker = store.row(side_table::request_index, indexed_key);
  if (!marker)
    return std::move(marker).error();
  if (*marker)
    return std::size_t{0};
  constexpr std::size_t page_size = 1000;
  std::size_t indexed = 0;
  std::string after;
  for (;;) {
    auto page = store.rows(side_table::requests, "", after, page_size);
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
    bool last = page->rows.size() + page->damaged.size() < page_size;
    if (last)  // the marker last, in the batch of the last rows
      b.put_row(side_table::request_index, std::string{indexed_key}, index_record());
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

} // namespace endure::gateway::detail
