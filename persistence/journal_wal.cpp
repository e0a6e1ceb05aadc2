// durability::wal: the journal's commits made durable by one flush of the
// write-ahead log (detail/wal_file.hpp) instead of LMDB's two.
//
// In wal mode LMDB commits without syncing (MDB_NOSYNC), and the writer then
// appends the group's batches to the log and flushes it before it
// acknowledges them. Every so often a checkpoint syncs data.mdb, records
// its meta pages in the log and frees the records before it. Between
// checkpoints a read transaction pins the checkpoint's snapshot, so LMDB
// never reuses (overwrites) a page of it: whatever an OS crash or a power
// loss does to the unsynced pages written since, the checkpoint's pages are
// intact on disk.
//
// Recovery, at every writer open of a directory that has a log (whatever
// the mode, so a directory written in wal mode and opened in another
// recovers first): the checkpoint's meta pages are written back into
// data.mdb, which puts LMDB back at the checkpoint's snapshot; the records
// after it are applied again, as the writer applied them; a new checkpoint
// makes that durable. A commit LMDB took but whose record never reached
// the disk was never acknowledged, and is dropped.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <optional>

#include "endure/persistence/detail/journal_impl.hpp"
#include "endure/persistence/detail/layout.hpp"
#include "endure/persistence/detail/sync_directory.hpp"
#include "endure/persistence/detail/wal_record.hpp"
#include "endure/persistence/log.hpp"

