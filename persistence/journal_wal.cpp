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
#include <cstring>

#include "endure/persistence/detail/journal_impl.hpp"
#include "endure/persistence/detail/sync_directory.hpp"
#include "endure/persistence/log.hpp"
#include "endure/persistence/write_batch_codec.hpp"

namespace endure {

namespace {

std::string wal_path(const journal_options& opts) { return opts.data_dir + "/journal.wal"; }

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool get_u32(std::string_view& in, std::uint32_t& v) {
  if (in.size() < 4)
    return false;
  v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  in.remove_prefix(4);
  return true;
}

/// One record: u32 count, then each batch as u32 length + encode_batch.
std::string encode_group(const std::vector<const write_batch*>& batches) {
  std::string out;
  put_u32(out, static_cast<std::uint32_t>(batches.size()));
  for (auto* b : batches) {
    auto bytes = encode_batch(*b);
    put_u32(out, static_cast<std::uint32_t>(bytes.size()));
    out += bytes;
  }
  return out;
}

expected<std::vector<write_batch>> decode_group(std::string_view in) {
  std::uint32_t count = 0;
  if (!get_u32(in, count))
    return make_error(errc::corrupt_record, "a write-ahead log record is cut short");
  std::vector<write_batch> out;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t size = 0;
    if (!get_u32(in, size) || in.size() < size)
      return make_error(errc::corrupt_record, "a write-ahead log record is cut short");
    auto batch = decode_batch(in.substr(0, size));
    if (!batch)
      return std::move(batch).error();
    out.push_back(std::move(*batch));
    in.remove_prefix(size);
  }
  return out;
}

error data_file_error(const std::string& what, const std::string& path) {
  return make_error(errc::io_error, "cannot " + what + " " + path
                                      + " to recover it from its write-ahead log: "
                                      + std::strerror(errno));
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
  bool ok = ::pwrite(fd, meta.data(), meta.size(), 0) == static_cast<ssize_t>(meta.size())
            && ::fdatasync(fd) == 0;
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
  MDB_envinfo info;
  if (int rc = mdb_env_info(env.get(), &info); rc != 0)
    return detail::lmdb_error(rc, "read the environment of " + opts.data_dir);
  if (info.me_last_txnid == wal->checkpoint().lmdb_txnid)
    return wal_pin_snapshot();
  return make_error(errc::invalid_state,
                    "the journal in " + opts.data_dir + " was put back to its checkpoint (LMDB "
                    "transaction " + std::to_string(wal->checkpoint().lmdb_txnid)
                      + "), but LMDB reports transaction " + std::to_string(info.me_last_txnid)
                      + ": another process has it open (endure inspect, inbox?). Stop it "
                        "and open the journal again; nothing was changed");
}

expected<void> journal::impl::wal_replay_records() {
  // Unsynced while replaying: the pin keeps the checkpoint's snapshot, so a
  // crash now recovers from the same checkpoint again.
  mdb_env_set_flags(env.get(), MDB_NOSYNC, 1);
  std::size_t n = 0;
  for (auto& record : wal_replay) {
    ++n;
    auto batches = decode_group(record);
    if (!batches)
      return make_error(errc::corrupt_record,
                        "record " + std::to_string(n) + " of the write-ahead log of "
                          + opts.data_dir + " cannot be read: " + batches.error().message);
    std::vector<pending> group;
    for (auto& b : *batches)
      group.push_back({std::move(b), [](const expected<void>&) {}});
    std::vector<std::optional<error>> failed(group.size());
    commit_group_txn(group, failed);
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
  if (wal)
    if (auto ok = wal_replay_records(); !ok)
      return ok;
  if (opts.mode != durability::wal) {
    if (!wal)
      return {};
    if (auto ok = wal_checkpoint(); !ok)
      return ok;
    // Back to the mode's own syncing, then the log goes: data.mdb holds it all.
    mdb_env_set_flags(env.get(), MDB_NOSYNC, opts.mode == durability::nosync ? 1 : 0);
    wal_pin.abort();
    auto path = wal->path();
    wal.reset();
    if (::unlink(path.c_str()) != 0)
      return make_error(errc::io_error, "cannot remove " + path + ": " + std::strerror(errno));
    return sync_directory(opts.data_dir);
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
  if (int rc = mdb_env_sync(env.get(), 1); rc != 0)
    return detail::lmdb_error(rc, "sync " + opts.data_dir + "/data.mdb for a checkpoint");
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

void journal::impl::wal_log(const std::vector<pending>& group,
                            std::vector<std::optional<error>>& failed) {
  std::vector<const write_batch*> batches;
  for (std::size_t i = 0; i < group.size(); ++i)
    if (!failed[i])
      batches.push_back(&group[i].batch);
  if (batches.empty())
    return;
  auto record = encode_group(batches);
  auto since = std::chrono::steady_clock::now() - wal_checkpointed_at;
  auto grown = (wal_last_page() - wal_checkpoint_last_page) * wal_page_size;
  bool due = since >= opts.wal_checkpoint_interval || grown >= opts.wal_checkpoint_bytes
             || wal->bytes_since_checkpoint() >= opts.wal_checkpoint_bytes;
  expected<void> ok;
  if (due || !wal->fits(record.size()))
    ok = wal_checkpoint();  // syncs this commit too: no record needed
  else
    ok = wal->append(record);
  if (ok)
    return;
  // data.mdb holds the group, but nothing made it durable: fail it, and
  // every later batch, until a restart recovers from the last checkpoint.
  wal_failure = make_error(errc::io_error, ok.error().message + "; the journal in "
                                             + opts.data_dir + " stopped writing (restart "
                                             "the process: it recovers every acknowledged "
                                             "commit from the log)");
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
  auto log = detail::wal_file::open(path);
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
