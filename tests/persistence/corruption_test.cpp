// A byte flipped on disk is found by a checksum (the record envelope's, a
// log entry header's, a run head's): the read names the damaged run and the
// seq (or where the seq cannot be trusted, the log position and the last
// good seq), and every other run reads fine.
#include <catch2/catch.hpp>

#include <filesystem>

#include "endure/persistence/journal.hpp"
#include "persistence/journal_model.hpp"
#include "support/file_damage.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;

namespace {

/// Damages the byte `offset` bytes from `marker`, which the test wrote once.
void flip_byte_at(const std::string& file, const std::string& marker, long offset) {
  REQUIRE(flip_bit_near(file, marker, offset) > 0);
}

/// Runs good and bad with seqs 1..5 each, one commit per run: good takes log
/// positions 1..5, bad 6..10.
void write_two_runs(const std::string& dir) {
  auto j = open_journal(dir);
  for (auto run : {"good", "bad"}) {
    REQUIRE(j->create_run_if_absent(make_run(run)));
    write_batch b;
    for (std::uint64_t seq = 1; seq <= 5; ++seq)
      b.append(run, seq, test_record(run, seq));
    REQUIRE(j->commit(std::move(b)));
  }
}

void check_good_run(const journal& j) {
  auto good = j.read("good");
  REQUIRE(good);
  CHECK(good->size() == 5);
  CHECK(*j.last_seq("good") == 5);
}

} // namespace

SCENARIO("a damaged record is reported with its run and seq", "[corruption]") {
  temp_dir dir;
  write_two_runs(dir.path());
  auto marker = std::string{"payload:bad:3:"};
  flip_byte_at(dir.file("data.mdb"), marker, static_cast<long>(marker.size()) + 3);

  auto j = open_journal(dir.path());
  auto bad = j->read("bad");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::corrupt_record);
  CHECK_THAT(bad.error().message, Catch::Contains("run bad seq 3"));
  // Records before the damage are still readable on their own.
  CHECK(j->read("bad", 1, 2)->size() == 2);
  CHECK(j->read("bad", 4)->size() == 2);
  check_good_run(*j);
}

SCENARIO("a damaged log entry header is reported with its run and position",
         "[corruption]") {
  temp_dir dir;
  write_two_runs(dir.path());
  // The envelope (6 bytes before the payload: array, format, tag, schema,
  // bin marker, length) follows the header check (8), run id (3), its length
  // (1), prev (8) and seq (8): -27 is the low byte of bad seq 3's seq field.
  flip_byte_at(dir.file("data.mdb"), "payload:bad:3:", -27);

  auto j = open_journal(dir.path());
  auto bad = j->read("bad");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::corrupt_record);
  CHECK_THAT(bad.error().message, Catch::Contains("run bad")
                                    && Catch::Contains("before seq 4")
                                    && Catch::Contains("log position 8")
                                    && Catch::Contains("checksum"));
  CHECK(j->read("bad", 4)->size() == 2);
  CHECK(*j->last_seq("bad") == 5);
  check_good_run(*j);
}

SCENARIO("a damaged run head is reported with its run", "[corruption]") {
  temp_dir dir;
  write_two_runs(dir.path());
  // bad's head: key "bad", then last position 10, last seq 5, lowest seq 1.
  auto head = "bad" + be64(10) + be64(5) + be64(1);
  flip_byte_at(dir.file("data.mdb"), head, static_cast<long>(head.size()) - 1);

  auto j = open_journal(dir.path());
  auto bad = j->read("bad");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::corrupt_record);
  CHECK_THAT(bad.error().message, Catch::Contains("run bad head is damaged"));
  CHECK(j->last_seq("bad").error().code == errc::corrupt_record);
  write_batch b;  // nothing is appended on top of a head that cannot be trusted
  b.append("bad", 6, test_record("bad", 6));
  CHECK(j->commit(std::move(b)).error().code == errc::corrupt_record);
  check_good_run(*j);
}

SCENARIO("a journal file cut short is refused at open naming the file", "[corruption]") {
  temp_dir dir;
  write_two_runs(dir.path());
  // Without the check LMDB maps the short file and the first read of a
  // missing page kills the process with SIGBUS.
  std::filesystem::resize_file(dir.file("data.mdb"), 8192);  // the two meta pages
  for (bool read_only : {false, true}) {
    INFO("read_only " << read_only);
    auto j = journal::open({.data_dir = dir.path(), .read_only = read_only});
    REQUIRE_FALSE(j);
    CHECK(j.error().code == errc::corrupt_record);
    CHECK_THAT(j.error().message, Catch::Contains("data.mdb is 8192 bytes")
                                    && Catch::Contains("cut short"));
  }
}
