// endure::journal: opening the environment, reads, and the public face of
// the group-commit writer (journal_writer.cpp).
#include "endure/persistence/journal.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <future>

#include "endure/persistence/detail/journal_impl.hpp"
#include "endure/persistence/detail/keys.hpp"
#include "endure/persistence/detail/layout.hpp"
#include "endure/persistence/detail/run_chain.hpp"
#include "endure/persistence/detail/run_meta_codec.hpp"
#include "endure/persistence/log.hpp"

namespace endure {

using detail::to_val;
using detail::to_view;

const char* to_string(durability d) noexcept {
  switch (d) {
    case durability::sync: return "sync";
    case durability::nometasync: return "nometasync";
    case durability::nosync: return "nosync";
    case durability::wal: return "wal";
  }
  return "unknown";
}

error detail::lmdb_error(int rc, std::string_view what) {
  std::string text = std::string{what} + ": " + mdb_strerror(rc);
  switch (rc) {
    case MDB_MAP_FULL: return make_error(errc::map_full, text);
    case MDB_KEYEXIST: return make_error(errc::already_exists, text);
    case MDB_NOTFOUND: return make_error(errc::not_found, text);
    case ENOSPC: return make_error(errc::disk_full, text + " (no space left on the disk "
                                                          "holding the journal)");
    case EIO: case EACCES: case EROFS: return make_error(errc::io_error, text);
    default: return make_error(errc::storage_error, text);
  }
}

void journal::impl::warn_malformed_timer(std::size_t key_size) const {
  if (warned_malformed_timer.exchange(true))
    return;
  log::error("the timers database in " + opts.data_dir + " holds a malformed key ("
             + std::to_string(key_size) + " bytes); it is skipped, every other timer "
             "still fires. The disk or a foreign writer damaged it.");
}

namespace {

expected<void> prepare_dir(const journal_options& opts) {
  if (opts.data_dir.empty())
    return make_error(errc::invalid_argument, "journal_options.data_dir is empty");
  if (opts.initial_map_size == 0 || opts.initial_map_size > opts.max_map_size)
    return make_error(errc::invalid_argument,
                      "initial_map_size must be > 0 and <= max_map_size");
  if (opts.heads_checkpoint_entries == 0)
    return make_error(errc::invalid_argument,
                      "journal_options.heads_checkpoint_entries must be > 0");
  if (opts.mode == durability::wal && opts.sink)
    return make_error(errc::invalid_argument,
                      "durability wal does not combine with a commit sink (cluster "
                      "replication) yet; use sync");
  if (opts.wal_size < detail::wal_file::records_begin + 64 * 1024)
    return make_error(errc::invalid_argument, "journal_options.wal_size must be at least "
                                                + std::to_string(detail::wal_file::records_begin
                                                                 + 64 * 1024) + " bytes");
  if (opts.wal_checkpoint_bytes == 0 || opts.wal_checkpoint_interval.count() <= 0)
    return make_error(errc::invalid_argument, "journal_options.wal_checkpoint_bytes and "
                                              "wal_checkpoint_interval must be > 0");
  if (opts.writer_spin.count() < 0 || opts.writer_spin > std::chrono::seconds{1})
    return make_error(errc::invalid_argument,
                      "journal_options.writer_spin must be between 0 and 1 s");
  std::error_code ec;
  if (!opts.read_only)
    std::filesystem::create_directories(opts.data_dir, ec);
  if (ec)
    return make_error(errc::io_error, "cannot create data directory " + opts.data_dir
                                        + ": " + ec.message());
  if (!std::filesystem::is_directory(opts.data_dir, ec))
    return make_error(errc::not_found, "data directory " + opts.data_dir + " does not exist");
  int mode = opts.read_only ? R_OK : (R_OK | W_OK);
  if (::access(opts.data_dir.c_str(), mode) != 0)
    return make_error(errc::io_error, "data directory " + opts.data_dir + " is not "
                                        + (opts.read_only ? "readable" : "writable")
                                        + ": " + std::strerror(errno));
  return {};
}

unsigned env_flags(const journal_options& opts) {
  unsigned flags = MDB_NOTLS | MDB_NORDAHEAD;
  if (opts.read_only)
    return flags | MDB_RDONLY;
  if (opts.mode == durability::nometasync)
    flags |= MDB_NOMETASYNC;
  if (opts.mode == durability::nosync)
    flags |= MDB_NOSYNC;
  // durability::wal opens synced: the open's own commits (and a recovery's
  // replay) happen before the log takes over (journal_wal.cpp).
  return flags;
}

} // namespace

namespace {

expected<void> open_dbi(MDB_txn* txn, const char* name, unsigned flags, MDB_dbi* dbi,
                        const std::string& data_dir) {
  if (int rc = mdb_dbi_open(txn, name, flags, dbi); rc != 0)
    return detail::lmdb_error(rc, std::string{"open database "} + (name ? name : "main")
                                    + " in " + data_dir);
  return {};
}

} // namespace

expected<void> journal::impl::open_dbis_for_writing(MDB_txn* txn) {
  std::pair<const char*, MDB_dbi*> dbs[] = {
    {nullptr, &log_db}, {"runs", &runs_db},           {"heads", &heads_db},
    {"meta", &meta_db}, {"snapshots", &snapshots_db}, {"timers", &timers_db}};
  for (auto& [name, dbi] : dbs)
    if (auto ok = open_dbi(txn, name, name ? MDB_CREATE : 0, dbi, opts.data_dir); !ok)
      return ok;
  for (auto t : all_side_tables) {
    MDB_dbi dbi = 0;
    if (auto ok = open_dbi(txn, table_name(t), MDB_CREATE, &dbi, opts.data_dir); !ok)
      return ok;
    side_dbs[static_cast<std::size_t>(t)] = dbi;
  }
  auto moved = detail::upgrade_layout(txn, {log_db, heads_db, meta_db}, opts.data_dir);
  if (!moved)
    return std::move(moved).error();
  return recover_heads(txn);
}

expected<void> journal::impl::open_dbis_for_reading(MDB_txn* txn) {
  if (auto ok = detail::check_layout_read_only(txn, opts.data_dir); !ok)
    return ok;
  std::pair<const char*, MDB_dbi*> dbs[] = {
    {nullptr, &log_db}, {"runs", &runs_db},           {"heads", &heads_db},
    {"meta", &meta_db}, {"snapshots", &snapshots_db}, {"timers", &timers_db}};
  for (auto& [name, dbi] : dbs)
    if (auto ok = open_dbi(txn, name, 0, dbi, opts.data_dir); !ok)
      return ok;
  // Side tables came later: a directory no writer has opened since has none.
  for (auto t : all_side_tables) {
    MDB_dbi dbi = 0;
    int rc = mdb_dbi_open(txn, table_name(t), 0, &dbi);
    if (rc != 0 && rc != MDB_NOTFOUND)
      return detail::lmdb_error(rc, std::string{"open database "} + table_name(t) + " in "
                                      + opts.data_dir);
    if (rc == 0)
      side_dbs[static_cast<std::size_t>(t)] = dbi;
  }
  return {};
}

expected<void> journal::impl::open_dbis() {
  // A layout upgrade may outgrow the map: grow it and redo the whole
  // transaction (nothing of an aborted one is kept, handles included).
  for (;;) {
    auto txn = detail::lmdb_txn::begin(env.get(), opts.read_only ? MDB_RDONLY : 0);
    if (!txn)
      return std::move(txn).error();
    auto ok = opts.read_only ? open_dbis_for_reading(txn->get())
                             : open_dbis_for_writing(txn->get());
    int rc = ok ? txn->commit() : 0;
    if (ok && rc == 0) {
      publish_heads(true);
      return {};
    }
    auto err = ok ? detail::lmdb_error(rc, "open databases") : std::move(ok).error();
    txn->abort();
    if (err.code != errc::map_full || !grow_map())
      return err;
  }
}

expected<void> journal::impl::open_env() {
  auto& p = *this;
  MDB_env* raw = nullptr;
  if (int rc = mdb_env_create(&raw); rc != 0)
    return detail::lmdb_error(rc, "create environment");
  p.env = detail::lmdb_env{raw};
  if (int rc = mdb_env_set_maxdbs(raw, 32); rc != 0)  // room for approvals, ledger, ...
    return detail::lmdb_error(rc, "set the number of databases");
  if (int rc = mdb_env_set_mapsize(raw, p.opts.initial_map_size); rc != 0)
    return detail::lmdb_error(rc, "set the map size to " + std::to_string(p.opts.initial_map_size));
  if (int rc = mdb_env_open(raw, p.opts.data_dir.c_str(), env_flags(p.opts), 0644); rc != 0)
    return detail::lmdb_error(rc, "open journal in " + p.opts.data_dir);
  if (p.wal)  // restored to the log's checkpoint: pin it before any commit
    if (auto ok = p.wal_check_restored(); !ok)
      return ok;
  int dead = 0;
  if (int rc = mdb_reader_check(raw, &dead); rc != 0)  // slots of crashed readers
    log::warn("cannot clear reader slots of crashed processes in " + p.opts.data_dir + ": "
              + mdb_strerror(rc) + "; the map may grow until they are cleared");
  MDB_envinfo info;
  if (int rc = mdb_env_info(raw, &info); rc != 0)
    return detail::lmdb_error(rc, "read the environment of " + p.opts.data_dir);
  p.map_size = info.me_mapsize;  // an existing file may be larger than asked
  MDB_stat page_stat;
  if (mdb_env_stat(raw, &page_stat) == 0)
    p.wal_page_size = page_stat.ms_psize;
  if (auto ok = check_file_covers_pages(info); !ok)
    return ok;
  return open_dbis();
}

expected<void> journal::impl::check_file_covers_pages(const MDB_envinfo& info) const {
  // LMDB maps the file: a page its meta counts but the file no longer holds
  // (a copy cut short, a truncated file) is a SIGBUS at the first read.
  MDB_stat st;
  int fd = -1;
  struct stat file {};
  if (mdb_env_stat(env.get(), &st) != 0 || mdb_env_get_fd(env.get(), &fd) != 0
      || ::fstat(fd, &file) != 0)
    return {};  // nothing to compare: the reads report what they meet
  auto needed = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * st.ms_psize;
  if (static_cast<std::uint64_t>(file.st_size) >= needed)
    return {};
  return make_error(errc::corrupt_record,
                    "journal file " + opts.data_dir + "/data.mdb is " + std::to_string(file.st_size)
                      + " bytes, but its pages reach " + std::to_string(needed)
                      + " bytes: the file was cut short (a copy that did not finish, a full "
                        "disk). Nothing was read from it; restore the data directory from a "
                        "backup");
}

journal::journal(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

expected<std::unique_ptr<journal>> journal::open(journal_options opts) {
  if (auto ok = prepare_dir(opts); !ok)
    return std::move(ok).error();
  auto p = std::make_unique<impl>();
  p->opts = std::move(opts);
  detail::register_persistence_types(p->types);
  if (!p->opts.read_only) {
    auto lock = detail::data_dir_lock::acquire(p->opts.data_dir);
    if (!lock)
      return std::move(lock).error();
    p->lock.emplace(std::move(*lock));
  }
  if (p->opts.read_only)
    if (auto ok = p->wal_check_read_only(); !ok)
      return std::move(ok).error();
  if (!p->opts.read_only)
    if (auto ok = p->wal_restore(); !ok)
      return std::move(ok).error();
  if (auto ok = p->open_env(); !ok)
    return std::move(ok).error();
  if (!p->opts.read_only)
    if (auto ok = p->wal_open(); !ok)
      return std::move(ok).error();
  if (!p->opts.read_only)
    if (auto ok = p->start_run_counts(); !ok)
      return std::move(ok).error();
  if (!p->opts.read_only)
    p->writer = std::thread{[raw = p.get()] { raw->writer_loop(); }};
  return std::unique_ptr<journal>{new journal(std::move(p))};
}

void journal::expect_commit() noexcept {
  // writer_spin 0 asks for a writer that never polls: the hint does not apply.
  if (impl_->opts.read_only || impl_->opts.writer_spin.count() == 0
      || impl_->wakeup.load(std::memory_order_acquire))
    return;
  {
    std::lock_guard guard{impl_->queue_mutex};
    if (!impl_->queue.empty() || impl_->stopping)
      return;
    impl_->expecting = true;
  }
  impl_->queue_cv.notify_one();
}

journal::~journal() {
  {
    std::lock_guard guard{impl_->queue_mutex};
    impl_->stopping = true;
    impl_->wakeup.store(true, std::memory_order_release);
  }
  impl_->queue_cv.notify_one();
  if (impl_->writer.joinable())
    impl_->writer.join();
}

record_types& journal::types() noexcept { return impl_->types; }
const journal_options& journal::options() const noexcept { return impl_->opts; }

journal_stats journal::stats() const {
  return {impl_->commits.load(), impl_->batches.load(), impl_->failed_batches.load(),
          impl_->map_size.load()};
}

expected<run_status_counts> journal::impl::count_runs(MDB_txn* txn) const {
  detail::lmdb_cursor cur{txn, runs_db};
  run_status_counts out;
  MDB_val k, v;
  for (bool ok = cur.first(k, v); ok; ok = cur.next(k, v)) {
    auto meta = detail::decode_run_meta(to_view(v), to_view(k));
    auto i = meta ? static_cast<std::size_t>(meta->status) : 0;
    if (i >= 1 && i <= out.by_status.size())  // damaged: reported by scan_runs
      ++out.by_status[i - 1];
  }
  if (cur.failed())
    return detail::lmdb_error(cur.rc(), "count runs in " + opts.data_dir);
  return out;
}

expected<void> journal::impl::start_run_counts() {
  // Before the writer starts: nothing moves the counts meanwhile.
  auto counts = read([this](MDB_txn* txn) { return count_runs(txn); });
  if (!counts)
    return std::move(counts).error();
  for (std::size_t i = 0; i < run_counts.size(); ++i)
    run_counts[i].store(counts->by_status[i], std::memory_order_relaxed);
  return {};
}

expected<journal_metrics> journal::metrics() const {
  journal_metrics m;
  m.commit_seconds = impl_->commit_seconds.snapshot();
  m.batches_per_commit = impl_->batches_per_commit.snapshot();
  m.failed_batches = impl_->failed_batches.load(std::memory_order_relaxed);
  if (impl_->opts.read_only) {
    auto counts = impl_->read([this](MDB_txn* txn) { return impl_->count_runs(txn); });
    if (!counts)
      return std::move(counts).error();
    m.runs = *counts;
    return m;
  }
  for (std::size_t i = 0; i < impl_->run_counts.size(); ++i)
    m.runs.by_status[i] = impl_->run_counts[i].load(std::memory_order_relaxed);
  return m;
}

// -- writes ------------------------------------------------------------------

void journal::commit(write_batch batch, completion done) {
  if (impl_->opts.read_only) {
    done(make_error(errc::invalid_argument,
                    "journal in " + impl_->opts.data_dir + " is open read-only"));
    return;
  }
  {
    std::lock_guard guard{impl_->queue_mutex};
    if (impl_->stopping) {
      done(make_error(errc::shut_down, "journal is closing"));
      return;
    }
    impl_->queue.push_back({std::move(batch), std::move(done)});
    impl_->wakeup.store(true, std::memory_order_release);
  }
  impl_->queue_cv.notify_one();
}

void journal::copy_to(std::string dir, completion done) const {
  if (impl_->opts.read_only) {
    done(make_error(errc::invalid_argument,
                    "journal in " + impl_->opts.data_dir + " is open read-only: no copy"));
    return;
  }
  if (dir.empty()) {
    done(make_error(errc::invalid_argument, "copy of the journal needs a directory"));
    return;
  }
  {
    std::lock_guard guard{impl_->queue_mutex};
    if (impl_->stopping) {
      done(make_error(errc::shut_down, "journal is closing"));
      return;
    }
    impl_->queue.push_back({write_batch{}, std::move(done), std::move(dir)});
    impl_->wakeup.store(true, std::memory_order_release);
  }
  impl_->queue_cv.notify_one();
}

expected<void> journal::commit(write_batch batch) {
  std::promise<expected<void>> promise;
  auto result = promise.get_future();
  commit(std::move(batch), [&promise](const expected<void>& r) { promise.set_value(r); });
  return result.get();
}

expected<run_meta> journal::create_run_if_absent(const run_meta& meta) {
  if (auto ok = validate_run_id(meta.id); !ok)
    return std::move(ok).error();
  write_batch batch;
  batch.create_run(meta);
  if (auto ok = commit(std::move(batch)); !ok)
    return std::move(ok).error();
  return run(meta.id);
}

// -- reads -------------------------------------------------------------------

expected<run_meta> journal::run(std::string_view run_id) const {
  return impl_->read([&](MDB_txn* txn) -> expected<run_meta> {
    auto k = to_val(run_id);
    MDB_val v;
    if (int rc = mdb_get(txn, impl_->runs_db, &k, &v); rc != 0) {
      if (rc == MDB_NOTFOUND)
        return make_error(errc::not_found, "no run with id " + std::string{run_id});
      return detail::lmdb_error(rc, "read run");
    }
    return detail::decode_run_meta(to_view(v), run_id);
  });
}

expected<std::vector<run_meta>> journal::list_runs(std::optional<run_status> status) const {
  auto listing = scan_runs(status);
  if (!listing)
    return std::move(listing).error();
  if (!listing->damaged.empty())
    return std::move(listing->damaged.front().why);
  return std::move(listing->runs);
}

expected<run_listing> journal::scan_runs(std::optional<run_status> status) const {
  return impl_->read([&](MDB_txn* txn) -> expected<run_listing> {
    detail::lmdb_cursor cur{txn, impl_->runs_db};
    run_listing out;
    MDB_val k, v;
    for (bool ok = cur.first(k, v); ok; ok = cur.next(k, v)) {
      auto meta = detail::decode_run_meta(to_view(v), to_view(k));
      if (!meta)
        out.damaged.push_back({std::string{to_view(k)}, std::move(meta).error()});
      else if (!status || meta->status == *status)
        out.runs.push_back(std::move(*meta));
    }
    if (cur.failed())
      return detail::lmdb_error(cur.rc(), "list runs in " + impl_->opts.data_dir);
    return out;
  });
}

expected<std::vector<stored_record>> journal::read(std::string_view run_id,
                                                   std::uint64_t from_seq,
                                                   std::size_t max_count) const {
  return impl_->read_with_head(run_id, [&](MDB_txn* txn, const detail::run_head& head)
                                        -> expected<std::vector<stored_record>> {
    std::vector<stored_record> out;
    if (head.last_pos == 0 || from_seq > head.last_seq || max_count == 0)
      return out;
    auto links = detail::walk_chain(txn, impl_->log_db, run_id, head, from_seq);
    if (!links)
      return std::move(links).error();
    out.reserve(std::min(links->size(), max_count));
    for (auto& link : *links) {
      if (out.size() == max_count)
        break;
      auto rec = decode_record(link.envelope, {run_id, link.seq}, impl_->types);
      if (!rec)
        return std::move(rec).error();
      out.push_back({link.seq, std::move(*rec)});
    }
    return out;
  });
}

expected<std::uint64_t> journal::last_seq(std::string_view run_id) const {
  return impl_->read_with_head(run_id,
                               [](MDB_txn*, const detail::run_head& head)
                                 -> expected<std::uint64_t> { return head.last_seq; });
}

expected<std::optional<snapshot_entry>> journal::snapshot(std::string_view run_id) const {
  return impl_->read([&](MDB_txn* txn) -> expected<std::optional<snapshot_entry>> {
    auto k = to_val(run_id);
    MDB_val v;
    int rc = mdb_get(txn, impl_->snapshots_db, &k, &v);
    if (rc == MDB_NOTFOUND)
      return std::optional<snapshot_entry>{};
    if (rc != 0)
      return detail::lmdb_error(rc, "read snapshot");
    auto snap = detail::decode_snapshot(to_view(v), run_id);
    if (!snap)
      return std::move(snap).error();
    return std::optional<snapshot_entry>{snapshot_entry{snap->first, std::move(snap->second)}};
  });
}

expected<std::vector<timer_entry>> journal::due_timers(std::int64_t until_ms,
                                                       std::size_t max_count) const {
  return impl_->read([&](MDB_txn* txn) -> expected<std::vector<timer_entry>> {
    detail::lmdb_cursor cur{txn, impl_->timers_db};
    std::vector<timer_entry> out;
    MDB_val k, v;
    for (bool ok = cur.first(k, v); ok && out.size() < max_count; ok = cur.next(k, v)) {
      detail::timer_key_parts parts;
      if (!detail::parse_timer_key(to_view(k), parts)) {
        // One damaged row must not stop every other run's timers.
        impl_->warn_malformed_timer(k.mv_size);
        continue;
      }
      if (parts.due_ms > until_ms)
        break;
      out.push_back({parts.due_ms, std::string{parts.run_id}, parts.id});
    }
    if (cur.failed())
      return detail::lmdb_error(cur.rc(), "read timers in " + impl_->opts.data_dir);
    return out;
  });
}

} // namespace endure
