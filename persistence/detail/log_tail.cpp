// Heads checkpoints and the tail replay (see log_tail.hpp).
#include "endure/persistence/detail/log_tail.hpp"

#include <algorithm>
#include <unordered_set>

#include "endure/persistence/detail/keys.hpp"
#include "endure/persistence/detail/run_chain.hpp"

namespace endure::detail {

namespace {

constexpr std::string_view checkpoint_key = "heads_through";

error unattributable(std::uint64_t position, std::uint64_t through, const std::string& why) {
  return make_error(errc::corrupt_record,
                    "log entry at position " + std::to_string(position)
                      + " (past the heads checkpoint at " + std::to_string(through)
                      + ") is damaged (" + why + ") and names no known run, so no "
                        "run's head can be brought up to date past it. Restore the "
                        "data directory from a backup.");
}

bool run_exists(MDB_txn* txn, MDB_dbi runs, std::string_view run_id) {
  auto k = to_val(run_id);
  MDB_val v;
  return mdb_get(txn, runs, &k, &v) == 0;
}

/// Moves `head` past the tail entry at `position`: a sound entry by its
/// fields; a damaged one by pointing the head at it (taking the seq it
/// claims if higher), so the chain walk reports it where it is.
void step_head(run_head& head, std::uint64_t position, const log_entry& e,
               bool sound) noexcept {
  if (sound) {
    advance_head(head, position, e);
  } else if (position > head.last_pos) {
    head.last_pos = position;
    head.last_seq = std::max(head.last_seq, e.seq);
  }
}

/// Calls fn(position, entry, sound) for every entry past `through`, in
/// position order; a damaged entry claimed by a known run comes with the
/// fields it claims and sound = false. Stops at fn's first error.
template <class Fn>
expected<void> for_each_tail_entry(MDB_txn* txn, const tail_dbs& dbs,
                                   std::uint64_t through, Fn&& fn) {
  lmdb_cursor cur{txn, dbs.log};
  if (cur.open_rc() != 0)
    return lmdb_error(cur.open_rc(), "open log cursor");
  MDB_val k, v;
  std::string why;
  auto first = position_key(through + 1);
  for (bool ok = cur.seek(first, k, v); ok; ok = cur.next(k, v)) {
    std::uint64_t position = 0;
    if (!position_of_key(to_view(k), position))
      break;
    log_entry e;
    bool sound = decode_log_entry(position, to_view(v), e, why);
    if (!sound && !(peek_log_entry(to_view(v), e) && run_exists(txn, dbs.runs, e.run_id)))
      return unattributable(position, through, why);
    if (auto r = fn(position, e, sound); !r)
      return r;
  }
  if (cur.failed())
    return lmdb_error(cur.rc(), "read the log past the heads checkpoint");
  return {};
}

} // namespace

expected<std::uint64_t> load_checkpoint(MDB_txn* txn, MDB_dbi meta) {
  auto k = to_val(checkpoint_key);
  MDB_val v;
  int rc = mdb_get(txn, meta, &k, &v);
  if (rc == MDB_NOTFOUND)
    return std::uint64_t{0};
  if (rc != 0)
    return lmdb_error(rc, "read heads checkpoint");
  if (v.mv_size != 8)
    return make_error(errc::corrupt_record, "the heads checkpoint in the meta database is "
                                              + std::to_string(v.mv_size)
                                              + " bytes, not 8");
  return get_be64(to_view(v));
}

expected<void> store_checkpoint(MDB_txn* txn, MDB_dbi meta, std::uint64_t through) {
  std::string value;
  put_be64(value, through);
  auto k = to_val(checkpoint_key);
  auto v = to_val(value);
  if (int rc = mdb_put(txn, meta, &k, &v, 0); rc != 0)
    return lmdb_error(rc, "write heads checkpoint");
  return {};
}

void advance_head(run_head& head, std::uint64_t position, const log_entry& e) noexcept {
  if (position <= head.last_pos)
    return;  // already reflected (a truncation stored the head later)
  // A run with no stored records starts a new chain: its oldest record is
  // this one, and nothing below it is ever followed.
  auto low = head.last_pos == 0 ? e.seq : head.low_seq;
  // max: a damaged log never lowers the seq the next append must pass.
  head = {position, std::max(head.last_seq, e.seq), low};
}

expected<head_map> replay_tail(MDB_txn* txn, const tail_dbs& dbs, std::uint64_t through) {
  head_map heads;
  std::unordered_set<std::string, string_hash, std::equal_to<>> damaged_heads;
  auto r = for_each_tail_entry(
    txn, dbs, through,
    [&](std::uint64_t position, const log_entry& e, bool sound) -> expected<void> {
      auto run = e.run_id;
      auto it = heads.find(run);
      if (it == heads.end()) {
        if (damaged_heads.contains(run))
          return {};
        auto stored = load_head(txn, dbs.heads, run);
        if (!stored && stored.error().code == errc::corrupt_record) {
          damaged_heads.emplace(run);
          return {};
        }
        if (!stored)
          return std::move(stored).error();
        it = heads.emplace(std::string{run}, *stored).first;
      }
      step_head(it->second, position, e, sound);
      return {};
    });
  if (!r)
    return std::move(r).error();
  return heads;
}

expected<run_head> head_with_tail(MDB_txn* txn, const tail_dbs& dbs,
                                  std::string_view run_id) {
  auto head = load_head(txn, dbs.heads, run_id);
  if (!head)
    return head;
  auto through = load_checkpoint(txn, dbs.meta);
  if (!through)
    return std::move(through).error();
  auto r = for_each_tail_entry(
    txn, dbs, *through,
    [&](std::uint64_t position, const log_entry& e, bool sound) -> expected<void> {
      if (e.run_id == run_id)
        step_head(*head, position, e, sound);
      return {};
    });
  if (!r)
    return std::move(r).error();
  return head;
}

} // namespace endure::detail
