// The journal's API against real LMDB files: runs, appends, reads, status,
// snapshots, truncation, timers, and everything surviving a reopen.
#include <catch2/catch.hpp>

#include <future>

#include "endure/persistence/journal.hpp"
#include "persistence/test_records.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;

SCENARIO("a run's records are read back in seq order after a reopen", "[journal]") {
  temp_dir dir;
  {
    auto j = open_journal(dir.path());
    REQUIRE(j->create_run_if_absent(make_run("r1")));
    REQUIRE(j->create_run_if_absent(make_run("r10")));
    write_batch b;
    for (std::uint64_t seq = 1; seq <= 300; ++seq) {
      b.append("r1", seq, test_record("r1", seq));
      b.append("r10", seq, test_record("r10", seq));
    }
    REQUIRE(j->commit(std::move(b)));
  }
  auto j = open_journal(dir.path());
  auto recs = j->read("r1");
  REQUIRE(recs);
  REQUIRE(recs->size() == 300);  // r10's keys share the prefix "r1" but not "r1\0"
  for (std::size_t i = 0; i < recs->size(); ++i) {
    CHECK((*recs)[i].seq == i + 1);
    CHECK((*recs)[i].rec == test_record("r1", i + 1));
  }
  auto tail = j->read("r1", 299);
  REQUIRE(tail);
  CHECK(tail->size() == 2);
  CHECK(j->read("r1", 1, 5)->size() == 5);
  CHECK(*j->last_seq("r1") == 300);
  CHECK(*j->last_seq("r10") == 300);
  CHECK(*j->last_seq("r") == 0);
  CHECK(j->read("nobody")->empty());
}

SCENARIO("creating a run is idempotent by run id", "[journal]") {
  temp_dir dir;
  auto j = open_journal(dir.path());
  auto first = j->create_run_if_absent(make_run("same", "wf-a"));
  REQUIRE(first);
  auto second = j->create_run_if_absent(make_run("same", "wf-b"));
  REQUIRE(second);
  CHECK(second->workflow == "wf-a");
  CHECK(j->list_runs()->size() == 1);
}

SCENARIO("bad input is refused with a clear error, nothing else is lost", "[journal]") {
  temp_dir dir;
  auto j = open_journal(dir.path());
  REQUIRE(j->create_run_if_absent(make_run("r1")));
  write_batch ok;
  ok.append("r1", 1, test_record("r1", 1));
  REQUIRE(j->commit(std::move(ok)));

  WHEN("a seq is written twice") {
    write_batch again;
    again.append("r1", 1, record{test_tag, 1, "other"});
    auto r = j->commit(std::move(again));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::already_exists);
    CHECK_THAT(r.error().message, Catch::Contains("run r1 seq 1"));
    CHECK(j->read("r1")->at(0).rec == test_record("r1", 1));
  }
  WHEN("a record goes to a run that does not exist") {
    write_batch b;
    b.append("ghost", 1, test_record("ghost", 1));
    auto r = j->commit(std::move(b));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::not_found);
    CHECK_THAT(r.error().message, Catch::Contains("ghost"));
  }
  WHEN("the run id is malformed") {
    CHECK(j->create_run_if_absent(make_run("")).error().code == errc::invalid_argument);
    CHECK(j->create_run_if_absent(make_run(std::string("a\0b", 3))).error().code
          == errc::invalid_argument);
    CHECK(j->create_run_if_absent(make_run(std::string(201, 'x'))).error().code
          == errc::invalid_argument);
    for (auto* forged : {"a\nrun b: completed", "a\tb", "a\x1b[2Jb", "a\x7f"})
      CHECK(j->create_run_if_absent(make_run(forged)).error().code == errc::invalid_argument);
    CHECK(j->create_run_if_absent(make_run("caf\xc3\xa9-run/2")));  // UTF-8 and '/' are fine
  }
  WHEN("the status of an unknown run is set") {
    write_batch b;
    b.set_status("ghost", run_status::failed, "x", 5);
    CHECK(j->commit(std::move(b)).error().code == errc::not_found);
  }
  WHEN("one batch of a group fails") {
    // Queue both before either commits: the good one must still land.
    std::promise<expected<void>> bad_done, good_done;
    write_batch bad, good;
    bad.append("r1", 1, test_record("r1", 1));
    good.append("r1", 2, test_record("r1", 2));
    j->commit(std::move(bad), [&](const expected<void>& r) { bad_done.set_value(r); });
    j->commit(std::move(good), [&](const expected<void>& r) { good_done.set_value(r); });
    auto bad_result = bad_done.get_future(), good_result = good_done.get_future();
    REQUIRE(bad_result.wait_for(std::chrono::seconds{10}) == std::future_status::ready);
    REQUIRE(good_result.wait_for(std::chrono::seconds{10}) == std::future_status::ready);
    CHECK_FALSE(bad_result.get());
    CHECK(good_result.get());
    CHECK(*j->last_seq("r1") == 2);
  }
}

