// The group-commit writer: the one thread that owns LMDB write transactions.
//
// It takes everything queued, applies each batch in queue order inside one
// transaction and commits once (one fsync in durability::sync), then calls
// every completion. A batch that fails (seq taken, unknown run) is dropped
// and the transaction redone without it, so batches stay atomic and
// independent. MDB_MAP_FULL grows the map and redoes the transaction.
#include <algorithm>
#include <filesystem>
#include <utility>

#include "endure/persistence/commit_sink.hpp"
#include "endure/persistence/detail/journal_impl.hpp"
#include "endure/persistence/detail/keys.hpp"
#include "endure/persistence/detail/poll_for.hpp"
#include "endure/persistence/detail/run_chain.hpp"
#include "endure/persistence/detail/run_meta_codec.hpp"

namespace endure {

using detail::to_val;
using detail::to_view;
using op_kind = write_batch::op_kind;

namespace {

error map_full_error(std::size_t max) {
  return make_error(errc::map_full,
                    "the journal reached its maximum size of "
                      + std::to_string(max >> 20)
                      + " MiB (max_map_size); raise it or free space. Nothing "
                        "acknowledged before was lost.");
}

expected<void> put(MDB_txn* txn, MDB_dbi db, std::string_view key,
                   std::string_view value, unsigned flags, const char* what) {
  auto k = to_val(key);
  auto v = to_val(value);
  if (int rc = mdb_put(txn, db, &k, &v, flags); rc != 0)
    return detail::lmdb_error(rc, what);
  return {};
}

/// Sets the run's status; returns the status it had when it changed (for
/// the runs-per-status counts), nullopt when it kept it.
expected<std::optional<run_status>> set_status(MDB_txn* txn, MDB_dbi runs,
                                               const write_batch::op& op) {
  auto k = to_val(op.run_id);
  MDB_val v;
  if (int rc = mdb_get(txn, runs, &k, &v); rc != 0) {
    if (rc == MDB_NOTFOUND)
      return make_error(errc::not_found, "cannot set status of unknown run " + op.run_id);
    return detail::lmdb_error(rc, "read run");
  }
  auto meta = detail::decode_run_meta(to_view(v), op.run_id);
  if (!meta)
    return std::move(meta).error();
  if (op.number == 1 && is_terminal(meta->status))
    return std::optional<run_status>{};  // unless_ended: the run's own last word stands
  auto was = std::exchange(meta->status, op.status);
  meta->detail = op.bytes;
  meta->updated_at_ms = op.time_ms;
  if (auto ok = put(txn, runs, op.run_id, detail::encode_run_meta(*meta), 0, "write run"); !ok)
    return std::move(ok).error();
  return std::optional<run_status>{was};
}

expected<void> erase_timer(MDB_txn* txn, MDB_dbi timers, const write_batch::op& op) {
  auto key = detail::timer_key(op.time_ms, op.run_id, op.number);
  auto k = to_val(key);
  if (int rc = mdb_del(txn, timers, &k, nullptr); rc != 0 && rc != MDB_NOTFOUND)
    return detail::lmdb_error(rc, "erase timer of run " + op.run_id);
  return {};
}

/// True if the run is unknown, ended or quarantined: nothing will wait on
/// its timers until a release resumes it (which stores them again).
expected<bool> run_has_ended(MDB_txn* txn, MDB_dbi runs, const std::string& run_id) {
  auto k = to_val(run_id);
  MDB_val v;
  if (int rc = mdb_get(txn, runs, &k, &v); rc != 0) {
    if (rc == MDB_NOTFOUND)
      return true;
    return detail::lmdb_error(rc, "read run " + run_id);
  }
  auto meta = detail::decode_run_meta(to_view(v), run_id);
  if (!meta)
    return false;  // damaged: keep its timers, the run is reported elsewhere
  return is_terminal(meta->status) || meta->status == run_status::quarantined;
}

error seq_taken(const std::string& run_id, std::uint64_t seq, std::uint64_t last) {
  return make_error(errc::already_exists,
                    "run " + run_id + " seq " + std::to_string(seq)
                      + " is at or below the run's last seq " + std::to_string(last)
                      + "; a journal position is written once and seqs increase");
}

} // namespace

expected<void> journal::impl::open_head_of(MDB_txn* txn, const std::string& run_id,
                                           open_head& open) {
  if (open.run_id && *open.run_id == run_id)
    return {};
  flush_head(open);
  auto head = writer_head(txn, run_id);
  if (!head)
    return std::move(head).error();
  if (head->last_seq == 0) {  // no head yet: is there such a run at all?
    auto k = to_val(run_id);
    MDB_val v;
    if (mdb_get(txn, runs_db, &k, &v) == MDB_NOTFOUND)
      return make_error(errc::not_found, "cannot append to unknown run "
                                           + run_id + "; create it first");
  }
  open = {&run_id, *head, false};
  return {};
}

expected<void> journal::impl::append(MDB_txn* txn, const write_batch::op& op,
                                     open_head& open) {
  if (auto r = open_head_of(txn, op.run_id, open); !r)
    return r;
  auto& head = open.head;
  if (op.number == 0)
    return make_error(errc::invalid_argument, "run " + op.run_id
                                                + ": seq 0 is not a journal position; "
                                                  "seqs start at 1");
  if (op.number <= head.last_seq)
    return seq_taken(op.run_id, op.number, head.last_seq);
  auto pos = txn_position;
  detail::log_entry entry{op.run_id, op.number, head.last_pos, op.bytes};
  if (auto r = detail::append_link(txn, log_db, pos, entry); !r)
    return r;
  ++txn_position;
  detail::advance_head(head, pos, entry);
  open.dirty = true;
  return {};
}

void journal::impl::flush_head(open_head& open) {
  auto was = std::exchange(open, {});
  if (was.dirty)  // stored at the next checkpoint
    txn_heads.insert_or_assign(*was.run_id, was.head);
}

expected<void> journal::impl::truncate(MDB_txn* txn, const write_batch::op& op) {
  auto head = writer_head(txn, op.run_id);
  if (!head)
    return std::move(head).error();
  if (head->last_pos == 0 || op.number <= head->low_seq)
    return {};  // nothing stored below op.number
  auto links = detail::walk_chain(txn, log_db, op.run_id, *head, 0);
  if (!links)
    return std::move(links).error();
  detail::run_head next{0, head->last_seq, 0};
  for (auto& link : *links) {
    if (link.seq >= op.number) {
      next.last_pos = head->last_pos;
      next.low_seq = link.seq;
      break;
    }
    auto key = detail::position_key(link.position);
    auto k = to_val(key);
    if (int rc = mdb_del(txn, log_db, &k, nullptr); rc != 0)
      return detail::lmdb_error(rc, "truncate log of run " + op.run_id);
  }
  // Stored at once, not at the checkpoint: the tail replay of another
  // process must not follow the head into deleted entries.
  txn_heads.insert_or_assign(op.run_id, next);
  return detail::store_head(txn, heads_db, op.run_id, next);
}

expected<void> journal::impl::apply(MDB_txn* txn, const write_batch& batch) {
  open_head open;
  for (auto& op : batch.ops()) {
    if (op.kind != op_kind::append)  // (truncate reads the head)
      flush_head(open);
    expected<void> r;
    switch (op.kind) {
      case op_kind::create_run: {
        auto k = to_val(op.run_id);
        auto v = to_val(op.bytes);
        int rc = mdb_put(txn, runs_db, &k, &v, MDB_NOOVERWRITE);
        if (rc != 0 && rc != MDB_KEYEXIST)
          r = detail::lmdb_error(rc, "create run");
        if (rc == 0)
          count_status(op.status, +1);
        break;
      }
      case op_kind::append:
        r = append(txn, op, open);
        break;
      case op_kind::set_status: {
        auto was = set_status(txn, runs_db, op);
        if (!was) {
          r = std::move(was).error();
        } else if (*was) {
          count_status(**was, -1);
          count_status(op.status, +1);
        }
        break;
      }
      case op_kind::put_snapshot:
        r = put(txn, snapshots_db, op.run_id, op.bytes, 0, "write snapshot");
        break;
      case op_kind::truncate_before:
        r = truncate(txn, op);
        break;
      case op_kind::put_timer:
        r = put(txn, timers_db, detail::timer_key(op.time_ms, op.run_id, op.number),
                {}, 0, "write timer");
        break;
      case op_kind::erase_timer:
        r = erase_timer(txn, timers_db, op);
        break;
      case op_kind::put_row:
        r = put_row(txn, op);
        break;
      case op_kind::erase_row:
        r = erase_row(txn, op);
        break;
      case op_kind::erase_timer_if_ended: {
        auto ended = run_has_ended(txn, runs_db, op.run_id);
        if (!ended)
          r = std::move(ended).error();
        else if (*ended)
          r = erase_timer(txn, timers_db, op);
        break;
      }
    }
    if (!r)
      return r;
  }
  flush_head(open);
  return {};
}

bool journal::impl::grow_map() {
  auto current = map_size.load();
  if (current >= opts.max_map_size)
    return false;
  auto next = std::min(current * 2, opts.max_map_size);
  // No read txn of another thread may be open; the write-ahead log's pin
  // may (it reads nothing: LMDB checks only for a write transaction).
  std::unique_lock guard{resize_mutex};
  if (mdb_env_set_mapsize(env.get(), next) != 0)
    return false;
  map_size = next;
  return true;
}

bool journal::impl::commit_group_txn(std::vector<pending>& group,
                                     std::vector<std::optional<error>>& failed, bool log) {
  auto began = std::chrono::steady_clock::now();
  auto logged = wal_step::logged;
  bool in_log = false;  // the group's record is durable: a redo must not log it again
  for (;;) {
    txn_position = next_position;  // a redo starts from the committed log end
    txn_heads.clear();
    txn_run_deltas = {};
    auto txn = detail::lmdb_txn::begin(env.get(), 0);
    if (!txn) {
      for (auto& f : failed)
        if (!f)
          f = txn.error();
      return false;
    }
    std::optional<error> env_error;
    bool redo = false;
    for (std::size_t i = 0; i < group.size() && !redo; ++i) {
      if (failed[i])
        continue;
      auto r = apply(txn->get(), group[i].batch);
      if (r)
        continue;
      if (in_log && r.error().code != errc::map_full) {  // the record holds it: no dropping
        txn->abort();
        stop_writing(failed, "a batch the write-ahead log holds failed when redone ("
                               + r.error().message + "); the next open applies the log");
        return false;
      }
      if (r.error().code == errc::map_full)
        env_error = r.error();
      else
        failed[i] = r.error();
      redo = true;
    }
    bool checkpointed = false;
    if (!redo && txn_position - 1 - checkpoint >= opts.heads_checkpoint_entries) {
      auto r = store_checkpoint(txn->get());
      if (!r)
        env_error = r.error();
      redo = !r;
      checkpointed = true;
    }
    if (!redo && wal && log && !in_log) {
      bool any = std::any_of(failed.begin(), failed.end(), [](auto& f) { return !f; });
      logged = wal_append(group, failed);
      in_log = any && logged == wal_step::logged;
      if (logged == wal_step::failed)
        return false;
      if (logged == wal_step::split) {
        txn->abort();
        return commit_halves(group, failed);
      }
      if (logged == wal_step::make_room) {
        txn->abort();
        if (auto ok = wal_checkpoint(); !ok) {
          stop_writing(failed, "the write-ahead log is full and a checkpoint failed ("
                                 + ok.error().message + ")");
          return false;
        }
        continue;  // the ring is empty now: the same group again
      }
    }
    if (!redo) {
      int rc = txn->commit();
      if (rc == 0) {
        next_position = txn_position;
        publish_heads(checkpointed);
        ++commits;
        record_commit(began, failed);
        if (wal && log)
          wal_after_commit(logged, failed);
        return true;
      }
      env_error = detail::lmdb_error(rc, "commit");
      if (in_log && env_error->code != errc::map_full) {  // a restart applies it
        stop_writing(failed, "LMDB refused a commit the write-ahead log already holds ("
                               + env_error->message + "); the next open applies it");
        return false;
      }  // map full: grown below, and the same group redone without a second record
    }
    txn->abort();
    bool at_max = env_error && env_error->code == errc::map_full && !grow_map();
    if (at_max)
      env_error = map_full_error(opts.max_map_size);
    if (at_max && in_log) {
      stop_writing(failed, env_error->message + " The write-ahead log holds this commit; the "
                           "next open (with a larger max_map_size) applies it");
      return false;
    }
    if (!at_max && env_error && env_error->code == errc::map_full)
      continue;  // grown: redo the whole group
    if (env_error) {
      for (auto& f : failed)
        if (!f)
          f = *env_error;
      return false;
    }
  }
}

bool journal::impl::commit_halves(std::vector<pending>& group,
                                  std::vector<std::optional<error>>& failed) {
  auto mid = group.size() / 2;
  bool all = true;
  for (auto [from, to] : {std::pair{std::size_t{0}, mid}, std::pair{mid, group.size()}}) {
    auto first = group.begin() + static_cast<std::ptrdiff_t>(from);
    auto last = group.begin() + static_cast<std::ptrdiff_t>(to);
    auto first_failed = failed.begin() + static_cast<std::ptrdiff_t>(from);
    std::vector<pending> part(std::make_move_iterator(first), std::make_move_iterator(last));
    std::vector<std::optional<error>> part_failed(first_failed,
                                                  failed.begin() + static_cast<std::ptrdiff_t>(to));
    if (wal_failure) {  // the first half stopped the writing
      for (auto& f : part_failed)
        if (!f)
          f = *wal_failure;
      all = false;
    } else {
      all = commit_group_txn(part, part_failed) && all;
    }
    std::move(part.begin(), part.end(), first);
    std::move(part_failed.begin(), part_failed.end(), first_failed);
  }
  return all;
}

void journal::impl::commit_group(std::vector<pending>& group) {
  std::vector<std::optional<error>> failed(group.size());
  if (wal_failure) {
    for (auto& f : failed)
      f = *wal_failure;
  } else {
    if (opts.inject_fault)  // once per batch, not per redo
      for (std::size_t i = 0; i < group.size(); ++i)
        if (auto r = opts.inject_fault(group[i].batch); !r)
          failed[i] = std::move(r).error();
    commit_group_txn(group, failed);
  }
  std::vector<write_batch> to_sink;
  std::vector<completion> sink_done;
  for (std::size_t i = 0; i < group.size(); ++i) {
    ++batches;
    if (failed[i]) {
      ++failed_batches;
      group[i].done(*failed[i]);
    } else if (opts.sink) {
      to_sink.push_back(std::move(group[i].batch));
      sink_done.push_back(std::move(group[i].done));
    } else {
      group[i].done(expected<void>{});
    }
  }
  if (!to_sink.empty())
    opts.sink->committed(std::move(to_sink), std::move(sink_done));
}

expected<void> journal::impl::copy_env(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return make_error(errc::io_error, "cannot create " + dir + " for a copy of the journal in "
                                        + opts.data_dir + ": " + ec.message());
  std::filesystem::remove(std::filesystem::path{dir} / "data.mdb", ec);
  // A log left there belongs to another data.mdb: the copy is whole alone.
  std::filesystem::remove(std::filesystem::path{dir} / "journal.wal", ec);
  std::filesystem::remove(std::filesystem::path{dir} / "journal.wal.new", ec);
  // Compacting: the copy holds the live pages only, in one pass of a read
  // transaction; nothing commits meanwhile (this is the writer thread).
  if (int rc = mdb_env_copy2(env.get(), dir.c_str(), MDB_CP_COMPACT); rc != 0)
    return detail::lmdb_error(rc, "copy the journal in " + opts.data_dir + " to " + dir);
  return {};
}

void journal::impl::commit_in_order(std::vector<pending>& group) {
  auto is_copy = [](const pending& p) { return !p.copy_dir.empty(); };
  if (std::none_of(group.begin(), group.end(), is_copy)) {
    commit_group(group);
    return;
  }
  std::vector<pending> batches_before;
  for (auto& p : group) {
    if (!is_copy(p)) {
      batches_before.push_back(std::move(p));
      continue;
    }
    if (!batches_before.empty())
      commit_group(batches_before);
    batches_before.clear();
    p.done(copy_env(p.copy_dir));
  }
  if (!batches_before.empty())
    commit_group(batches_before);
}

void journal::impl::record_commit(std::chrono::steady_clock::time_point began,
                                  const std::vector<std::optional<error>>& failed) {
  for (std::size_t i = 0; i < run_counts.size(); ++i)
    if (auto d = std::exchange(txn_run_deltas[i], 0); d != 0)
      run_counts[i].fetch_add(static_cast<std::uint64_t>(d), std::memory_order_relaxed);
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - began;
  commit_seconds.observe(took.count());
  auto written = std::count_if(failed.begin(), failed.end(), [](auto& f) { return !f; });
  batches_per_commit.observe(static_cast<double>(written));
}

void journal::impl::checkpoint_at_close() {
  if (committed_heads.empty())
    return;
  // Not needed for recovery (a writer open replays the tail); it spares
  // the next open and read-only readers that replay. A failure leaves the
  // tail to be replayed.
  txn_position = next_position;
  txn_heads.clear();
  auto txn = detail::lmdb_txn::begin(env.get(), 0);
  if (txn && store_checkpoint(txn->get()) && txn->commit() == 0)
    publish_heads(true);
}

void journal::impl::spin_for_work(std::chrono::microseconds spin) const {
  detail::poll_for(spin, [this] { return wakeup.load(std::memory_order_acquire); });
}

void journal::impl::writer_loop() {
  std::vector<pending> group;
  auto spin = opts.writer_spin;
  for (;;) {
    spin_for_work(spin);
    spin = opts.writer_spin;
    {
      std::unique_lock guard{queue_mutex};
      queue_cv.wait(guard, [this] { return stopping || !queue.empty() || expecting; });
      if (std::exchange(expecting, false) && queue.empty() && !stopping) {
        spin = std::max(opts.writer_spin, std::chrono::microseconds{500});
        continue;  // poll for the commit expect_commit announced
      }
      if (queue.empty()) {
        guard.unlock();
        checkpoint_at_close();
        wal_close();
        return;  // stopping and drained
      }
      auto take = std::min(queue.size(), opts.max_batches_per_commit);
      if (take == queue.size()) {
        group.swap(queue);
        wakeup.store(stopping, std::memory_order_relaxed);
      } else {
        group.assign(std::make_move_iterator(queue.begin()),
                     std::make_move_iterator(queue.begin() + take));
        queue.erase(queue.begin(), queue.begin() + take);
      }
    }
    commit_in_order(group);
    group.clear();
  }
}

} // namespace endure
