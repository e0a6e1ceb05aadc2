// A byte flipped on disk is found by the record checksum: the read names the
// damaged run and seq, and every other run reads fine.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

#include "persistence/journal.hpp"
#include "persistence/test_records.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;

namespace {

void flip_byte_after(const std::string& file, const std::string& marker) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto pos = data.find(marker);
  REQUIRE(pos != std::string::npos);
  REQUIRE(data.find(marker, pos + 1) == std::string::npos);
  auto target = pos + marker.size() + 3;
  f.seekp(static_cast<std::streamoff>(target));
  f.put(static_cast<char>(data[target] ^ 0x01));
}

} // namespace

SCENARIO("a damaged record is reported with its run and seq", "[corruption]") {
  temp_dir dir;
  {
    auto j = open_journal(dir.path());
    for (auto run : {"good", "bad"}) {
      REQUIRE(j->create_run_if_absent(make_run(run)));
      write_batch b;
      for (std::uint64_t seq = 1; seq <= 5; ++seq)
        b.append(run, seq, test_record(run, seq));
      REQUIRE(j->commit(std::move(b)));
    }
  }
  flip_byte_after(dir.file("data.mdb"), "payload:bad:3:");

  auto j = open_journal(dir.path());
  auto bad = j->read("bad");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::corrupt_record);
  CHECK_THAT(bad.error().message, Catch::Contains("run bad seq 3"));
  // Records before the damage are still readable on their own.
  CHECK(j->read("bad", 1, 2)->size() == 2);
  CHECK(j->read("bad", 4)->size() == 2);
  auto good = j->read("good");
  REQUIRE(good);
  CHECK(good->size() == 5);
}
