// kill -9 while appending: after every kill, every acknowledged record is
// present and intact, each run's records are contiguous (no partial record,
// no hole), and the next process continues where the last one stopped.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <sstream>

#include "endure/persistence/journal.hpp"
#include "persistence/acked_appends.hpp"
#include "persistence/test_records.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

void verify(const std::string& dir, const acked_map& acked) {
  auto j = open_journal(dir);
  verify_acked(*j, acked);
}

} // namespace

SCENARIO("acknowledged appends survive SIGKILL at random moments", "[crash]") {
  temp_dir dir;
  std::mt19937 rng{std::random_device{}()};
  acked_map acked;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  int kills = 0;
  for (int iter = 0; iter < 100 && std::chrono::steady_clock::now() < deadline; ++iter) {
    child_process child{{JOURNAL_CHILD_PATH, "append", dir.path(), "4"}};
    read_acks(child, 1 + rng() % 400, acked);
    child.kill_hard();
    ++kills;
    verify(dir.path(), acked);
  }
  CHECK(kills >= 10);
  CHECK(acked.size() == 4);
}