SCENARIO("run status is stored and listed by status", "[journal]") {
  temp_dir dir;
  {
    auto j = open_journal(dir.path());
    for (auto id : {"a", "b", "c"})
      REQUIRE(j->create_run_if_absent(make_run(id)));
    write_batch b;
    b.set_status("b", run_status::completed, "", 2000);
    b.set_status("c", run_status::quarantined, "crashed 5 times in step draft", 3000);
    REQUIRE(j->commit(std::move(b)));
  }
  auto j = open_journal(dir.path());
  auto running = j->list_runs(run_status::running);
  REQUIRE(running->size() == 1);
  CHECK(running->at(0).id == "a");
  auto q = j->run("c");
  REQUIRE(q);
  CHECK(q->status == run_status::quarantined);
  CHECK(q->detail == "crashed 5 times in step draft");
  CHECK(q->updated_at_ms == 3000);
  CHECK(q->created_at_ms == 1000);
  CHECK(j->run("zzz").error().code == errc::not_found);
  CHECK(j->list_runs()->size() == 3);
}

SCENARIO("a snapshot lets the records before it be truncated", "[journal]") {
  temp_dir dir;
  auto j = open_journal(dir.path());
  REQUIRE(j->create_run_if_absent(make_run("r")));
  REQUIRE(j->create_run_if_absent(make_run("s")));
  write_batch b;
  for (std::uint64_t seq = 1; seq <= 10; ++seq) {
    b.append("r", seq, test_record("r", seq));
    b.append("s", seq, test_record("s", seq));
  }
  REQUIRE(j->commit(std::move(b)));
  CHECK_FALSE(*j->snapshot("r"));

  write_batch snap;
  snap.put_snapshot("r", 7, "state-after-7");
  snap.truncate_before("r", 8);
  REQUIRE(j->commit(std::move(snap)));

  auto s = j->snapshot("r");
  REQUIRE(*s);
  CHECK((*s)->seq == 7);
  CHECK((*s)->state == "state-after-7");
  auto rest = j->read("r");
  REQUIRE(rest->size() == 3);
  CHECK(rest->front().seq == 8);
  CHECK(*j->last_seq("r") == 10);
  CHECK(j->read("s")->size() == 10);  // other runs untouched
}

SCENARIO("timers come back in due order", "[journal]") {
  temp_dir dir;
  auto j = open_journal(dir.path());
  write_batch b;
  b.put_timer({5000, "late", 1});
  b.put_timer({-20, "before-epoch", 2});
  b.put_timer({1000, "early", 3});
  b.put_timer({1000, "early", 4});
  REQUIRE(j->commit(std::move(b)));
  auto due = j->due_timers(1000, 10);
  REQUIRE(due);
  REQUIRE(due->size() == 3);
  CHECK(due->at(0) == timer_entry{-20, "before-epoch", 2});
  CHECK(due->at(1) == timer_entry{1000, "early", 3});
  CHECK(due->at(2) == timer_entry{1000, "early", 4});
  CHECK(j->due_timers(1000, 1)->size() == 1);

  write_batch erase;
  erase.erase_timer({1000, "early", 3});
  erase.erase_timer({1, "never-set", 1});  // erasing a missing timer is fine
  REQUIRE(j->commit(std::move(erase)));
  CHECK(j->due_timers(10000, 10)->size() == 3);
}

SCENARIO("a read-only journal reads but refuses writes", "[journal]") {
  temp_dir dir;
  auto writer = open_journal(dir.path());
  REQUIRE(writer->create_run_if_absent(make_run("r")));
  auto ro = read_only_options(dir.path());
  auto reader = open_journal(ro);  // works while the writer holds the lock
  CHECK(reader->run("r"));
  write_batch b;
  b.set_status("r", run_status::failed, "", 1);
  CHECK(reader->commit(std::move(b)).error().code == errc::invalid_argument);
}

SCENARIO("a spliced batch commits both batches' operations as one, in order", "[journal]") {
  temp_dir dir;
  auto j = open_journal(dir.path());
  REQUIRE(j->create_run_if_absent(make_run("r1")));
  write_batch first, second;
  first.append("r1", 1, test_record("r1", 1));
  second.append("r1", 2, test_record("r1", 2));
  second.set_status("r1", run_status::waiting, "parked", 5);
  first.splice(std::move(second));
  CHECK(first.size() == 3);
  CHECK(second.empty());
  CHECK(first.ops()[1].number == 2);

  WHEN("one of the spliced operations fails") {
    write_batch bad;
    bad.append("r1", 3, test_record("r1", 3));
    write_batch taken;
    taken.append("r1", 1, test_record("r1", 1));  // seq 1 is written by `first`
    bad.splice(std::move(taken));
    REQUIRE(j->commit(std::move(first)));
    THEN("none of them is written") {
      CHECK_FALSE(j->commit(std::move(bad)));
      CHECK(*j->last_seq("r1") == 2);
      CHECK(j->run("r1")->status == run_status::waiting);
    }
  }
}
