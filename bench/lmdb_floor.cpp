// Raw LMDB C API loops for the floor figures (see lmdb_floor.hpp); the
// layout floor writes through the journal's own entry and head encoders. Flags match
// the journal's (MDB_NOTLS | MDB_NORDAHEAD plus the durability flag) and the
// map is pre-sized, so the only difference left is the journal itself.
#include "bench/lmdb_floor.hpp"

#include <lmdb.h>

#include <stdexcept>
#include <string_view>

#include "bench/bench_support.hpp"
#include "endure/persistence/detail/run_chain.hpp"

namespace endure::bench {

namespace {

void check(int rc, const char* what) {
  if (rc != 0)
    throw std::runtime_error(std::string{"floor: "} + what + ": " + mdb_strerror(rc));
}

unsigned env_flags(durability mode) {
  unsigned flags = MDB_NOTLS | MDB_NORDAHEAD;
  if (mode == durability::nometasync)
    flags |= MDB_NOMETASYNC;
  if (mode == durability::nosync)
    flags |= MDB_NOSYNC;
  return flags;
}

/// An environment with the journal's flags and a pre-sized map, closed on
/// destruction.
class raw_env {
public:
  raw_env(const std::string& dir, durability mode) {
    check(mdb_env_create(&env_), "create env");
    check(mdb_env_set_maxdbs(env_, 4), "set max dbs");
    check(mdb_env_set_mapsize(env_, bench_map_size), "set map size");
    check(mdb_env_open(env_, dir.c_str(), env_flags(mode), 0644), "open env");
  }
  ~raw_env() { mdb_env_close(env_); }
  raw_env(const raw_env&) = delete;
  raw_env& operator=(const raw_env&) = delete;

  MDB_txn* begin() {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env_, nullptr, 0, &txn), "begin");
    return txn;
  }
  /// The named database `name` (created if missing), or the unnamed one.
  MDB_dbi open_db(const char* name) {
    MDB_txn* txn = begin();
    MDB_dbi dbi = 0;
    check(mdb_dbi_open(txn, name, name ? MDB_CREATE : 0, &dbi), "open db");
    check(mdb_txn_commit(txn), "commit open");
    return dbi;
  }

private:
  MDB_env* env_ = nullptr;
};

void put(MDB_txn* txn, MDB_dbi dbi, std::string_view key, const std::string& value,
         unsigned flags) {
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  MDB_val v{value.size(), const_cast<char*>(value.data())};
  check(mdb_put(txn, dbi, &k, &v, flags), "put");
}

void check(const expected<void>& r) {
  if (!r)
    throw std::runtime_error("floor: " + r.error().message);
}

/// Key of put `i` of transaction `t` (both from 0).
std::string batched_key(key_layout layout, const std::vector<std::string>& runs, int t,
                        int i) {
  if (layout == key_layout::one_run_per_put)
    return journal_style_key(runs[static_cast<std::size_t>(i)], static_cast<std::uint64_t>(t));
  auto per_txn = static_cast<std::uint64_t>(runs.size());
  return journal_style_key(runs[0], static_cast<std::uint64_t>(t) * per_txn
                                      + static_cast<std::uint64_t>(i));
}

} // namespace

latency_sample floor_commit_latency(const std::string& dir, durability mode, int commits,
                                    std::uint64_t first_seq) {
  raw_env env{dir, mode};
  auto dbi = env.open_db(nullptr);
  auto run = run_id(0);
  latency_sample out;
  out.micros.reserve(static_cast<std::size_t>(commits));
  auto start = bench_clock::now();
  for (int i = 0; i < commits; ++i) {
    auto key = journal_style_key(run, first_seq + static_cast<std::uint64_t>(i));
    auto t0 = bench_clock::now();
    MDB_txn* txn = env.begin();
    put(txn, dbi, key, payload(), MDB_NOOVERWRITE);
    check(mdb_txn_commit(txn), "commit");
    out.micros.push_back(seconds_since(t0) * 1e6);
  }
  out.wall_seconds = seconds_since(start);
  return out;
}

latency_sample floor_layout_commit_latency(const std::string& dir, durability mode,
                                           int commits, std::uint64_t first_position) {
  raw_env env{dir, mode};
  auto log = env.open_db(nullptr);
  auto run = run_id(0);
  const std::string completed(300, 'c'), started(80, 's');
  latency_sample out;
  out.micros.reserve(static_cast<std::size_t>(commits));
  auto start = bench_clock::now();
  std::uint64_t prev = 0;
  for (int i = 0; i < commits; ++i) {
    auto pos = first_position + 2 * static_cast<std::uint64_t>(i);
    auto t0 = bench_clock::now();
    MDB_txn* txn = env.begin();
    check(detail::append_link(txn, log, pos, {run, pos, prev, completed}));
    check(detail::append_link(txn, log, pos + 1, {run, pos + 1, pos, started}));
    check(mdb_txn_commit(txn), "commit");
    out.micros.push_back(seconds_since(t0) * 1e6);
    prev = pos + 1;
  }
  out.wall_seconds = seconds_since(start);
  return out;
}

double floor_batched_puts(const std::string& dir, durability mode, int txns,
                          int puts_per_txn, key_layout layout) {
  raw_env env{dir, mode};
  auto dbi = env.open_db(nullptr);
  std::vector<std::string> runs;
  for (int i = 0; i < puts_per_txn; ++i)
    runs.push_back(run_id(i));
  auto start = bench_clock::now();
  for (int t = 0; t < txns; ++t) {
    MDB_txn* txn = env.begin();
    for (int i = 0; i < puts_per_txn; ++i)
      put(txn, dbi, batched_key(layout, runs, t, i), payload(), MDB_NOOVERWRITE);
    check(mdb_txn_commit(txn), "commit");
  }
  return static_cast<double>(txns) * puts_per_txn / seconds_since(start);
}

} // namespace endure::bench
