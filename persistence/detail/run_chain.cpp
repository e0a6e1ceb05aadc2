// Chain walk over the `log` database: see run_chain.hpp for the checks.
#include "endure/persistence/detail/run_chain.hpp"

#include <algorithm>
#include <string>

#include "endure/persistence/detail/keys.hpp"

namespace endure::detail {

namespace {

error broken(std::string_view run_id, const std::string& what) {
  return make_error(errc::corrupt_record,
                    "run " + std::string{run_id} + " " + what
                      + "; the run cannot be replayed past it. Restore the data "
                        "directory from a backup or cancel the run.");
}

/// Where the walk is, for messages: the head's record has a known seq;
/// past it only the last good seq is known.
std::string where(const run_head& head, std::uint64_t position,
                  std::uint64_t last_good_seq) {
  if (last_good_seq == 0)
    return "seq " + std::to_string(head.last_seq) + " (log position "
           + std::to_string(position) + ")";
  return "record before seq " + std::to_string(last_good_seq) + " (log position "
         + std::to_string(position) + ")";
}

/// Checks that the entry read at `position` is the link the chain expects.
expected<void> check_link(std::string_view run_id, const run_head& head,
                          std::uint64_t position, std::uint64_t last_good_seq,
                          const log_entry& e) {
  bool first = last_good_seq == 0;
  bool seq_ok = first ? e.seq == head.last_seq
                      : e.seq < last_good_seq && e.seq >= head.low_seq;
  if (e.run_id == run_id && seq_ok && e.prev < position)
    return {};
  return broken(run_id, where(head, position, last_good_seq) + ": the log entry there "
                          "belongs to run " + std::string{e.run_id} + " seq "
                          + std::to_string(e.seq) + " (previous position "
                          + std::to_string(e.prev) + "), not to this chain");
}

} // namespace

expected<run_head> load_head(MDB_txn* txn, MDB_dbi heads, std::string_view run_id) {
  auto k = to_val(run_id);
  MDB_val v;
  int rc = mdb_get(txn, heads, &k, &v);
  if (rc == MDB_NOTFOUND)
    return run_head{};
  if (rc != 0)
    return lmdb_error(rc, "read head of run " + std::string{run_id});
  run_head h;
  std::string why;
  if (!decode_run_head(run_id, to_view(v), h, why))
    return broken(run_id, "head is damaged (" + why + ")");
  if (h.last_pos != 0 && h.low_seq > h.last_seq)
    return broken(run_id, "head is inconsistent (lowest seq " + std::to_string(h.low_seq)
                            + " above last seq " + std::to_string(h.last_seq) + ")");
  return h;
}

expected<void> store_head(MDB_txn* txn, MDB_dbi heads, std::string_view run_id,
                          const run_head& head) {
  char value[run_head_size];
  encode_run_head(run_id, head, value);
  auto k = to_val(run_id);
  MDB_val v{sizeof value, value};
  if (int rc = mdb_put(txn, heads, &k, &v, 0); rc != 0)
    return lmdb_error(rc, "write head of run " + std::string{run_id});
  return {};
}

expected<void> append_link(MDB_txn* txn, MDB_dbi log, std::uint64_t position,
                           const log_entry& e) {
  auto key = position_key(position);
  auto k = to_val(key);
  MDB_val v{log_entry_size(e), nullptr};
  // Plain appends into LMDB's main database: a named database would add its
  // root record in the main database to every commit's dirty pages.
  int rc = mdb_put(txn, log, &k, &v, MDB_APPEND | MDB_RESERVE);
  if (rc == MDB_KEYEXIST)  // a writer bug, not the caller's duplicate seq
    return make_error(errc::storage_error, "log position " + std::to_string(position)
                                             + " is not past the end of the log");
  if (rc != 0)
    return lmdb_error(rc, "append to log");
  encode_log_entry(position, e, static_cast<char*>(v.mv_data));
  return {};
}

expected<std::uint64_t> next_free_position(MDB_txn* txn, MDB_dbi log) {
  lmdb_cursor cur{txn, log};
  if (cur.open_rc() != 0)
    return lmdb_error(cur.open_rc(), "open log cursor");
  MDB_val k, v;
  std::uint64_t last = 0;
  bool found = cur.last(k, v);
  if (cur.failed())
    return lmdb_error(cur.rc(), "find the log's last position");
  if (!found || to_view(k).substr(0, 1) != "\xff")
    return std::uint64_t{1};  // empty, or only database names: no log yet
  if (!position_of_key(to_view(k), last))
    return make_error(errc::corrupt_record, "the log's last key is "
                                              + std::to_string(k.mv_size)
                                              + " bytes, not 0xff and an 8-byte position");
  return last + 1;
}

expected<std::vector<chain_link>> walk_chain(MDB_txn* txn, MDB_dbi log,
                                             std::string_view run_id,
                                             const run_head& head,
                                             std::uint64_t from_seq) {
  std::vector<chain_link> out;
  std::uint64_t last_good = 0;
  std::string why;
  // Positions fall strictly at every step (checked), so this ends.
  for (auto pos = head.last_pos; pos != 0;) {
    auto key = position_key(pos);
    auto k = to_val(key);
    MDB_val v;
    if (int rc = mdb_get(txn, log, &k, &v); rc != 0) {
      if (rc == MDB_NOTFOUND)
        return broken(run_id, where(head, pos, last_good) + " is missing from the log");
      return lmdb_error(rc, "read log of run " + std::string{run_id});
    }
    log_entry e;
    if (!decode_log_entry(pos, to_view(v), e, why))
      return broken(run_id, where(head, pos, last_good) + " is damaged (" + why + ")");
    if (auto ok = check_link(run_id, head, pos, last_good, e); !ok)
      return std::move(ok).error();
    if (e.seq < from_seq)
      break;
    out.push_back({pos, e.seq, e.envelope});
    // Seqs fall strictly: nothing older is wanted, so do not even look.
    if (e.seq == head.low_seq || e.seq == from_seq)
      break;
    if (e.prev == 0)
      return broken(run_id, "seq " + std::to_string(e.seq) + ": the chain ends there but "
                              "the head says records are stored down to seq "
                              + std::to_string(head.low_seq));
    last_good = e.seq;
    pos = e.prev;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

} // namespace endure::detail
