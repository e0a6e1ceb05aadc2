// The journal's run heads under layout 3: in memory between checkpoints,
// stored at checkpoints, rebuilt from the log's tail at a writer open, and
// read consistently with a reader's LMDB snapshot (see log_tail.hpp).
#include <algorithm>

#include "endure/persistence/detail/journal_impl.hpp"
#include "endure/persistence/detail/run_chain.hpp"

namespace endure {

expected<detail::run_head> journal::impl::writer_head(MDB_txn* txn,
                                                      std::string_view run_id) const {
  if (auto it = txn_heads.find(run_id); it != txn_heads.end())
    return it->second;
  if (auto it = committed_heads.find(run_id); it != committed_heads.end())
    return it->second;
  return detail::load_head(txn, heads_db, run_id);
}

expected<void> journal::impl::store_checkpoint(MDB_txn* txn) {
  for (auto& [run_id, head] : committed_heads)
    if (!txn_heads.contains(run_id))
      if (auto r = detail::store_head(txn, heads_db, run_id, head); !r)
        return r;
  for (auto& [run_id, head] : txn_heads)
    if (auto r = detail::store_head(txn, heads_db, run_id, head); !r)
      return r;
  return detail::store_checkpoint(txn, meta_db, txn_position - 1);
}

expected<void> journal::impl::recover_heads(MDB_txn* txn) {
  auto through = detail::load_checkpoint(txn, meta_db);
  if (!through)
    return std::move(through).error();
  auto end = detail::next_free_position(txn, log_db);
  if (!end)
    return std::move(end).error();
  // Positions are never handed out twice once checkpointed, even after a
  // truncation emptied the log's end: the tail replay starts past them.
  next_position = txn_position = std::max(*end, *through + 1);
  auto moved = detail::replay_tail(txn, tail(), *through);
  if (!moved)
    return std::move(moved).error();
  txn_heads = std::move(*moved);  // (nothing is committed yet at open)
  if (txn_heads.empty() && *through == txn_position - 1)
    return {};
  return store_checkpoint(txn);
}

void journal::impl::publish_heads(bool checkpointed) {
  MDB_envinfo info;
  mdb_env_info(env.get(), &info);
  std::lock_guard guard{heads_mutex};
  if (checkpointed) {
    committed_heads.clear();
    checkpoint = next_position - 1;
  } else {
    // Moves the nodes of runs not there yet (no key copied); the runs left
    // in txn_heads were there already and take their newer head.
    committed_heads.merge(txn_heads);
    for (auto& [run_id, head] : txn_heads)
      committed_heads.find(run_id)->second = head;
  }
  heads_txn_id = info.me_last_txnid;
  txn_heads.clear();
}

std::optional<expected<detail::run_head>> journal::impl::head_as_of(
  MDB_txn* txn, std::string_view run_id) const {
  if (opts.read_only)  // another process may be writing: replay its tail
    return detail::head_with_tail(txn, tail(), run_id);
  {
    std::lock_guard guard{heads_mutex};
    if (heads_txn_id != mdb_txn_id(txn))
      return std::nullopt;
    if (auto it = committed_heads.find(run_id); it != committed_heads.end())
      return expected<detail::run_head>{it->second};
  }
  return detail::load_head(txn, heads_db, run_id);
}

} // namespace endure