namespace endure {

namespace {

std::string wal_path(const journal_options& opts) { return opts.data_dir + "/journal.wal"; }

error data_file_error(const std::string& what, const std::string& path) {
  return make_error(errc::io_error, "cannot " + what + " " + path
                                      + " to recover it from its write-ahead log: "
                                      + std::strerror(errno));
}

/// LMDB's meta page: magic at byte 16 of the page, the transaction id at
/// byte 144 (after the page header, magic, version, address, map size, the
/// two database records and the last page; lmdb 0.9, 64-bit).
constexpr std::size_t meta_magic_at = 16;
constexpr std::size_t meta_txnid_at = 144;
constexpr std::uint32_t lmdb_magic = 0xBEEFC0DE;

template <class T>
T load_at(const std::string& bytes, std::size_t at) {
  T v{};
  std::memcpy(&v, bytes.data() + at, sizeof(T));
  return v;
}

/// The newest transaction id of two meta pages (`pages`: both, back to
/// back); nullopt if either is not an LMDB meta page.
std::optional<std::uint64_t> newest_txnid(const std::string& pages) {
  auto half = pages.size() / 2;
  if (half < meta_txnid_at + 8)
    return std::nullopt;
  std::uint64_t newest = 0;
  for (std::size_t at : {std::size_t{0}, half}) {
    if (load_at<std::uint32_t>(pages, at + meta_magic_at) != lmdb_magic)
      return std::nullopt;
    newest = std::max(newest, load_at<std::uint64_t>(pages, at + meta_txnid_at));
  }
  return newest;
}

/// Recovery rewrites data.mdb's meta pages: only if no other process has
/// the environment open (its lock.mdb would keep the crashed writer's
/// transaction id, and LMDB would build on the wrong meta page). Probed as
/// LMDB probes it, with a write lock on lock.mdb's first byte; the probe's
/// descriptor is closed before LMDB opens the file (closing any descriptor
/// of a file drops the process's POSIX locks on it).
expected<void> check_no_other_process(const std::string& dir) {
  auto path = dir + "/lock.mdb";
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return {};  // no lock file: nobody has it open
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  probe.l_start = 0;
  probe.l_len = 1;
  bool alone = ::fcntl(fd, F_SETLK, &probe) == 0;
  ::close(fd);
  if (alone)
    return {};
  return make_error(errc::invalid_state,
                    "the journal in " + dir + " must recover from its write-ahead log, and "
                    "another process has it open (endure inspect, inbox, a console?). Stop "
                    "it and open the journal again; nothing was changed");
}

/// Refuses a log that does not belong to this data.mdb (a data.mdb
/// restored from a backup or copied in with an old journal.wal beside it):
/// data.mdb's meta pages must not be LMDB's of a transaction older than
/// the log's checkpoint.
expected<void> check_log_matches(const std::string& current_meta, const detail::wal_file& log,
                                 const std::string& dir) {
  // Meta pages that are not LMDB's at all are what an OS crash may leave
  // (the recovery's reason to be); LMDB's of an older transaction are not.
  auto at = newest_txnid(current_meta);
  auto checkpoint = log.checkpoint().lmdb_txnid;
  if ((!at || *at >= checkpoint) && newest_txnid(log.checkpoint().meta_pages) == checkpoint)
    return {};
  return make_error(errc::corrupt_record,
                    dir + "/journal.wal does not belong to " + dir + "/data.mdb (its checkpoint "
                    "is LMDB transaction " + std::to_string(checkpoint) + ", data.mdb is at "
                      + "transaction " + std::to_string(at.value_or(0))
                      + "): data.mdb was replaced (restored from a backup?) and the log was "
                        "left beside it. Nothing was changed. Restore journal.wal with the "
                        "data.mdb it belongs to, or remove journal.wal to use data.mdb as it is");
}

/// A log closed cleanly, with nothing after its checkpoint, beside a
/// data.mdb at a newer transaction: data.mdb was written since without the
/// log (a synced open that did not get as far as its first checkpoint; a
/// data.mdb copied in), and the log holds nothing it lacks. Putting data.mdb
/// back at the checkpoint would undo those writes: the log is removed
/// instead. True if it was.
expected<bool> drop_if_stale(const detail::wal_file& log, bool no_records,
                             const std::string& current_meta, const std::string& path) {
  auto at = newest_txnid(current_meta);
  auto checkpoint = log.checkpoint().lmdb_txnid;
  if (!log.checkpoint().boot_id.empty() || !no_records || !at || *at <= checkpoint)
    return false;
  log::warn(path + " was closed cleanly at LMDB transaction " + std::to_string(checkpoint)
            + " and data.mdb was written since without it (it is at transaction "
            + std::to_string(*at) + "): data.mdb is the journal as it is; the stale log is removed");
  if (::unlink(path.c_str()) != 0)
    return make_error(errc::io_error, "cannot remove " + path + ": " + std::strerror(errno));
  auto dir = std::filesystem::path{path}.parent_path();
  if (auto ok = sync_directory(dir); !ok)
    return std::move(ok).error();
  return true;
}

} // namespace

expected<void> journal::impl::wal_restore() {
  auto path = wal_path(opts);
  if (::access(path.c_str(), F_OK) != 0)
    return {};
  auto log = detail::wal_file::open(path);
  if (!log)
    return std::move(log).error();
  auto records = log->read_records();
  if (!records)
    return std::move(records).error();
  auto data = opts.data_dir + "/data.mdb";
  int fd = ::open(data.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return data_file_error("open", data);
  auto& meta = log->checkpoint().meta_pages;
  std::string now(meta.size(), '\0');
  bool read = ::pread(fd, now.data(), now.size(), 0) == static_cast<ssize_t>(now.size());
  if (auto belongs = check_log_matches(read ? now : std::string{}, *log, opts.data_dir);
      !belongs) {
    ::close(fd);
    return belongs;
  }
  if (auto dropped = drop_if_stale(*log, records->empty(), read ? now : std::string{}, path);
      !dropped || *dropped) {
    ::close(fd);
    return dropped ? expected<void>{} : expected<void>{std::move(dropped).error()};
  }
  bool same = now == meta;  // closed cleanly at this checkpoint: nothing to put back
  if (!same)  // readers may stay open across a clean restart, not across a rewrite
    if (auto alone = check_no_other_process(opts.data_dir); !alone) {
      ::close(fd);
      return alone;
    }
  bool ok = same
            || (::pwrite(fd, meta.data(), meta.size(), 0) == static_cast<ssize_t>(meta.size())
                && ::fdatasync(fd) == 0);
  auto e = ok ? error{} : data_file_error("write the meta pages of", data);
  ::close(fd);
  if (!ok)
    return e;
  wal_replay = std::move(*records);
  wal.emplace(std::move(*log));
  return {};
}

expected<void> journal::impl::wal_pin_snapshot() {
  auto pin = detail::lmdb_txn::begin(env.get(), MDB_RDONLY);
  if (!pin)
    return std::move(pin).error();
  wal_pin = std::move(*pin);
  return {};
}

expected<void> journal::impl::wal_check_restored() {
  // The pin's id is the transaction LMDB will build on (lock.mdb's view;
  // the meta pages' view is what wal_restore wrote).
  if (auto ok = wal_pin_snapshot(); !ok)
    return ok;
  auto at = mdb_txn_id(wal_pin.get());
  if (at == wal->checkpoint().lmdb_txnid)
    return {};
  wal_pin.abort();
  return make_error(errc::invalid_state,
                    "the journal in " + opts.data_dir + " is recovering from its write-ahead "
                    "log and was put back to its checkpoint (LMDB transaction "
                      + std::to_string(wal->checkpoint().lmdb_txnid) + "), but LMDB reports "
                      "transaction " + std::to_string(at)
                      + ": another process has it open (endure inspect, inbox?). Stop it and "
                        "open the journal again: the recovery starts over from the same "
                        "checkpoint, and nothing acknowledged is lost");
}

expected<void> journal::impl::wal_replay_records() {
  // Unsynced while replaying: the pin keeps the checkpoint's snapshot, so a
  // crash now recovers from the same checkpoint again.
  mdb_env_set_flags(env.get(), MDB_NOSYNC, 1);
  std::size_t n = 0;
  for (auto& record : wal_replay) {
    ++n;
    auto decoded = detail::decode_wal_record(record);
    if (!decoded)
      return make_error(errc::corrupt_record,
                        "record " + std::to_string(n) + " of the write-ahead log of "
                          + opts.data_dir + " passed its checksum but cannot be decoded ("
                          + decoded.error().message + "): was it written by a newer endure? "
                          "Open the directory with that build (the recovery starts over)");
    std::vector<pending> group;
    for (auto& b : *decoded)
      group.push_back({std::move(b), [](const expected<void>&) {}});
    std::vector<std::optional<error>> failed(group.size());
    commit_group_txn(group, failed, /*log=*/false);
    for (auto& f : failed)
      if (f && f->code != errc::already_exists && f->code != errc::not_found
          && f->code != errc::invalid_argument)  // the disk or the map, not the record
        return make_error(f->code, "recovering " + opts.data_dir + " from its write-ahead log: "
                                     + f->message);
    for (auto& f : failed)
      if (f)
        return make_error(errc::corrupt_record,
                          "record " + std::to_string(n) + " of the write-ahead log of "
                            + opts.data_dir + " does not apply again (" + f->message
                            + "); the journal was left as it was. Keep journal.wal and "
                              "data.mdb and report this");
  }
  if (!wal_replay.empty())
    log::info("journal " + opts.data_dir + ": recovered " + std::to_string(wal_replay.size())
              + " commits from the write-ahead log");
  wal_replay.clear();
  return {};
}

expected<void> journal::impl::wal_open() {
  // Marked before the log is created or replayed (LMDB still syncs each
  // commit here): a build without the log never writes a directory that
  // has one.
  if (opts.mode == durability::wal)
    if (auto ok = wal_mark_layout(true); !ok)
      return ok;
  if (wal)
    if (auto ok = wal_replay_records(); !ok)
      return ok;
  if (opts.mode != durability::wal) {
    if (!wal)
      return wal_mark_layout(false);  // a crash may have left the mark without a log
    if (auto ok = wal_checkpoint(); !ok)
      return ok;
    // Back to the mode's own syncing, then the log goes: data.mdb holds it all.
    mdb_env_set_flags(env.get(), MDB_NOSYNC, opts.mode == durability::nosync ? 1 : 0);
    wal_pin.abort();
    auto path = wal->path();
    wal.reset();
    if (::unlink(path.c_str()) != 0)
      return make_error(errc::io_error, "cannot remove " + path + ": " + std::strerror(errno));
    if (auto ok = sync_directory(opts.data_dir); !ok)
      return ok;
    return wal_mark_layout(false);
  }
  if (!wal) {
    if (int rc = mdb_env_sync(env.get(), 1); rc != 0)
      return detail::lmdb_error(rc, "sync " + opts.data_dir);
    auto first = wal_checkpoint_record();
    if (!first)
      return std::move(first).error();
    auto log = detail::wal_file::create(wal_path(opts), opts.wal_size, std::move(*first));
    if (!log)
      return std::move(log).error();
    wal.emplace(std::move(*log));
    if (auto ok = wal_pin_snapshot(); !ok)
      return ok;
    mdb_env_set_flags(env.get(), MDB_NOSYNC, 1);
    wal_checkpointed_at = std::chrono::steady_clock::now();
    wal_checkpoint_last_page = wal_last_page();
    return {};
  }
  return wal_checkpoint();
}

expected<void> journal::impl::wal_mark_layout(bool with_log) {
  for (;;) {  // a full map grows and the mark is redone, as at open_dbis
    auto txn = detail::lmdb_txn::begin(env.get(), 0);
    if (!txn)
      return std::move(txn).error();
    auto ok = detail::mark_wal_layout(txn->get(), meta_db, with_log);
    int rc = ok ? txn->commit() : 0;
    if (ok && rc == 0) {
      publish_heads(false);  // the heads stand as of this transaction (readers check)
      return {};
    }
    auto err = ok ? detail::lmdb_error(rc, "mark the layout of the journal in " + opts.data_dir)
                  : std::move(ok).error();
    txn->abort();
    if (err.code != errc::map_full || !grow_map())
      return err;
  }
}

std::uint64_t journal::impl::wal_last_page() const {
  MDB_envinfo info;
  return mdb_env_info(env.get(), &info) == 0 ? info.me_last_pgno : wal_checkpoint_last_page;
}

expected<detail::wal_checkpoint> journal::impl::wal_checkpoint_record() const {
  MDB_envinfo info;
  MDB_stat st;
  int fd = -1;
  if (int rc = mdb_env_info(env.get(), &info); rc != 0)
    return detail::lmdb_error(rc, "read the environment of " + opts.data_dir);
  if (int rc = mdb_env_stat(env.get(), &st); rc != 0)
    return detail::lmdb_error(rc, "read the environment of " + opts.data_dir);
  if (int rc = mdb_env_get_fd(env.get(), &fd); rc != 0)
    return detail::lmdb_error(rc, "read the environment of " + opts.data_dir);
  detail::wal_checkpoint c;
  c.lmdb_txnid = info.me_last_txnid;
  c.boot_id = detail::current_boot_id();
  c.meta_pages.resize(std::size_t{2} * st.ms_psize);
  if (::pread(fd, c.meta_pages.data(), c.meta_pages.size(), 0)
      != static_cast<ssize_t>(c.meta_pages.size()))
    return make_error(errc::io_error, "cannot read the meta pages of " + opts.data_dir
                                        + "/data.mdb: " + std::strerror(errno));
  return c;
}

expected<void> journal::impl::wal_checkpoint(bool clean) {
  // Pin first: no commit runs meanwhile (this is the writer, or the open),
  // so the new pin holds exactly the snapshot the sync makes durable.
  auto pin = detail::lmdb_txn::begin(env.get(), MDB_RDONLY);
  if (!pin)
    return std::move(pin).error();
  if (int rc = mdb_env_sync(env.get(), 1); rc != 0) {
    // Fatal, not retried: the kernel may have dropped the pages it failed
    // to write, and a later sync that succeeds would let a checkpoint
    // certify them. The log still holds every commit since the last good
    // checkpoint; the next open recovers from it.
    auto e = detail::lmdb_error(rc, "sync " + opts.data_dir + "/data.mdb for a checkpoint");
    wal_failure = make_error(errc::io_error, "journal " + opts.data_dir + ": " + e.message
                                               + ". It stopped writing: restart the process; "
                                                 "every acknowledged commit is recovered from "
                                                 "the write-ahead log");
    log::error(wal_failure->message);
    return e;
  }
  auto c = wal_checkpoint_record();
  if (!c)
    return std::move(c).error();
  if (clean)  // no boot to trust: data.mdb alone is the journal
    c->boot_id.clear();
  if (auto ok = wal->write_checkpoint(std::move(*c)); !ok)
    return ok;
  wal_pin = std::move(*pin);  // the previous pin ends: its pages may be reused
  wal_checkpointed_at = std::chrono::steady_clock::now();
  wal_checkpoint_last_page = wal_last_page();
  return {};
}

journal::impl::wal_step journal::impl::wal_append(
  const std::vector<pending>& group, std::vector<std::optional<error>>& failed) {
  std::vector<const write_batch*> batches;
  for (std::size_t i = 0; i < group.size(); ++i)
    if (!failed[i])
      batches.push_back(&group[i].batch);
  if (batches.empty())
    return wal_step::logged;  // nothing to make durable
  auto record = detail::encode_wal_record(batches);
  if (!wal->fits(record.size())) {
    if (wal->bytes_since_checkpoint() > 0)
      return wal_step::make_room;
    return batches.size() > 1 ? wal_step::split : wal_step::oversized;
  }
  if (auto ok = wal->append(record); !ok) {
    // Outcome unknown: the record may have reached the disk in part or in
    // whole. Nothing more is written until a restart settles it.
    stop_writing(failed, "the write-ahead log could not be written (" + ok.error().message
                            + "); whether this commit is durable is unknown until the next "
                              "open recovers from the log");
    return wal_step::failed;
  }
  return wal_step::logged;
}

bool journal::impl::wal_checkpoint_due() const {
  auto since = std::chrono::steady_clock::now() - wal_checkpointed_at;
  auto grown = (wal_last_page() - wal_checkpoint_last_page) * wal_page_size;
  return since >= opts.wal_checkpoint_interval || grown >= opts.wal_checkpoint_bytes
         || wal->bytes_since_checkpoint() >= opts.wal_checkpoint_bytes;
}

void journal::impl::wal_after_commit(wal_step step, std::vector<std::optional<error>>& failed) {
  if (step == wal_step::logged && !wal_checkpoint_due())
    return;
  auto ok = wal_checkpoint();
  if (ok)
    return;
  if (step == wal_step::logged && !wal_failure) {  // durable in the log; retried later
    log::warn("journal " + opts.data_dir + ": checkpoint failed (" + ok.error().message
              + "); the write-ahead log keeps every commit until one succeeds");
    return;
  }
  stop_writing(failed, "this commit, larger than the write-ahead log, could not be made "
                       "durable by a checkpoint (" + ok.error().message + ")");
}

void journal::impl::stop_writing(std::vector<std::optional<error>>& failed,
                                 const std::string& why) {
  wal_failure = make_error(errc::io_error, "journal " + opts.data_dir + ": " + why
                                             + ". It stopped writing: restart the process; "
                                               "every acknowledged commit is recovered from "
                                               "the write-ahead log");
  log::error(wal_failure->message);
  for (auto& f : failed)
    if (!f)
      f = *wal_failure;
}

void journal::impl::wal_close() {
  if (!wal || wal_failure)
    return;
  if (auto ok = wal_checkpoint(true); !ok)
    log::warn("journal " + opts.data_dir + ": no checkpoint at close (" + ok.error().message
              + "); the next open recovers from the write-ahead log");
  wal_pin.abort();
}

expected<void> journal::impl::wal_check_read_only() const {
  auto path = wal_path(opts);
  if (::access(path.c_str(), F_OK) != 0)
    return {};
  auto log = detail::wal_file::open(path, /*read_only=*/true);
  if (!log)
    return std::move(log).error();
  auto& boot = log->checkpoint().boot_id;
  if (boot.empty() || boot == detail::current_boot_id())
    return {};  // closed cleanly, or written since this boot: data.mdb is whole
  return make_error(errc::invalid_state,
                    "the journal in " + opts.data_dir + " was being written in durability "
                    "wal when the system went down, and data.mdb may hold half-written pages "
                    "until a writer recovers it from journal.wal. Open it once for writing "
                    "(endure serve, endure run) and read it again");
}

} // namespace endure
