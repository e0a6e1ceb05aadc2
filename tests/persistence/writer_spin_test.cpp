// journal_options::writer_spin: the writer polls for the next batch after
// a commit. Polling must never delay what it exists to speed up, nor hold
// the journal open, and a bad value is refused at open.
#include <catch2/catch.hpp>

#include <chrono>

#include "endure/persistence/journal.hpp"
#include "persistence/test_records.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

SCENARIO("a bad writer_spin is refused naming the option", "[journal]") {
  temp_dir dir;
  for (auto spin : {std::chrono::microseconds{-1}, std::chrono::microseconds{2'000'000}}) {
    auto j = journal::open({.data_dir = dir.path(), .writer_spin = spin});
    REQUIRE_FALSE(j);
    CHECK(j.error().code == errc::invalid_argument);
    CHECK_THAT(j.error().message, Catch::Contains("writer_spin"));
  }
}

SCENARIO("commits made while the writer polls are all durable", "[journal]") {
  temp_dir dir;
  for (auto spin : {0us, 50us, 5000us}) {
    auto run = "r" + std::to_string(spin.count());
    {
      auto j = open_journal({.data_dir = dir.path(), .mode = durability::nosync,
                             .writer_spin = spin});
      REQUIRE(j->create_run_if_absent(make_run(run)));
      // One at a time, as a run does: each commit is queued after the
      // previous one completed, i.e. while the writer polls (or sleeps).
      for (std::uint64_t seq = 1; seq <= 200; ++seq) {
        write_batch b;
        b.append(run, seq, test_record(run, seq));
        REQUIRE(j->commit(std::move(b)));
      }
    }
    auto j = open_journal(dir.path());
    auto recs = j->read(run);
    REQUIRE(recs);
    CHECK(recs->size() == 200);
  }
}

SCENARIO("closing the journal interrupts the writer's poll", "[journal]") {
  temp_dir dir;
  auto j = open_journal({.data_dir = dir.path(), .mode = durability::nosync,
                         .writer_spin = std::chrono::seconds{1}});
  REQUIRE(j->create_run_if_absent(make_run("r")));  // the writer now polls for 1 s
  auto t0 = std::chrono::steady_clock::now();
  j.reset();
  // Not a speed check: a close that waited out the poll would take 1 s.
  CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
}
