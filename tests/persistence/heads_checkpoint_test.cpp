// Layout 3 writes run heads only at checkpoints; in between, a commit
// writes log entries alone. What a user relies on: a reader in another
// process (`endure inspect`) sees every acknowledged record while the writer
// still holds heads in memory; after SIGKILL the next open rebuilds the
// heads from the log's tail and appends go on; a damaged tail entry is
// reported for its run, or refuses the open with its position when it names
// no run; reads in the writer's own process see every acknowledged append
// while commits and checkpoints go on.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "endure/persistence/journal.hpp"
#include "persistence/journal_model.hpp"
#include "support/child_process.hpp"
#include "support/file_damage.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

/// What `journal_child fill` acknowledged before printing "written".
model filled() {
  model m;
  for (std::uint64_t seq = 1; seq <= 5; ++seq) {
    m["good"].push_back(seq);
    m["bad"].push_back(seq);
  }
  for (std::uint64_t seq = 8; seq <= 22; ++seq)
    m["t"].push_back(seq);
  return m;
}

/// Runs `journal_child fill` and SIGKILLs it once it has written: the heads
/// it moved since its last checkpoint are lost with it.
void fill_and_kill(const std::string& dir) {
  child_process writer{{JOURNAL_CHILD_PATH, "fill", dir, "4096"}};
  REQUIRE(writer.read_line(10s) == "written");
  writer.kill_hard();
}

} // namespace

SCENARIO("a reader in another process sees records past the heads checkpoint",
         "[log][checkpoint]") {
  // 1: every commit checkpoints; 20: t's 20 records are checkpointed, then
  // truncated and appended to past the checkpoint; 4096: the whole fill is
  // past the checkpoint.
  auto entries = GENERATE(1, 20, 4096);
  temp_dir dir;
  auto m = filled();
  child_process writer{{JOURNAL_CHILD_PATH, "fill", dir.path(), std::to_string(entries)}};
  REQUIRE(writer.read_line(10s) == "written");
  check_reads(*open_journal(read_only_options(dir.path())), m);

  WHEN("the writer is killed and the directory opened again") {
    writer.kill_hard();
    auto j = open_journal(dir.path());
    THEN("the heads are rebuilt from the log and appends go on") {
      check_reads(*j, m);
      CHECK(append_all(*j, m, {{"t", 22}}).error().code == errc::already_exists);
      REQUIRE(append_all(*j, m, {{"t", 23}, {"good", 6}}));
      check_reads(*j, m);
      j.reset();
      check_reads(*open_journal(read_only_options(dir.path())), m);
    }
  }
}

SCENARIO("a damaged log entry past the checkpoint is reported for its run",
         "[log][checkpoint][corruption]") {
  temp_dir dir;
  auto m = filled();
  m.erase("bad");
  fill_and_kill(dir.path());
  // -19 from the payload is the low byte of the entry's previous position
  // (see corruption_test): the header check fails, the run id and seq it
  // claims are intact. Seq 5 is bad's newest record: only the tail says
  // that the head must reach it.
  REQUIRE(flip_bit_near(dir.file("data.mdb"), "payload:bad:5:", -19) > 0);
  auto reported = [](const journal& j) {
    auto bad = j.read("bad");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == errc::corrupt_record);
    CHECK_THAT(bad.error().message, Catch::Contains("run bad seq 5")
                                      && Catch::Contains("log position 10")
                                      && Catch::Contains("checksum"));
  };
  {
    auto ro = open_journal(read_only_options(dir.path()));
    reported(*ro);
    check_reads(*ro, m);
  }
  for (int open = 0; open < 2; ++open) {  // the second one after a checkpoint
    auto j = open_journal(dir.path());
    reported(*j);
    check_reads(*j, m);
  }
}

SCENARIO("a damaged log entry that names no run refuses the open with its position",
         "[log][checkpoint][corruption]") {
  temp_dir dir;
  fill_and_kill(dir.path());
  // -17 from the payload is the first byte of the run id: "bad" claims "cad".
  REQUIRE(flip_bit_near(dir.file("data.mdb"), "payload:bad:3:", -17) > 0);
  auto j = journal::open({.data_dir = dir.path()});
  REQUIRE_FALSE(j);
  CHECK(j.error().code == errc::corrupt_record);
  CHECK_THAT(j.error().message, Catch::Contains("position 8")
                                  && Catch::Contains("names no known run")
                                  && Catch::Contains("backup"));
  auto ro = open_journal(read_only_options(dir.path()));
  CHECK(ro->read("good").error().code == errc::corrupt_record);
}

SCENARIO("reads in the writer's process see every acknowledged append",
         "[log][checkpoint]") {
  temp_dir dir;
  journal_options opts;
  opts.data_dir = dir.path();
  opts.mode = durability::nosync;
  opts.heads_checkpoint_entries = 64;  // many checkpoints during the test
  auto j = open_journal(opts);
  constexpr int threads = 4;
  constexpr std::uint64_t appends = 300;
  std::atomic<int> wrong{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t)
    writers.emplace_back([&, run = "w" + std::to_string(t)] {
      if (!j->create_run_if_absent(make_run(run)))
        ++wrong;
      for (std::uint64_t seq = 1; seq <= appends; ++seq) {
        write_batch b;
        b.append(run, seq, test_record(run, seq));
        if (!j->commit(std::move(b))) {
          ++wrong;
          continue;
        }
        auto recs = j->read(run);
        auto last = j->last_seq(run);
        if (!recs || recs->size() != seq || recs->back().seq != seq || !last || *last != seq)
          ++wrong;
      }
    });
  for (auto& w : writers)
    w.join();
  CHECK(wrong == 0);
}
