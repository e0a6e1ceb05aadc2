// journal::metrics(): the writer's commit histograms and the runs per
// status it keeps without scanning, which /metrics reports.
#include <catch2/catch.hpp>

#include <stdexcept>

#include "endure/persistence/journal.hpp"
#include "endure/persistence/metrics/counter.hpp"
#include "endure/persistence/metrics/histogram.hpp"
#include "persistence/test_records.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;

namespace {

journal_metrics metrics_of(const journal& j) {
  auto m = j.metrics();
  REQUIRE(m);
  return *m;
}

run_status_counts counts(std::uint64_t running, std::uint64_t waiting, std::uint64_t completed,
                         std::uint64_t failed = 0) {
  return {{running, waiting, completed, failed, 0, 0}};
}

} // namespace

SCENARIO("a histogram refuses bounds that are not finite and increasing", "[metrics]") {
  CHECK_THROWS_AS(metrics::histogram({1, 1}), std::invalid_argument);
  CHECK_THROWS_AS(metrics::histogram({2, 1}), std::invalid_argument);
  CHECK_THROWS_AS(metrics::histogram({1, INFINITY}), std::invalid_argument);
  CHECK_THROWS_AS(metrics::histogram({NAN}), std::invalid_argument);
}

SCENARIO("a histogram counts a value in the first bucket whose bound holds it", "[metrics]") {
  metrics::histogram h{1, 2, 5};
  for (double v : {-3.0, 1.0, 1.5, 2.0, 5.0, 5.1, 100.0})
    h.observe(v);
  h.observe(NAN);  // no bucket: ignored
  auto s = h.snapshot();
  CHECK(s.bounds == std::vector<double>{1, 2, 5});
  CHECK(s.counts == std::vector<std::uint64_t>{2, 2, 1, 2});  // le=1, le=2, le=5, +Inf
  CHECK(s.count() == 7);
  CHECK(s.sum == Approx(111.6));
}

SCENARIO("a counter adds", "[metrics]") {
  metrics::counter c;
  c.add();
  c.add(41);
  CHECK(c.value() == 42);
}

SCENARIO("the writer measures each commit and the batches in it", "[metrics][journal]") {
  temp_dir dir;
  auto j = open_journal(dir.path());
  auto before = metrics_of(*j);
  REQUIRE(before.commit_seconds.count() == 0);
  REQUIRE(j->create_run_if_absent(make_run("r")));
  write_batch b;
  b.append("r", 1, test_record("r", 1));
  REQUIRE(j->commit(std::move(b)));
  write_batch taken;  // seq 1 again: fails, so it is not in any transaction
  taken.append("r", 1, test_record("r", 1));
  REQUIRE_FALSE(j->commit(std::move(taken)));
  auto after = metrics_of(*j);
  auto commits = j->stats().commits;
  CHECK(after.commit_seconds.count() == commits);
  CHECK(after.commit_seconds.sum > 0);
  CHECK(after.batches_per_commit.count() == commits);
  // Each blocking commit went alone; the failed one wrote no batch.
  CHECK(after.batches_per_commit.sum == Approx(2.0));
  CHECK(after.failed_batches == 1);
}

SCENARIO("the journal keeps the runs per status as commits change them", "[metrics][journal]") {
  temp_dir dir;
  {
    auto j = open_journal(dir.path());
    CHECK(metrics_of(*j).runs.by_status == counts(0, 0, 0).by_status);
    for (auto id : {"a", "b", "c"})
      REQUIRE(j->create_run_if_absent(make_run(id)));
    REQUIRE(j->create_run_if_absent(make_run("a")));  // exists: no new run
    write_batch b;
    b.set_status("a", run_status::waiting, "", 1);
    b.set_status("b", run_status::completed, "", 1);
    REQUIRE(j->commit(std::move(b)));
    WHEN("a run that ended is set with unless_ended, or a batch fails") {
      write_batch keep;
      keep.set_status("b", run_status::quarantined, "crashed", 2, /*unless_ended*/ true);
      REQUIRE(j->commit(std::move(keep)));
      write_batch doomed;  // a status change in a batch that fails changes nothing
      doomed.set_status("c", run_status::failed, "", 2);
      doomed.set_status("nobody", run_status::failed, "", 2);
      REQUIRE_FALSE(j->commit(std::move(doomed)));
      THEN("the counts did not move") {
        CHECK(metrics_of(*j).runs.by_status == counts(1, 1, 1).by_status);
      }
    }
    CHECK(metrics_of(*j).runs.by_status == counts(1, 1, 1).by_status);
    CHECK(metrics_of(*j).runs.of(run_status::waiting) == 1);
  }
  WHEN("the directory is opened again, for writing or read-only") {
    auto ro = open_journal(read_only_options(dir.path()));
    CHECK(metrics_of(*ro).runs.by_status == counts(1, 1, 1).by_status);
    ro.reset();
    auto j = open_journal(dir.path());
    THEN("the counts are read back from the runs") {
      CHECK(metrics_of(*j).runs.by_status == counts(1, 1, 1).by_status);
    }
  }
}
