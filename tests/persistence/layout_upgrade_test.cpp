// A data directory written with layout 1 (records in the `journal` database
// keyed run 0x00 seq) or layout 2 (a `log` database keyed by position) is
// upgraded to layout 3 by the first writer open with every record kept; later opens change nothing; read-only opens of an old
// directory and any open of a newer layout are refused with a clear error.
// The old layouts are written here with raw LMDB, as older endure wrote them.
#include <catch2/catch.hpp>
#include <lmdb.h>

#include <filesystem>
#include <map>

#include "endure/persistence/detail/log_entry.hpp"
#include "endure/persistence/detail/run_meta_codec.hpp"
#include "endure/persistence/journal.hpp"
#include "persistence/journal_model.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;

namespace {

/// A raw LMDB environment on `dir`, one write transaction, committed by
/// commit(); for writing layouts by hand and for looking at what is stored.
class raw_env {
public:
  explicit raw_env(const std::string& dir) {
    REQUIRE(mdb_env_create(&env_) == 0);
    mdb_env_set_maxdbs(env_, 32);
    mdb_env_set_mapsize(env_, std::size_t{64} << 20);
    REQUIRE(mdb_env_open(env_, dir.c_str(), MDB_NOTLS, 0644) == 0);
    REQUIRE(mdb_txn_begin(env_, nullptr, 0, &txn_) == 0);
  }
  ~raw_env() {
    if (txn_)
      mdb_txn_abort(txn_);
    mdb_env_close(env_);
  }
  /// The database's handle, or nothing if it does not exist and !create.
  std::optional<MDB_dbi> db(const char* name, bool create) {
    MDB_dbi dbi;
    if (mdb_dbi_open(txn_, name, create ? MDB_CREATE : 0, &dbi) != 0)
      return std::nullopt;
    return dbi;
  }
  void put(MDB_dbi dbi, std::string_view key, std::string_view value) {
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val v{value.size(), const_cast<char*>(value.data())};
    REQUIRE(mdb_put(txn_, dbi, &k, &v, 0) == 0);
  }
  std::size_t entries(MDB_dbi dbi) {
    MDB_stat st;
    REQUIRE(mdb_stat(txn_, dbi, &st) == 0);
    return st.ms_entries;
  }
  /// Entries of the layout-3 log: main-database keys 0xff + position.
  std::size_t log_entries() {
    MDB_dbi main = *db(nullptr, false);
    MDB_cursor* cur = nullptr;
    REQUIRE(mdb_cursor_open(txn_, main, &cur) == 0);
    std::size_t n = 0;
    MDB_val k, v;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
      n += k.mv_size == 9 && static_cast<const char*>(k.mv_data)[0] == '\xff';
    mdb_cursor_close(cur);
    return n;
  }
  /// The meta database's value at `key`, as a big-endian number.
  std::uint64_t meta_number(std::string_view key) {
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val v;
    REQUIRE(mdb_get(txn_, *db("meta", false), &k, &v) == 0);
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < v.mv_size; ++i)
      n = (n << 8) | static_cast<const unsigned char*>(v.mv_data)[i];
    return n;
  }
  void commit() {
    REQUIRE(mdb_txn_commit(txn_) == 0);
    txn_ = nullptr;
  }

private:
  MDB_env* env_ = nullptr;
  MDB_txn* txn_ = nullptr;
};

std::string layout1_key(const std::string& run, std::uint64_t seq) {
  std::string k = run;
  k.push_back('\0');
  for (int shift = 56; shift >= 0; shift -= 8)
    k.push_back(static_cast<char>((seq >> shift) & 0xff));
  return k;
}

