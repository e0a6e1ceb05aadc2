// Raw LMDB C API loops for the floor figures (see lmdb_floor.hpp). Flags match
// the journal's (MDB_NOTLS | MDB_NORDAHEAD plus the durability flag) and the
// map is pre-sized, so the only difference left is the journal itself.
#include "bench/lmdb_floor.hpp"

#include <lmdb.h>

#include <stdexcept>

#include "bench/bench_support.hpp"

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

/// One environment with its unnamed database, closed on destruction.
class floor_env {
public:
  floor_env(const std::string& dir, durability mode) {
    check(mdb_env_create(&env_), "create env");
    check(mdb_env_set_mapsize(env_, bench_map_size), "set map size");
    check(mdb_env_open(env_, dir.c_str(), env_flags(mode), 0644), "open env");
    MDB_txn* txn = begin();
    check(mdb_dbi_open(txn, nullptr, 0, &dbi_), "open db");
    check(mdb_txn_commit(txn), "commit open");
  }
  ~floor_env() { mdb_env_close(env_); }
  floor_env(const floor_env&) = delete;
  floor_env& operator=(const floor_env&) = delete;

  MDB_txn* begin() {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env_, nullptr, 0, &txn), "begin");
    return txn;
  }

  void put(MDB_txn* txn, const std::string& key, const std::string& value) {
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val v{value.size(), const_cast<char*>(value.data())};
    check(mdb_put(txn, dbi_, &k, &v, MDB_NOOVERWRITE), "put");
  }

private:
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
};

/// One environment with the journal's `log` and `heads` databases.
class layout_env {
public:
  layout_env(const std::string& dir, durability mode) {
    check(mdb_env_create(&env_), "create env");
    check(mdb_env_set_maxdbs(env_, 4), "set max dbs");
    check(mdb_env_set_mapsize(env_, bench_map_size), "set map size");
    check(mdb_env_open(env_, dir.c_str(), env_flags(mode), 0644), "open env");
    MDB_txn* txn = begin();
    check(mdb_dbi_open(txn, "log", MDB_CREATE, &log_), "open log");
    check(mdb_dbi_open(txn, "heads", MDB_CREATE, &heads_), "open heads");
    check(mdb_txn_commit(txn), "commit open");
  }
  ~layout_env() { mdb_env_close(env_); }
  layout_env(const layout_env&) = delete;
  layout_env& operator=(const layout_env&) = delete;

  MDB_txn* begin() {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env_, nullptr, 0, &txn), "begin");
    return txn;
  }
  /// Appends `value` at `position` (big-endian key, MDB_APPEND).
  void append(MDB_txn* txn, std::uint64_t position, const std::string& value) {
    unsigned char key[8];
    for (int i = 0; i < 8; ++i)
      key[i] = static_cast<unsigned char>(position >> (56 - 8 * i));
    MDB_val k{sizeof key, key};
    MDB_val v{value.size(), const_cast<char*>(value.data())};
    check(mdb_put(txn, log_, &k, &v, MDB_APPEND), "append");
  }
  void put_head(MDB_txn* txn, const std::string& run, const std::string& head) {
    MDB_val k{run.size(), const_cast<char*>(run.data())};
    MDB_val v{head.size(), const_cast<char*>(head.data())};
    check(mdb_put(txn, heads_, &k, &v, 0), "put head");
  }

private:
  MDB_env* env_ = nullptr;
  MDB_dbi log_ = 0;
  MDB_dbi heads_ = 0;
};

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
  floor_env env{dir, mode};
  auto run = run_id(0);
  latency_sample out;
  out.micros.reserve(static_cast<std::size_t>(commits));
  auto start = bench_clock::now();
  for (int i = 0; i < commits; ++i) {
    auto key = journal_style_key(run, first_seq + static_cast<std::uint64_t>(i));
    auto t0 = bench_clock::now();
    MDB_txn* txn = env.begin();
    env.put(txn, key, payload());
    check(mdb_txn_commit(txn), "commit");
    out.micros.push_back(seconds_since(t0) * 1e6);
  }
  out.wall_seconds = seconds_since(start);
  return out;
}

latency_sample floor_layout_commit_latency(const std::string& dir, durability mode,
                                           int commits, std::uint64_t first_position) {
  layout_env env{dir, mode};
  auto run = run_id(0);
  const std::string completed(300, 'c'), started(80, 's'), head(32, 'h');
  latency_sample out;
  out.micros.reserve(static_cast<std::size_t>(commits));
  auto start = bench_clock::now();
  for (int i = 0; i < commits; ++i) {
    auto position = first_position + 2 * static_cast<std::uint64_t>(i);
    auto t0 = bench_clock::now();
    MDB_txn* txn = env.begin();
    env.append(txn, position, completed);
    env.append(txn, position + 1, started);
    env.put_head(txn, run, head);
    check(mdb_txn_commit(txn), "commit");
    out.micros.push_back(seconds_since(t0) * 1e6);
  }
  out.wall_seconds = seconds_since(start);
  return out;
}

double floor_batched_puts(const std::string& dir, durability mode, int txns,
                          int puts_per_txn, key_layout layout) {
  floor_env env{dir, mode};
  std::vector<std::string> runs;
  for (int i = 0; i < puts_per_txn; ++i)
    runs.push_back(run_id(i));
  auto start = bench_clock::now();
  for (int t = 0; t < txns; ++t) {
    MDB_txn* txn = env.begin();
    for (int i = 0; i < puts_per_txn; ++i)
      env.put(txn, batched_key(layout, runs, t, i), payload());
    check(mdb_txn_commit(txn), "commit");
  }
  return static_cast<double>(txns) * puts_per_txn / seconds_since(start);
}

} // namespace endure::bench
