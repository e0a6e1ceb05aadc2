// Layout 2: each run's records form a chain through the shared append-only
// log. Reads, write-once seqs and truncation, checked against a model of
// what was acknowledged, across many interleaved runs, batches and groups.
#include <catch2/catch.hpp>

#include <future>
#include <map>
#include <vector>

#include "endure/persistence/journal.hpp"
#include "persistence/journal_model.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;

namespace {

} // namespace

SCENARIO("interleaved runs and batches read back per run", "[log]") {
  temp_dir dir;
  model m;
  {
    auto j = open_journal(dir.path());
    constexpr int runs = 40;
    for (int r = 0; r < runs; ++r) {
      auto id = "run" + std::to_string(r);
      REQUIRE(j->create_run_if_absent(make_run(id)));
      m[id];
    }
    // 30 groups of 40 queued batches; batch b of a group appends two records
    // to run b, one to run b+1, then one more to run b (the writer reads a
    // run's head once for consecutive appends: coming back must reread it).
    // Odd runs skip seqs (gaps are allowed).
    std::map<std::string, std::uint64_t> next;
    for (int group = 0; group < 30; ++group) {
      std::vector<std::future<expected<void>>> done;
      for (int b = 0; b < runs; ++b) {
        write_batch batch;
        for (int k : {b, b, (b + 1) % runs, b}) {
          auto id = "run" + std::to_string(k);
          auto seq = next[id] += (k % 2 ? 2 : 1);
          batch.append(id, seq, test_record(id, seq));
          m[id].push_back(seq);
        }
        auto p = std::make_shared<std::promise<expected<void>>>();
        done.push_back(p->get_future());
        j->commit(std::move(batch), [p](const expected<void>& r) { p->set_value(r); });
      }
      for (auto& f : done) {
        REQUIRE(f.wait_for(std::chrono::seconds{10}) == std::future_status::ready);
        REQUIRE(f.get());
      }
    }
    check_reads(*j, m);
  }
  auto j = open_journal(dir.path());  // and after a reopen
  check_reads(*j, m);
  CHECK(j->read("nobody")->empty());
  CHECK(*j->last_seq("nobody") == 0);
}

SCENARIO("a seq at or below the run's last is refused and the batch writes nothing",
         "[log]") {
  temp_dir dir;
  auto j = open_journal(dir.path());
  for (auto id : {"a", "b"})
    REQUIRE(j->create_run_if_absent(make_run(id)));
  write_batch first;
  first.append("a", 1, test_record("a", 1));
  first.append("b", 1, test_record("b", 1));
  first.append("b", 5, test_record("b", 5));
  REQUIRE(j->commit(std::move(first)));

  for (std::uint64_t taken : {1, 3, 5}) {  // 3 was never written but is below 5
    write_batch batch;
    batch.append("a", 2, test_record("a", 2));
    batch.set_status("a", run_status::waiting, "x", 9);
    batch.append("b", taken, test_record("b", taken));
    auto r = j->commit(std::move(batch));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::already_exists);
    CHECK_THAT(r.error().message, Catch::Contains("run b seq " + std::to_string(taken)));
    CHECK(*j->last_seq("a") == 1);
    CHECK(j->read("a")->size() == 1);
    CHECK(j->run("a")->status == run_status::running);
    CHECK(j->read("b")->size() == 2);
  }
  WHEN("the same batch appends one seq twice") {
    write_batch twice;
    twice.append("a", 2, test_record("a", 2));
    twice.append("a", 2, test_record("a", 2));
    CHECK(j->commit(std::move(twice)).error().code == errc::already_exists);
    CHECK(*j->last_seq("a") == 1);
  }
  WHEN("seq 0 is appended") {
    write_batch zero;
    zero.append("a", 0, test_record("a", 0));
    CHECK(j->commit(std::move(zero)).error().code == errc::invalid_argument);
  }
  THEN("the next seq still goes in") {
    write_batch next;
    next.append("b", 6, test_record("b", 6));
    REQUIRE(j->commit(std::move(next)));
    CHECK(j->read("b", 5)->size() == 2);
  }
}

SCENARIO("truncate_before drops a run's older records and keeps the rest readable",
         "[log]") {
  temp_dir dir;
  auto j = open_journal(dir.path());
  model m;
  for (auto id : {"t", "u"}) {
    REQUIRE(j->create_run_if_absent(make_run(id)));
    write_batch b;
    for (std::uint64_t seq = 1; seq <= 20; seq += (std::string{id} == "t" ? 3 : 1)) {
      b.append(id, seq, test_record(id, seq));
      m[id].push_back(seq);
    }
    REQUIRE(j->commit(std::move(b)));
  }
  auto truncate = [&](std::uint64_t before) {
    write_batch b;
    b.truncate_before("t", before);
    REQUIRE(j->commit(std::move(b)));
    std::erase_if(m["t"], [&](std::uint64_t s) { return s < before; });
  };
  // t holds 1 4 7 10 13 16 19.
  truncate(6);   // between stored seqs: 7 becomes the lowest
  check_reads(*j, m);
  truncate(3);   // below the lowest: nothing changes
  truncate(13);  // on a stored seq
  check_reads(*j, m);

  WHEN("everything is truncated") {
    truncate(100);
    CHECK(j->read("t")->empty());
    CHECK(*j->last_seq("t") == 19);  // seqs keep increasing past a truncation
    CHECK(append_all(*j, m, {{"t", 19}}).error().code == errc::already_exists);
    REQUIRE(append_all(*j, m, {{"t", 21}, {"t", 22}}));
    check_reads(*j, m);
  }
  WHEN("one batch appends, truncates and appends again") {
    write_batch b;
    b.append("t", 20, test_record("t", 20));
    b.truncate_before("t", 20);
    b.append("t", 23, test_record("t", 23));
    REQUIRE(j->commit(std::move(b)));
    m["t"] = {20, 23};
    check_reads(*j, m);
  }
  WHEN("the journal is reopened") {
    j.reset();
    j = open_journal(dir.path());
    check_reads(*j, m);
    REQUIRE(append_all(*j, m, {{"t", 20}}));
    check_reads(*j, m);
  }
}