/// Writes a layout-1 directory: runs r1, r10 (sharing a prefix), r2 (with
/// gaps) and idle (no records); r2's seq 4 is stored damaged.
model write_layout1(const std::string& dir) {
  model m{{"r1", {}}, {"r10", {}}, {"r2", {}}, {"idle", {}}};
  raw_env raw{dir};
  auto runs = *raw.db("runs", true);
  auto journal = *raw.db("journal", true);
  for (auto& [run, seqs] : m) {
    raw.put(runs, run, detail::encode_run_meta(make_run(run)));
    if (run == "idle")
      continue;
    for (std::uint64_t seq = 1; seq <= 60; seq += (run == "r2" ? 3 : 1)) {
      auto bytes = encode_record(test_record(run, seq));
      if (run == "r2" && seq == 4)
        bytes[20] ^= 0x01;
      raw.put(journal, layout1_key(run, seq), bytes);
      seqs.push_back(seq);
    }
  }
  raw.commit();
  return m;
}

void check_all(const journal& j, const model& m) {
  for (auto& [run, seqs] : m) {
    CHECK(*j.last_seq(run) == (seqs.empty() ? 0 : seqs.back()));
    auto recs = run == "r2" ? j.read(run, 5) : j.read(run);
    REQUIRE(recs);
    std::size_t first = run == "r2" ? 2 : 0;  // r2 from seq 7 on: past the damage
    REQUIRE(recs->size() == seqs.size() - first);
    for (std::size_t i = 0; i < recs->size(); ++i) {
      CHECK((*recs)[i].seq == seqs[first + i]);
      CHECK((*recs)[i].rec == test_record(run, seqs[first + i]));
    }
  }
  auto damaged = j.read("r2");
  REQUIRE_FALSE(damaged);
  CHECK(damaged.error().code == errc::corrupt_record);
  CHECK_THAT(damaged.error().message, Catch::Contains("run r2 seq 4"));
}

/// Writes a layout-2 directory as endure 0.2 wrote it: runs a (seqs 1..40)
/// and b (every third seq) interleaved in a `log` database keyed by 8-byte
/// positions, each run's head in `heads`, layout 2 in `meta`.
model write_layout2(const std::string& dir) {
  model m{{"a", {}}, {"b", {}}};
  raw_env raw{dir};
  auto runs = *raw.db("runs", true);
  auto log = *raw.db("log", true);
  auto heads = *raw.db("heads", true);
  raw.put(*raw.db("meta", true), "layout", std::string("\0\0\0\2", 4));
  std::map<std::string, detail::run_head> head;
  std::uint64_t pos = 1;
  for (std::uint64_t seq = 1; seq <= 40; ++seq)
    for (std::string run : {"a", "b"}) {
      if (run == "b" && seq % 3 != 1)
        continue;
      auto envelope = encode_record(test_record(run, seq));
      detail::log_entry e{run, seq, head[run].last_pos, envelope};
      std::string value(detail::log_entry_size(e), '\0');
      detail::encode_log_entry(pos, e, value.data());
      raw.put(log, be64(pos), value);
      head[run] = {pos++, seq, m[run].empty() ? seq : m[run].front()};
      m[run].push_back(seq);
    }
  for (auto& [run, h] : head) {
    char value[detail::run_head_size];
    detail::encode_run_head(run, h, value);
    raw.put(heads, run, {value, sizeof value});
    raw.put(runs, run, detail::encode_run_meta(make_run(run)));
  }
  raw.commit();
  return m;
}

} // namespace

SCENARIO("a layout-2 directory is upgraded by the first writer open", "[layout]") {
  temp_dir dir;
  auto m = write_layout2(dir.path());
  auto ro = read_only_options(dir.path());
  auto refused = journal::open(ro);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message, Catch::Contains("layout 2")
                                        && Catch::Contains("open it once with a writer"));

  check_reads(*open_journal(dir.path()), m);
  {
    raw_env raw{dir.path()};  // (never two environments on one file at once)
    CHECK_FALSE(raw.db("log", false));
    CHECK(raw.log_entries() == m["a"].size() + m["b"].size());
    CHECK(raw.meta_number("layout") == 3);
    CHECK(raw.meta_number("heads_through") == raw.log_entries());
  }
  auto j = open_journal(dir.path());  // appends go on past the moved positions
  REQUIRE(append_all(*j, m, {{"a", 41}, {"b", 41}}));
  check_reads(*j, m);
  j.reset();
  check_reads(*open_journal(dir.path()), m);
  check_reads(*open_journal(ro), m);
}

