// kill -9 while appending: after every kill, every acknowledged record is
// present and intact, each run's records are contiguous (no partial record,
// no hole), and the next process continues where the last one stopped.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <sstream>

#include "endure/persistence/journal.hpp"
#include "persistence/test_records.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

void verify(const std::string& dir, const std::map<std::string, std::uint64_t>& acked) {
  auto j = open_journal(dir);
  for (auto& [run, max_acked] : acked) {
    auto recs = j->read(run);
    REQUIRE(recs);
    REQUIRE(recs->size() >= max_acked);
    for (std::size_t i = 0; i < recs->size(); ++i) {
      REQUIRE((*recs)[i].seq == i + 1);
      REQUIRE((*recs)[i].rec == test_record(run, i + 1));
    }
  }
}

} // namespace

SCENARIO("acknowledged appends survive SIGKILL at random moments", "[crash]") {
  temp_dir dir;
  std::mt19937 rng{std::random_device{}()};
  std::map<std::string, std::uint64_t> acked;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  int kills = 0;
  for (int iter = 0; iter < 100 && std::chrono::steady_clock::now() < deadline; ++iter) {
    child_process child{{JOURNAL_CHILD_PATH, "append", dir.path(), "4"}};
    auto wanted = 1 + rng() % 400;
    for (unsigned n = 0; n < wanted; ++n) {
      auto line = child.read_line(10s);
      REQUIRE(line);
      std::istringstream in{*line};
      std::string run;
      std::uint64_t seq = 0;
      in >> run >> seq;
      acked[run] = std::max(acked[run], seq);
    }
    child.kill_hard();
    ++kills;
    verify(dir.path(), acked);
  }
  CHECK(kills >= 10);
  CHECK(acked.size() == 4);
}
