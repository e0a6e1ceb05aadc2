// Group commit: many appenders share transactions, and every acknowledged
// append is durable and in place.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <thread>

#include "endure/persistence/journal.hpp"
#include "persistence/test_records.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;

SCENARIO("batches queued together share one commit", "[group_commit]") {
  temp_dir dir;
  auto j = open_journal(dir.path());
  REQUIRE(j->create_run_if_absent(make_run("r")));
  auto before = j->stats();
  constexpr int n = 1000;
  std::atomic<int> ok{0};
  std::promise<void> all_done;
  for (int i = 1; i <= n; ++i) {
    write_batch b;
    b.append("r", static_cast<std::uint64_t>(i), test_record("r", i));
    j->commit(std::move(b), [&, i](const expected<void>& r) {
      if (r)
        ++ok;
      if (i == n)
        all_done.set_value();  // completions run in queue order
    });
  }
  REQUIRE(all_done.get_future().wait_for(std::chrono::seconds{20}) == std::future_status::ready);
  auto after = j->stats();
  CHECK(ok == n);
  CHECK(after.batches - before.batches == n);
  // The writer takes everything queued at once: far fewer fsyncs than appends.
  CHECK(after.commits - before.commits < n / 2);
  CHECK(j->read("r")->size() == n);
}

SCENARIO("concurrent appenders on many runs all get their own acks", "[group_commit]") {
  temp_dir dir;
  auto j = open_journal(dir.path());
  constexpr int threads = 8, per_thread = 100;
  for (int t = 0; t < threads; ++t)
    REQUIRE(j->create_run_if_absent(make_run("run-" + std::to_string(t))));
  std::vector<std::thread> workers;
  std::atomic<int> failures{0};
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto run = "run-" + std::to_string(t);
      for (int seq = 1; seq <= per_thread; ++seq) {
        write_batch b;
        b.append(run, static_cast<std::uint64_t>(seq), test_record(run, seq));
        if (!j->commit(std::move(b)))
          ++failures;
      }
    });
  }
  for (auto& w : workers)
    w.join();
  CHECK(failures == 0);
  for (int t = 0; t < threads; ++t) {
    auto run = "run-" + std::to_string(t);
    auto recs = j->read(run);
    REQUIRE(recs->size() == per_thread);
    CHECK(recs->back().rec == test_record(run, per_thread));
  }
}

SCENARIO("closing the journal completes every queued batch", "[group_commit]") {
  temp_dir dir;
  std::atomic<int> acked{0};
  {
    auto j = open_journal(dir.path());
    REQUIRE(j->create_run_if_absent(make_run("r")));
    for (int i = 1; i <= 200; ++i) {
      write_batch b;
      b.append("r", static_cast<std::uint64_t>(i), test_record("r", i));
      j->commit(std::move(b), [&](const expected<void>& r) { acked += r ? 1 : 0; });
    }
  }  // destructor drains the queue
  CHECK(acked == 200);
  CHECK(open_journal(dir.path())->read("r")->size() == 200);
}

SCENARIO("each durability mode writes and reads back", "[group_commit]") {
  for (auto mode : {durability::sync, durability::nometasync, durability::nosync}) {
    temp_dir dir;
    journal_options opts;
    opts.data_dir = dir.path();
    opts.mode = mode;
    {
      auto j = open_journal(opts);
      REQUIRE(j->create_run_if_absent(make_run("r")));
      write_batch b;
      b.append("r", 1, test_record("r", 1));
      REQUIRE(j->commit(std::move(b)));
    }
    CHECK(open_journal(dir.path())->read("r")->size() == 1);
  }
}