SCENARIO("a layout-1 directory is upgraded by the first writer open", "[layout]") {
  temp_dir dir;
  auto m = write_layout1(dir.path());
  std::size_t records = 0;
  for (auto& [run, seqs] : m)
    records += seqs.size();

  WHEN("it is opened read-only first") {
    auto ro = read_only_options(dir.path());
    auto j = journal::open(ro);
    THEN("the open is refused with what to do") {
      REQUIRE_FALSE(j);
      CHECK(j.error().code == errc::invalid_argument);
      CHECK_THAT(j.error().message, Catch::Contains("layout 1")
                                      && Catch::Contains("open it once with a writer"));
    }
  }
  WHEN("a writer opens it") {
    {
      auto j = open_journal(dir.path());
      check_all(*j, m);
    }
    THEN("the records moved to the log, the old database is gone") {
      raw_env raw{dir.path()};
      CHECK_FALSE(raw.db("journal", false));
      CHECK_FALSE(raw.db("log", false));
      CHECK(raw.log_entries() == records);
      CHECK(raw.entries(*raw.db("heads", false)) == 3);
      CHECK(raw.meta_number("layout") == 3);
      CHECK(raw.meta_number("heads_through") == records);  // every head stored
    }
    THEN("a second open changes nothing, reads and appends go on") {
      auto j = open_journal(dir.path());
      check_all(*j, m);
      REQUIRE(append_all(*j, m, {{"r1", 61}, {"idle", 1}}));
      check_all(*j, m);
      j.reset();
      raw_env raw{dir.path()};
      CHECK(raw.log_entries() == records + 2);
    }
    THEN("a read-only open reads it") {
      auto ro = read_only_options(dir.path());
      check_all(*open_journal(ro), m);
    }
  }
}

SCENARIO("a newer layout is refused", "[layout]") {
  temp_dir dir;
  open_journal(dir.path());  // creates layout 3
  {
    raw_env raw{dir.path()};
    auto meta = *raw.db("meta", false);
    raw.put(meta, "layout", std::string("\0\0\0\5", 4));
    raw.commit();
  }
  for (bool read_only : {false, true}) {
    journal_options opts;
    opts.data_dir = dir.path();
    opts.read_only = read_only;
    auto j = journal::open(opts);
    REQUIRE_FALSE(j);
    CHECK(j.error().code == errc::newer_record_version);
    CHECK_THAT(j.error().message, Catch::Contains("layout 5"));
  }
}

SCENARIO("a directory is marked layout 4 while it has a write-ahead log", "[layout][wal]") {
  // Builds before durability wal read layout 3 at most (the scenario above
  // is theirs with 4): they refuse the directory instead of writing
  // data.mdb without its log, which a later recovery would roll back.
  temp_dir dir;
  auto log = std::filesystem::path{dir.path()} / "journal.wal";
  auto layout = [&] { return raw_env{dir.path()}.meta_number("layout"); };
  journal_options wal;
  wal.data_dir = dir.path();
  wal.mode = durability::wal;
  wal.wal_size = 128 * 1024;
  open_journal(wal);
  REQUIRE(std::filesystem::exists(log));
  CHECK(layout() == 4);
  CHECK(journal::open(read_only_options(dir.path())));  // this build reads it
  open_journal(wal);  // reopened: still marked
  CHECK(layout() == 4);
  open_journal(dir.path());  // sync: recovers, removes the log, marks layout 3
  CHECK_FALSE(std::filesystem::exists(log));
  CHECK(layout() == 3);
  WHEN("the mark outlived its log (a crash after the log went, a copy)") {
    open_journal(wal);
    std::filesystem::remove(log);
    THEN("a writer open in another mode marks it layout 3 again") {
      open_journal(dir.path());
      CHECK(layout() == 3);
    }
    THEN("a writer open in wal makes a new log and keeps the mark") {
      open_journal(wal);
      CHECK(std::filesystem::exists(log));
      CHECK(layout() == 4);
    }
  }
}
