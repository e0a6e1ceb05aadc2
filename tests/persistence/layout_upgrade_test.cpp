// A data directory written with layout 1 (records in the `journal` database
// keyed run 0x00 seq) is upgraded to layout 2 by the first writer open with
// every record kept; later opens change nothing; read-only opens of an old
// directory and any open of a newer layout are refused with a clear error.
// The old layout is written here with raw LMDB, as endure 0.x wrote it.
#include <catch2/catch.hpp>
#include <lmdb.h>

#include <map>

#include "persistence/detail/run_meta_codec.hpp"
#include "persistence/journal.hpp"
#include "persistence/test_records.hpp"
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

using model = std::map<std::string, std::vector<std::uint64_t>>;

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

} // namespace

SCENARIO("a layout-1 directory is upgraded by the first writer open", "[layout]") {
  temp_dir dir;
  auto m = write_layout1(dir.path());
  std::size_t records = 0;
  for (auto& [run, seqs] : m)
    records += seqs.size();

  WHEN("it is opened read-only first") {
    journal_options ro;
    ro.data_dir = dir.path();
    ro.read_only = true;
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
      CHECK(raw.entries(*raw.db("log", false)) == records);
      CHECK(raw.entries(*raw.db("heads", false)) == 3);
    }
    THEN("a second open changes nothing, reads and appends go on") {
      auto j = open_journal(dir.path());
      check_all(*j, m);
      write_batch b;
      b.append("r1", 61, test_record("r1", 61));
      b.append("idle", 1, test_record("idle", 1));
      REQUIRE(j->commit(std::move(b)));
      m["r1"].push_back(61);
      m["idle"].push_back(1);
      check_all(*j, m);
      j.reset();
      raw_env raw{dir.path()};
      CHECK(raw.entries(*raw.db("log", false)) == records + 2);
    }
    THEN("a read-only open reads it") {
      journal_options ro;
      ro.data_dir = dir.path();
      ro.read_only = true;
      check_all(*open_journal(ro), m);
    }
  }
}

SCENARIO("a newer layout is refused", "[layout]") {
  temp_dir dir;
  open_journal(dir.path());  // creates layout 2
  {
    raw_env raw{dir.path()};
    auto meta = *raw.db("meta", false);
    raw.put(meta, "layout", std::string("\0\0\0\3", 4));
    raw.commit();
  }
  for (bool read_only : {false, true}) {
    journal_options opts;
    opts.data_dir = dir.path();
    opts.read_only = read_only;
    auto j = journal::open(opts);
    REQUIRE_FALSE(j);
    CHECK(j.error().code == errc::newer_record_version);
    CHECK_THAT(j.error().message, Catch::Contains("layout 3"));
  }
}
