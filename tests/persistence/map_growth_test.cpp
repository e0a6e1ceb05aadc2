// MDB_MAP_FULL: the map grows up to its configured maximum; past it writes
// fail with errc::map_full and nothing acknowledged is lost.
#include <catch2/catch.hpp>

#include "endure/persistence/journal.hpp"
#include "persistence/test_records.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;

namespace {

// One batch of 100 records of 2 KiB each (~200 KiB).
write_batch big_batch(const std::string& run, std::uint64_t first_seq) {
  write_batch b;
  for (std::uint64_t s = first_seq; s < first_seq + 100; ++s)
    b.append(run, s, record{test_tag, 1, std::string(2048, static_cast<char>('a' + s % 26))});
  return b;
}

} // namespace

SCENARIO("the map grows as the journal fills", "[map]") {
  temp_dir dir;
  journal_options opts;
  opts.data_dir = dir.path();
  opts.initial_map_size = 1 << 20;
  opts.max_map_size = 256 << 20;
  auto j = open_journal(opts);
  REQUIRE(j->create_run_if_absent(make_run("r")));
  for (std::uint64_t i = 0; i < 50; ++i)  // ~10 MiB
    REQUIRE(j->commit(big_batch("r", 1 + i * 100)));
  CHECK(j->stats().map_size > opts.initial_map_size);
  CHECK(j->read("r")->size() == 5000);
}

SCENARIO("a full map at the maximum fails the write and keeps the rest", "[map]") {
  temp_dir dir;
  journal_options opts;
  opts.data_dir = dir.path();
  opts.initial_map_size = 1 << 20;
  opts.max_map_size = 4 << 20;
  std::uint64_t acked = 0;
  {
    auto j = open_journal(opts);
    REQUIRE(j->create_run_if_absent(make_run("r")));
    expected<void> r;
    for (int i = 0; i < 100 && r; ++i) {  // 20 MiB would be needed: must fail
      r = j->commit(big_batch("r", acked + 1));
      if (r)
        acked += 100;
    }
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::map_full);
    CHECK_THAT(r.error().message, Catch::Contains("max_map_size"));
    CHECK(acked > 0);
    CHECK(j->read("r")->size() == acked);
  }
  auto j = open_journal(opts);
  CHECK(j->read("r")->size() == acked);
}
