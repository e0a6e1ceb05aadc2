// Withdrawing the requests of ended runs in the journal (withdrawals.hpp).
#include "endure/actors/gateway/detail/withdrawals.hpp"

#include "endure/actors/detail/clock.hpp"
#include "endure/actors/gateway/detail/request_store.hpp"
#include "endure/actors/gateway/detail/run_decision.hpp"
#include "endure/actors/gateway/request_index.hpp"
#include "endure/actors/gateway/withdraw.hpp"
#include "endure/persistence/log.hpp"

namespace endure::gateway::detail {

namespace {

/// Adds withdrawn `r` (pending before) to `b` and `out`; decided instead,
/// if its run took a decision on it (run_decision.hpp).
void add_withdrawal(const journal& store, human_request r, const std::string& reason,
                    write_batch& b, std::vector<human_request>& out) {
  auto before = keys_of(r);
  auto now = ::endure::detail::now_ms();
  if (!take_run_outcome(store, r, now) && !withdraw(r, now, reason))
    return;
  b.put_row(side_table::requests, r.id, to_record(r));
  update_index(b, before, r);
  out.push_back(std::move(r));
}

} // namespace

expected<std::vector<human_request>> withdraw_run_requests(journal& store,
                                                           const std::string& run_id,
                                                           run_status status) {
  constexpr std::size_t page_size = 100;
  auto reason = withdrawn_reason(run_id, status);
  std::vector<human_request> out;
  write_batch b;
  auto prefix = run_id + "/";
  std::string after;
  for (;;) {
    auto page = store.rows(side_table::requests, prefix, after, page_size);
    if (!page)
      return std::move(page).error();
    for (auto& row : page->rows) {
      // Rows of a run whose id extends this one ("r1/x" for run "r1/x/2"
      // vs run "r1") are not its: the run of a row is its id up to the
      // last '/'.
      if (run_of_request(row.key) != run_id)
        continue;
      if (auto r = from_record(row.rec, row.key); r && r->status == request_status::pending)
        add_withdrawal(store, std::move(*r), reason, b, out);
    }
    if (page->rows.size() + page->damaged.size() < page_size)
      break;
    after = page->rows.empty() ? page->damaged.back().first : page->rows.back().key;
  }
  if (!b.empty())
    if (auto ok = store.commit(std::move(b)); !ok)
      return std::move(ok).error();
  return out;
}

expected<sweep_page> withdraw_ended_page(journal& store, const std::string& after,
                                         std::size_t limit) {
  auto page = store.rows(side_table::pending_requests, pending_prefix, after, limit);
  if (!page)
    return std::move(page).error();
  sweep_page out;
  out.done = page->rows.size() + page->damaged.size() < limit;
  write_batch b;
  for (auto& entry : page->rows) {
    out.last_key = entry.key;
    auto e = parse_index_key(entry.key);
    auto run_id = e ? run_of_request(e->id) : std::nullopt;
    if (!run_id)
      continue;
    // Most runs are alive: their meta says so without reading the row.
    if (auto meta = store.run(*run_id); meta && !is_terminal(meta->status))
      continue;
    auto r = load_request(store, e->id);
    if (!r && r.error().code == errc::not_found)
      b.erase_row(side_table::pending_requests, entry.key);  // its row is gone
    if (!r)
      continue;
    auto before = keys_of(*r);
    if (before.pending != entry.key) {
      // Stale: the row moved on without it (an entry the row's own writes
      // no longer erase). It would count as pending for good.
      b.erase_row(side_table::pending_requests, entry.key);
      continue;
    }
    if (!withdraw_if_run_ended(store, *r))
      continue;
    b.put_row(side_table::requests, r->id, to_record(*r));
    update_index(b, before, *r);
    out.withdrawn.push_back(std::move(*r));
  }
  if (!page->damaged.empty())
    out.last_key = std::max(out.last_key, page->damaged.back().first);
  if (!b.empty())
    if (auto ok = store.commit(std::move(b)); !ok)
      return std::move(ok).error();
  return out;
}

} // namespace endure::gateway::detail
