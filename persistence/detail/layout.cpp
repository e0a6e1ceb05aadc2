// Layout version check and the upgrades to layout 3 (see layout.hpp).
#include "endure/persistence/detail/layout.hpp"

#include <optional>

#include "endure/persistence/detail/keys.hpp"
#include "endure/persistence/detail/log_tail.hpp"
#include "endure/persistence/detail/run_chain.hpp"

namespace endure::detail {

namespace {

constexpr std::string_view layout_key = "layout";

expected<std::optional<std::uint32_t>> read_layout(MDB_txn* txn, MDB_dbi meta) {
  auto k = to_val(layout_key);
  MDB_val v;
  int rc = mdb_get(txn, meta, &k, &v);
  if (rc == MDB_NOTFOUND)
    return std::optional<std::uint32_t>{};
  if (rc != 0)
    return lmdb_error(rc, "read layout version");
  if (v.mv_size != 4)
    return make_error(errc::corrupt_record, "the layout version in the meta database is "
                                              + std::to_string(v.mv_size)
                                              + " bytes, not 4");
  auto p = static_cast<const unsigned char*>(v.mv_data);
  return std::optional<std::uint32_t>{(std::uint32_t{p[0]} << 24) | (p[1] << 16)
                                      | (p[2] << 8) | p[3]};
}

expected<void> write_layout(MDB_txn* txn, MDB_dbi meta, std::uint32_t layout = current_layout) {
  char bytes[4] = {0, 0, 0, static_cast<char>(layout)};
  auto k = to_val(layout_key);
  MDB_val v{sizeof bytes, bytes};
  if (int rc = mdb_put(txn, meta, &k, &v, 0); rc != 0)
    return lmdb_error(rc, "write layout version");
  return {};
}

error newer_layout(std::uint32_t found, const std::string& data_dir) {
  return make_error(errc::newer_record_version,
                    "data directory " + data_dir + " has journal layout "
                      + std::to_string(found) + ", newer than this build reads ("
                      + std::to_string(wal_layout) + "); upgrade endure to open it");
}

bool is_empty(MDB_txn* txn, MDB_dbi db) {
  MDB_stat st;
  return mdb_stat(txn, db, &st) == 0 && st.ms_entries == 0;
}

/// Appends every layout-1 record to the log; the journal's key order is
/// run by run, seq order, which is the order each chain needs.
expected<std::uint64_t> move_records(MDB_txn* txn, MDB_dbi journal, const layout_dbs& dbs) {
  auto pos = next_free_position(txn, dbs.log);
  if (!pos)
    return std::move(pos).error();
  lmdb_cursor cur{txn, journal};
  if (cur.open_rc() != 0)
    return lmdb_error(cur.open_rc(), "open journal cursor");
  std::string run;
  run_head head;
  std::uint64_t moved = 0;
  MDB_val k, v;
  for (bool ok = cur.first(k, v); ok; ok = cur.next(k, v), ++moved) {
    auto key = to_view(k);
    if (key.size() < 10 || key.size() > 200 + 9 || key[key.size() - 9] != '\0')
      return make_error(errc::corrupt_record, "malformed key in the layout-1 journal "
                                              "database; cannot upgrade");
    auto key_run = key.substr(0, key.size() - 9);
    auto seq = get_be64(key.substr(key.size() - 8));
    if (key_run != run) {
      if (!run.empty())
        if (auto r = store_head(txn, dbs.heads, run, head); !r)
          return std::move(r).error();
      run.assign(key_run);
      head = run_head{0, 0, seq};
    }
    if (auto r = append_link(txn, dbs.log, *pos, {run, seq, head.last_pos, to_view(v)}); !r)
      return std::move(r).error();
    head.last_pos = (*pos)++;
    head.last_seq = seq;
  }
  if (cur.failed())
    return lmdb_error(cur.rc(), "read the layout-1 journal database");
  if (!run.empty())
    if (auto r = store_head(txn, dbs.heads, run, head); !r)
      return std::move(r).error();
  return moved;
}

/// Moves every entry of the layout-2 `log` database to the same position in
/// the main database, bytes unchanged (the header check is seeded with the
/// position, not the key), and drops `log`.
expected<std::uint64_t> move_log_database(MDB_txn* txn, const layout_dbs& dbs,
                                          const std::string& data_dir) {
  MDB_dbi old_log = 0;
  int rc = mdb_dbi_open(txn, "log", 0, &old_log);
  if (rc == MDB_NOTFOUND)
    return std::uint64_t{0};
  if (rc != 0)
    return lmdb_error(rc, "open layout-2 log database in " + data_dir);
  std::uint64_t moved = 0;
  {
    lmdb_cursor cur{txn, old_log};
    if (cur.open_rc() != 0)
      return lmdb_error(cur.open_rc(), "open layout-2 log cursor");
    MDB_val k, v;
    for (bool ok = cur.first(k, v); ok; ok = cur.next(k, v), ++moved) {
      if (k.mv_size != 8)
        return make_error(errc::corrupt_record, "malformed key in the layout-2 log "
                                                "database; cannot upgrade");
      auto key = position_key(get_be64(to_view(k)));
      auto nk = to_val(key);
      if (int put = mdb_put(txn, dbs.log, &nk, &v, MDB_APPEND); put != 0)
        return lmdb_error(put, "move log entry to the main database");
    }
    if (cur.failed())
      return lmdb_error(cur.rc(), "read the layout-2 log database");
  }
  if (int drop = mdb_drop(txn, old_log, 1); drop != 0)
    return lmdb_error(drop, "drop layout-2 log database");
  return moved;
}

} // namespace

expected<std::uint64_t> upgrade_layout(MDB_txn* txn, const layout_dbs& dbs,
                                       const std::string& data_dir) {
  auto layout = read_layout(txn, dbs.meta);
  if (!layout)
    return std::move(layout).error();
  if (*layout && **layout > wal_layout)
    return newer_layout(**layout, data_dir);
  MDB_dbi journal = 0;
  int rc = mdb_dbi_open(txn, "journal", 0, &journal);
  if (rc != 0 && rc != MDB_NOTFOUND)
    return lmdb_error(rc, "open layout-1 journal database in " + data_dir);
  std::uint64_t moved = 0;
  if (rc == 0) {
    if (*layout && !is_empty(txn, journal))
      return make_error(errc::invalid_argument,
                        "data directory " + data_dir + " is at layout "
                          + std::to_string(**layout) + " but its layout-1 journal "
                          "database has records (written by an older endure after "
                          "the upgrade); refusing to merge them");
    auto n = move_records(txn, journal, dbs);
    if (!n)
      return std::move(n).error();
    moved = *n;
    if (int drop = mdb_drop(txn, journal, 1); drop != 0)
      return lmdb_error(drop, "drop layout-1 journal database");
  }
  if (*layout && **layout == 2) {
    auto n = move_log_database(txn, dbs, data_dir);
    if (!n)
      return std::move(n).error();
    moved += *n;
  }
  if (*layout && **layout >= current_layout)
    return moved;
  // Layouts 1 and 2 wrote every head on every commit: all are current.
  auto end = next_free_position(txn, dbs.log);
  if (!end)
    return std::move(end).error();
  if (auto r = store_checkpoint(txn, dbs.meta, *end - 1); !r)
    return std::move(r).error();
  if (auto r = write_layout(txn, dbs.meta); !r)
    return std::move(r).error();
  return moved;
}

expected<void> check_layout_read_only(MDB_txn* txn, const std::string& data_dir) {
  MDB_dbi meta = 0;
  int rc = mdb_dbi_open(txn, "meta", 0, &meta);
  auto older = [&](std::uint32_t found) {
    return make_error(errc::invalid_argument,
                      "data directory " + data_dir + " has journal layout "
                        + std::to_string(found) + " (written by an older endure); open "
                        "it once with a writer (`endure serve` or `endure run`) to "
                        "upgrade it, then read it");
  };
  if (rc == MDB_NOTFOUND)
    return older(1);
  if (rc != 0)
    return lmdb_error(rc, "open meta database in " + data_dir);
  auto layout = read_layout(txn, meta);
  if (!layout)
    return std::move(layout).error();
  if (!*layout)
    return make_error(errc::corrupt_record,
                      "data directory " + data_dir + " has no layout version");
  if (**layout > wal_layout)
    return newer_layout(**layout, data_dir);
  if (**layout < current_layout)
    return older(**layout);
  return {};
}

expected<void> mark_wal_layout(MDB_txn* txn, MDB_dbi meta, bool with_log) {
  auto layout = read_layout(txn, meta);
  if (!layout)
    return std::move(layout).error();
  auto wanted = with_log ? wal_layout : current_layout;
  if (*layout == wanted)
    return {};
  return write_layout(txn, meta, wanted);
}

} // namespace endure::detail
