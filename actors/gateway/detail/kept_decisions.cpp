// Decisions kept while the journal refused them (kept_decisions.hpp).
#include "endure/actors/gateway/detail/kept_decisions.hpp"

#include "endure/actors/gateway/detail/request_store.hpp"
#include "endure/persistence/log.hpp"

namespace endure::gateway::detail {

namespace {

bool same_decision(const request_outcome& a, const request_outcome& b) {
  return a.at_ms == b.at_ms && a.principals == b.principals;
}

} // namespace

void kept_decisions::keep(index_keys before, record as_stored, human_request decided) {
  auto id = decided.id;
  kept_[id] = {std::move(before), std::move(as_stored), std::move(decided)};
}

const human_request* kept_decisions::find(const std::string& id) const {
  auto it = kept_.find(id);
  return it == kept_.end() ? nullptr : &it->second.decided;
}

kept_decisions::settled kept_decisions::settle(journal& store, const std::string& id) {
  auto it = kept_.find(id);
  if (it == kept_.end())
    return {};
  auto& k = it->second;
  record now_stored;
  auto r = load_request(store, id, &now_stored);
  if (!r && (r.error().code == errc::not_found || r.error().code == errc::corrupt_record)) {
    log::error("request " + id + ": its decision is dropped, its row being unusable ("
               + r.error().to_string() + ")");
    kept_.erase(it);
    return {outcome::dropped, {}};
  }
  if (!r) {
    log::error("request " + id + ": its decision is not stored yet, and its row cannot be read ("
               + r.error().to_string() + ")");
    return {outcome::refused, {}};
  }
  bool wrote = now_stored == k.as_stored;
  if (wrote) {
    write_batch b;
    // put_row_if: should the run's commit land first after all, it stands.
    b.put_row_if(side_table::requests, id, to_record(k.decided), k.as_stored);
    update_index(b, k.before, k.decided);
    if (auto ok = store.commit(std::move(b)); !ok) {
      log::error("request " + id + ": its decision still cannot be journaled ("
                 + ok.error().message + ")");
      return {outcome::refused, {}};
    }
    r = load_request(store, id);
  }
  auto decided = std::move(k.decided);
  kept_.erase(it);
  if (!r) {
    log::error("request " + id + ": its decision was stored, but its row cannot be read back ("
               + r.error().to_string() + ")");
    return {outcome::stored_unread, {}};
  }
  if (!r->outcome || !same_decision(*r->outcome, *decided.outcome)) {
    log::warn("request " + id + ": the decision made while the journal failed was not stored: "
              "the row was stored since (" + std::string{to_string(r->status)} + ")");
    return {outcome::dropped, {}};
  }
  if (wrote && keys_of(*r) != keys_of(decided)) {
    // The run's commit overtook the store above: drop the entries it added.
    write_batch fix;
    update_index(fix, keys_of(decided), *r);
    if (auto ok = store.commit(std::move(fix)); !ok)
      log::error("request " + id + ": a stale index entry could not be erased ("
                 + ok.error().to_string() + "); the next start erases it");
  }
  return {outcome::stored, std::move(*r)};
}

} // namespace endure::gateway::detail
