// Side tables: keyed rows beside the log (write_batch::put_row), each a
// checksummed record envelope. Writes on the writer thread, reads in their
// own read transactions.
#include <algorithm>
#include <lmdb.h>

#include "endure/persistence/detail/journal_impl.hpp"
#include "endure/persistence/detail/lmdb.hpp"
#include "endure/persistence/detail/row_condition.hpp"
#include "endure/persistence/journal.hpp"

namespace endure {

using detail::to_val;
using detail::to_view;

namespace {

constexpr std::size_t max_row_key = 500;  // LMDB's default key limit is 511

expected<void> check_key(side_table t, std::string_view key) {
  if (key.empty() || key.size() > max_row_key)
    return make_error(errc::invalid_argument,
                      std::string{"a row key of table "} + table_name(t) + " must be 1 to "
                        + std::to_string(max_row_key) + " bytes, not "
                        + std::to_string(key.size()));
  return {};
}

error no_table(side_table t) {
  return make_error(errc::not_found, std::string{"the journal has no table "} + table_name(t));
}

/// For messages: "requests row r1/7".
std::string where(side_table t, std::string_view key) {
  return std::string{table_name(t)} + " row " + std::string{key};
}

/// Reads a row into `page`: its record, or why it is damaged.
void add_row(row_page& page, side_table table, std::string_view key, const MDB_val& v,
             const record_types& types) {
  auto rec = decode_record(to_view(v), {{}, 0, where(table, key)}, types);
  if (rec)
    page.rows.push_back({std::string{key}, std::move(*rec)});
  else
    page.damaged.emplace_back(std::string{key}, std::move(rec).error());
}

} // namespace

expected<void> journal::impl::put_row(MDB_txn* txn, const write_batch::op& op) {
  if (auto ok = check_key(op.table, op.run_id); !ok)
    return ok;
  auto dbi = table_dbi(op.table);
  if (!dbi)
    return no_table(op.table);
  auto k = to_val(op.run_id);
  if (op.number == detail::row_if_hash) {
    MDB_val now;
    int rc = mdb_get(txn, *dbi, &k, &now);
    if (rc != 0 && rc != MDB_NOTFOUND)
      return detail::lmdb_error(rc, "read " + where(op.table, op.run_id));
    if (rc == MDB_NOTFOUND
        || detail::envelope_hash({static_cast<const char*>(now.mv_data), now.mv_size})
             != static_cast<std::uint64_t>(op.time_ms))
      return {};  // written again since the batch was built: that row stands
  }
  auto v = to_val(op.bytes);
  unsigned flags = op.number == detail::row_if_absent ? MDB_NOOVERWRITE : 0;
  int rc = mdb_put(txn, *dbi, &k, &v, flags);
  if (rc == MDB_KEYEXIST)
    return make_error(errc::already_exists, where(op.table, op.run_id) + " exists already");
  if (rc != 0)
    return detail::lmdb_error(rc, "write " + where(op.table, op.run_id));
  return {};
}

expected<void> journal::impl::erase_row(MDB_txn* txn, const write_batch::op& op) {
  if (auto ok = check_key(op.table, op.run_id); !ok)
    return ok;
  auto dbi = table_dbi(op.table);
  if (!dbi)
    return no_table(op.table);
  auto k = to_val(op.run_id);
  if (int rc = mdb_del(txn, *dbi, &k, nullptr); rc != 0 && rc != MDB_NOTFOUND)
    return detail::lmdb_error(rc, "erase " + where(op.table, op.run_id));
  return {};
}

expected<std::optional<record>> journal::row(side_table table, std::string_view key) const {
  auto dbi = impl_->table_dbi(table);
  if (!dbi)
    return std::optional<record>{};  // a directory from before the table: no rows
  return impl_->read([&](MDB_txn* txn) -> expected<std::optional<record>> {
    auto k = to_val(key);
    MDB_val v;
    int rc = mdb_get(txn, *dbi, &k, &v);
    if (rc == MDB_NOTFOUND)
      return std::optional<record>{};
    if (rc != 0)
      return detail::lmdb_error(rc, "read " + where(table, key));
    auto what = where(table, key);
    auto rec = decode_record(to_view(v), {{}, 0, what}, impl_->types);
    if (!rec)
      return std::move(rec).error();
    return std::optional<record>{std::move(*rec)};
  });
}

expected<row_page> journal::rows(side_table table, std::string_view prefix,
                                 std::string_view after, std::size_t max_count) const {
  auto dbi = impl_->table_dbi(table);
  if (!dbi)
    return row_page{};
  return impl_->read([&](MDB_txn* txn) -> expected<row_page> {
    detail::lmdb_cursor cur{txn, *dbi};
    if (cur.open_rc() != 0)
      return detail::lmdb_error(cur.open_rc(), std::string{"scan table "} + table_name(table));
    row_page page;
    MDB_val k, v;
    auto start = after > prefix ? after : prefix;
    // LMDB refuses an empty key, even to seek with.
    bool ok = start.empty() ? cur.first(k, v) : cur.seek(start, k, v);
    if (ok && !after.empty() && to_view(k) == after)
      ok = cur.next(k, v);  // `after` itself was on the previous page
    for (; ok && page.rows.size() < max_count; ok = cur.next(k, v)) {
      auto key = to_view(k);
      if (key.substr(0, prefix.size()) != prefix)
        break;
      add_row(page, table, key, v, impl_->types);
    }
    if (cur.failed())
      return detail::lmdb_error(cur.rc(), std::string{"scan table "} + table_name(table));
    return page;
  });
}

expected<row_page> journal::last_rows(side_table table, std::string_view prefix,
                                      std::size_t max_count) const {
  auto dbi = impl_->table_dbi(table);
  if (!dbi || max_count == 0)
    return row_page{};
  return impl_->read([&](MDB_txn* txn) -> expected<row_page> {
    detail::lmdb_cursor cur{txn, *dbi};
    if (cur.open_rc() != 0)
      return detail::lmdb_error(cur.open_rc(), std::string{"scan table "} + table_name(table));
    // The first key after every key with the prefix: the prefix with its
    // last byte below 0xff raised by one (none: the table's end).
    std::string past{prefix};
    while (!past.empty() && static_cast<unsigned char>(past.back()) == 0xff)
      past.pop_back();
    if (!past.empty())
      past.back() = static_cast<char>(static_cast<unsigned char>(past.back()) + 1);
    MDB_val k, v;
    bool ok = past.empty() ? cur.last(k, v) : (cur.seek(past, k, v) ? cur.prev(k, v)
                                                                     : !cur.failed() && cur.last(k, v));
    row_page page;
    std::size_t taken = 0;
    for (; ok && taken < max_count; ok = cur.prev(k, v), ++taken) {
      auto key = to_view(k);
      if (key.substr(0, prefix.size()) != prefix)
        break;
      add_row(page, table, key, v, impl_->types);
    }
    if (cur.failed())
      return detail::lmdb_error(cur.rc(), std::string{"scan table "} + table_name(table));
    std::reverse(page.rows.begin(), page.rows.end());
    std::reverse(page.damaged.begin(), page.damaged.end());
    return page;
  });
}

expected<std::size_t> journal::count_rows(side_table table, std::string_view prefix) const {
  auto dbi = impl_->table_dbi(table);
  if (!dbi)
    return std::size_t{0};
  return impl_->read([&](MDB_txn* txn) -> expected<std::size_t> {
    if (prefix.empty()) {  // the whole table: LMDB keeps the count
      MDB_stat st;
      if (int rc = mdb_stat(txn, *dbi, &st); rc != 0)
        return detail::lmdb_error(rc, std::string{"count table "} + table_name(table));
      return static_cast<std::size_t>(st.ms_entries);
    }
    detail::lmdb_cursor cur{txn, *dbi};
    if (cur.open_rc() != 0)
      return detail::lmdb_error(cur.open_rc(), std::string{"count table "} + table_name(table));
    std::size_t n = 0;
    MDB_val k, v;
    for (bool ok = cur.seek(prefix, k, v); ok && to_view(k).substr(0, prefix.size()) == prefix;
         ok = cur.next(k, v))
      ++n;
    if (cur.failed())
      return detail::lmdb_error(cur.rc(), std::string{"count table "} + table_name(table));
    return n;
  });
}

} // namespace endure
