// The escalation matrix's store over real LMDB files: a matrix restored
// from the journal decides exactly as the one that wrote it (inputs,
// budget window, outcomes, refits); a graph checkpoint means a start
// inserts only the inputs since it; a damaged checkpoint or row is
// survived (rebuilt, skipped and counted); an outcome is recorded once
// per decision key.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "endure/actors/escalation/matrix_json.hpp"
#include "endure/actors/escalation/store.hpp"
#include "endure/persistence/journal.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::escalation;
using Catch::Detail::Approx;

namespace {

matrix_options small() {
  matrix_options o;
  o.novelty.dim = 32;
  o.exploration = 0.1;
  o.grey_zone = 0;
  o.min_labels = 10;
  o.refit_every = 5;
  o.threshold.mode = threshold_options::kind::budget;
  o.threshold.max_rate = 0.3;
  o.threshold.warmup = 5;
  o.threshold.window = 40;
  return o;
}

std::unique_ptr<journal> open_journal(const std::string& dir) {
  auto j = journal::open({.data_dir = dir, .mode = durability::nosync});
  REQUIRE(j);
  register_record_types((*j)->types());
  return std::move(*j);
}

proposal nth(int i) {
  proposal p;
  p.task_type = i % 3 ? "refund" : "refund/eu";
  p.input = "order " + std::to_string(i % 23) + " for customer " + std::to_string(i % 7);
  p.confidence = 0.5 + (i % 5) / 10.0;
  p.reasoning = i % 4 ? "" : "I think this is probably right";
  return p;
}

/// Drives `m` through `n` decisions (from `first`), committing what the
/// escalation actor commits; every third escalated decision is answered.
void drive(matrix& m, matrix_store& rows, journal& j, int first, int n) {
  for (int i = first; i < first + n; ++i) {
    auto p = nth(i);
    std::vector<float> unit;
    auto a = m.assess(p, &unit);
    REQUIRE(a);
    a->decision_key = "run/" + std::to_string(i);
    REQUIRE(j.commit(rows.assessment_rows(p.task_type, unit, *a)));
    if (a->decision == decision::escalate || i % 4 == 0) {
      outcome o{p.task_type, a->features, a->score, a->decision, a->propensity, p.confidence,
                (i % 3 == 0) ? 1.0 : 0.0};
      auto refit = m.record(o);
      REQUIRE(j.commit(rows.outcome_rows(a->decision_key, o, refit)));
    }
    REQUIRE(rows.checkpoint(m));
  }
}

/// A matrix driven through `n` decisions with its store in `dir`, the
/// journal closed after (what a stopped actor leaves).
std::unique_ptr<matrix> written(const test::temp_dir& dir, std::uint64_t checkpoint_every, int n,
                                const matrix_options& options = small()) {
  auto j = open_journal(dir.path());
  auto a = std::make_unique<matrix>(options);
  matrix_store rows(*j, {.graph_dir = {}, .checkpoint_every = checkpoint_every});
  drive(*a, rows, *j, 0, n);
  return a;
}

/// A new matrix restored from the store in `dir`, and what restore found.
std::pair<std::unique_ptr<matrix>, restore_report> restored(
  const test::temp_dir& dir, std::uint64_t checkpoint_every, const matrix_options& options = small()) {
  auto j = open_journal(dir.path());
  auto b = std::make_unique<matrix>(options);
  matrix_store rows(*j, {.graph_dir = {}, .checkpoint_every = checkpoint_every});
  auto report = rows.restore(*b);
  REQUIRE(report);
  return {std::move(b), *report};
}

/// The next `n` assessments of `a` and `b` are the same.
void same_decisions(matrix& a, matrix& b, int first, int n) {
  for (int i = first; i < first + n; ++i) {
    auto x = a.assess(nth(i));
    auto y = b.assess(nth(i));
    REQUIRE(x);
    REQUIRE(y);
    INFO("decision " << i);
    CHECK(y->score == Approx(x->score));
    CHECK(y->threshold == Approx(x->threshold));
    CHECK(y->features.novelty == Approx(x->features.novelty));
    CHECK(y->decision == x->decision);
    CHECK(y->explored == x->explored);
    CHECK(y->input_id == x->input_id);
    CHECK(y->model_version == x->model_version);
  }
}

} // namespace

SCENARIO("a matrix restored from the journal decides as the one that wrote it",
         "[escalation][store]") {
  test::temp_dir dir;
  auto a = written(dir, 0, 150);
  REQUIRE(a->model_version() > 2);
  auto [b, report] = restored(dir, 0);
  CHECK(report.inputs == 150);
  CHECK(report.inserted == 150);
  CHECK(report.outcomes == a->labels());
  CHECK(report.refit_version == a->model_version());
  CHECK(report.damaged_rows == 0);
  CHECK(b->labels() == a->labels());
  same_decisions(*a, *b, 150, 40);
}

SCENARIO("with a graph checkpoint a start inserts only the inputs since it",
         "[escalation][store]") {
  test::temp_dir dir;
  auto a = written(dir, 50, 120);
  // Only the last checkpoint's files are left.
  std::size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path() + "/escalation"))
    files += e.path().filename().string().find("novelty-100-") == 0 ? 1 : 1000;
  CHECK(files == 2);  // one graph per task type

  auto [b, report] = restored(dir, 50);
  CHECK(report.checkpoint_through == 100);
  CHECK(report.checkpoint_problem.empty());
  CHECK(report.inputs == 120);
  CHECK(report.inserted == 20);
  same_decisions(*a, *b, 120, 30);
}

SCENARIO("a damaged checkpoint file: the graphs are rebuilt from the journal",
         "[escalation][store]") {
  test::temp_dir dir;
  auto a = written(dir, 50, 60);
  for (auto& e : std::filesystem::directory_iterator(dir.path() + "/escalation")) {
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x5a');
  }
  auto [b, report] = restored(dir, 50);
  CHECK_THAT(report.checkpoint_problem, Catch::Contains("novelty-50-"));
  CHECK(report.checkpoint_through == 0);
  CHECK(report.inserted == 60);
  same_decisions(*a, *b, 60, 20);
}

SCENARIO("a restore sees every row queued before it and not only those committed yet",
         "[escalation][store]") {
  // The escalation actor queues an input row and answers at once; an actor
  // restarted by its supervisor (rest_for_one: a sibling crashed) restores
  // while that row may still wait in the writer's queue. Missing it, the
  // new actor would give the next input the same id and overwrite it.
  test::temp_dir dir;
  auto j = journal::open({.data_dir = dir.path(), .mode = durability::sync});
  REQUIRE(j);
  register_record_types((*j)->types());
  matrix a(small());
  matrix_store rows(**j, {.graph_dir = {}, .checkpoint_every = 0});
  constexpr int queued = 40;
  for (int i = 0; i < queued; ++i) {
    auto p = nth(i);
    std::vector<float> unit;
    auto d = a.assess(p, &unit);
    REQUIRE(d);
    d->decision_key = "run/" + std::to_string(i);
    (*j)->commit(rows.assessment_rows(p.task_type, unit, *d), [](const expected<void>&) {});
  }
  matrix b(small());
  matrix_store again(**j, {.graph_dir = {}, .checkpoint_every = 0});
  auto report = again.restore(b);
  REQUIRE(report);
  CHECK(report->inputs == queued);
  CHECK(b.last_input_id() == a.last_input_id());
  j->reset();
  auto reader = journal::open({.data_dir = dir.path(), .read_only = true});
  REQUIRE(reader);  // `endure inspect`'s kind of journal: no writer to wait for
  register_record_types((*reader)->types());
  matrix c(small());
  matrix_store inspecting(**reader, {.graph_dir = {}, .checkpoint_every = 0});
  auto read = inspecting.restore(c);
  REQUIRE(read);
  CHECK(read->inputs == queued);
}

SCENARIO("a damaged input row is skipped and counted, the rest restores",
         "[escalation][store]") {
  test::temp_dir dir;
  auto j = open_journal(dir.path());
  matrix a(small());
  matrix_store rows(*j, {.graph_dir = {}, .checkpoint_every = 0});
  drive(a, rows, *j, 0, 30);
  write_batch bad;  // row 31: a valid envelope around bytes that are no input
  bad.put_row(side_table::escalation_inputs, std::string("\0\0\0\0\0\0\0\x1f", 8),
              record{input_row_tag, 1, "not msgpack of an input"});
  REQUIRE(j->commit(std::move(bad)));
  matrix b(small());
  matrix_store again(*j, {.graph_dir = {}, .checkpoint_every = 0});
  auto report = again.restore(b);
  REQUIRE(report);
  CHECK(report->damaged_rows == 1);
  CHECK(report->inputs == 30);
  CHECK(b.last_input_id() == 30);
}

SCENARIO("an outcome is recorded once per decision key", "[escalation][store]") {
  test::temp_dir dir;
  auto j = open_journal(dir.path());
  matrix m(small());
  matrix_store rows(*j, {});
  outcome o{"refund", {0.5, 0.5, 0.5}, 0.5, decision::escalate, 1, 0.9, 1};
  CHECK_FALSE(*rows.has_outcome("run-1/4"));
  REQUIRE(j->commit(rows.outcome_rows("run-1/4", o, std::nullopt)));
  CHECK(*rows.has_outcome("run-1/4"));
  auto twice = j->commit(rows.outcome_rows("run-1/4", o, std::nullopt));
  REQUIRE_FALSE(twice);
  CHECK(twice.error().code == errc::already_exists);
  CHECK(*j->count_rows(side_table::escalation_outcomes, "") == 1);
}

SCENARIO("the matrix's values survive their JSON form, and bad fields are named",
         "[escalation][store]") {
  matrix m(small());
  auto a = m.assess(nth(1));
  REQUIRE(a);
  a->decision_key = "r/3";
  auto back = assessment_from_json(to_json_text(*a));
  REQUIRE(back);
  CHECK(back->score == Approx(a->score));
  CHECK(back->decision_key == "r/3");
  a->decision_key = "caf\xe9/3";  // a run id of any bytes: kept exactly
  CHECK(assessment_from_json(to_json_text(*a))->decision_key == "caf\xe9/3");
  CHECK(back->input_id == a->input_id);
  CHECK(back->uncertainty.stated_confidence == a->uncertainty.stated_confidence);
  auto bad = proposal_from_json(R"({"task_type": "t", "input": 7})");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "proposal: input: must be a string");
  auto out_of_range = outcome_from_json(
    R"({"task_type":"t","features":{"uncertainty":0,"novelty":0,"benefit":0},"score":0.1,)"
    R"("decision":"proceed","propensity":0.95,"changed":3})");
  REQUIRE_FALSE(out_of_range);
  CHECK(out_of_range.error().message == "outcome: changed: must be in [0, 1]");
}

SCENARIO("an assessment escalated because a number is not one survives its JSON form",
         "[escalation][store]") {
  // Bad options (no benefit prior: 0 / 0 for a nested type with no cases)
  // make a feature NaN; the matrix escalates to be safe. The run reads the
  // assessment back from its journal and sends the outcome: both must
  // parse, or the safe path fails the run instead.
  auto o = small();
  o.benefit_prior_strength = 0;
  matrix m(o);
  auto a = m.assess(nth(0));  // "refund/eu": nested
  REQUIRE(a);
  REQUIRE(a->decision == decision::escalate);
  REQUIRE_FALSE(std::isfinite(a->features.benefit));
  a->decision_key = "r/1";
  auto back = assessment_from_json(to_json_text(*a));
  REQUIRE(back);
  CHECK(back->decision == decision::escalate);
  CHECK(back->features.uncertainty == Approx(a->features.uncertainty));
  CHECK_FALSE(std::isfinite(back->features.benefit));
  outcome out{"refund/eu", back->features, back->score, back->decision, back->propensity,
              std::nullopt, 1};
  auto sent = outcome_from_json(to_json_text(out));
  REQUIRE(sent);
  CHECK_FALSE(std::isfinite(sent->features.benefit));
  auto labels = m.labels();
  m.record(*sent);  // ignored by the matrix: a NaN must not poison a fit
  CHECK(m.labels() == labels);
}

SCENARIO("a checkpoint that fails is tried again after checkpoint_every more inputs",
         "[escalation][store]") {
  // Saving the graphs costs a write of every stored vector: a save that
  // keeps failing (disk full, a graph_dir that cannot be made) must not be
  // redone, and logged, at every decision after it was due.
  test::temp_dir dir;
  auto j = open_journal(dir.path());
  { std::ofstream blocker(dir.path() + "/not-a-dir"); }
  matrix m(small());
  matrix_store rows(*j, {.graph_dir = dir.path() + "/not-a-dir/graphs", .checkpoint_every = 5});
  std::vector<int> failed_at;
  for (int i = 0; i < 12; ++i) {
    REQUIRE(m.assess(nth(i)));
    if (!rows.checkpoint(m))
      failed_at.push_back(i + 1);
  }
  CHECK(failed_at == std::vector<int>{5, 10});
}

SCENARIO("a checkpoint leaves only its own graph files, whatever a crash left before",
         "[escalation][store]") {
  // kill -9 between saving the files and committing their row (or between
  // the commit and deleting the files before) leaves files no row names;
  // a damaged checkpoint's files are never loaded again. Each is as big as
  // every stored vector: the next checkpoint removes them.
  test::temp_dir dir;
  auto j = open_journal(dir.path());
  matrix a(small());
  matrix_store rows(*j, {.graph_dir = {}, .checkpoint_every = 50});
  drive(a, rows, *j, 0, 60);
  auto graphs = dir.path() + "/escalation";
  for (auto* left : {"novelty-55-00000000deadbeef.hnsw", "novelty-57-00000000deadbeef.hnsw.tmp"})
    std::ofstream(graphs + "/" + left) << "left by a crash";
  std::ofstream(graphs + "/notes.txt") << "not the store's";
  j.reset();

  auto reopened = open_journal(dir.path());
  matrix b(small());
  matrix_store again(*reopened, {.graph_dir = {}, .checkpoint_every = 50});
  REQUIRE(again.restore(b));
  drive(b, again, *reopened, 60, 40);
  std::vector<std::string> names;
  for (auto& e : std::filesystem::directory_iterator(graphs))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  REQUIRE(names.size() == 3);  // one graph per task type, and the stranger
  CHECK(names[0] == "notes.txt");
  CHECK(names[1].rfind("novelty-100-", 0) == 0);
  CHECK(names[2].rfind("novelty-100-", 0) == 0);
}

SCENARIO("a damaged decision row is assessed again, a damaged outcome marker counts as recorded",
         "[escalation][store]") {
  test::temp_dir dir;
  auto j = open_journal(dir.path());
  matrix_store rows(*j, {});
  write_batch damage;  // valid envelopes around payloads that are not what they must be
  damage.put_row(side_table::escalation_state, state_row_key("d/", "run-2/3"),
                 record{decision_row_tag, 1, "{not json"});
  damage.put_row(side_table::escalation_state, state_row_key("o/", "run-2/3"),
                 record{outcome_row_tag, 99, "{}"});  // a schema newer than this build's
  REQUIRE(j->commit(std::move(damage)));
  auto d = rows.decision("run-2/3");
  REQUIRE(d);
  CHECK_FALSE(d->has_value());
  auto seen = rows.has_outcome("run-2/3");
  REQUIRE(seen);
  CHECK(*seen);
  CHECK_FALSE(*rows.has_outcome("run-2/4"));
}

SCENARIO("a fit that does not converge is tried again at the next label, by a matrix that kept "
         "running as by one restored from the journal", "[escalation][store]") {
  auto options = small();
  // 7 Newton steps: some of these refits stop before they converge, and a
  // matrix that counted those as refits diverges from its restored copy.
  options.fit.max_iterations = 7;
  test::temp_dir dir;
  auto a = written(dir, 0, 150, options);
  auto [b, report] = restored(dir, 0, options);
  REQUIRE(report.refit_version == a->model_version());
  // Both learn the same outcomes from here on: each refit at the same label.
  for (int i = 150; i < 300; ++i) {
    auto x = a->assess(nth(i));
    auto y = b->assess(nth(i));
    REQUIRE(x);
    REQUIRE(y);
    INFO("decision " << i);
    REQUIRE(y->model_version == x->model_version);
    CHECK(y->score == Approx(x->score));
    CHECK(y->decision == x->decision);
    if (x->decision == decision::escalate || i % 4 == 0) {
      outcome o{nth(i).task_type, x->features, x->score, x->decision, x->propensity,
                nth(i).confidence, (i % 3 == 0) ? 1.0 : 0.0};
      auto ra = a->record(o);
      auto rb = b->record(o);
      REQUIRE(ra.has_value() == rb.has_value());
    }
  }
  CHECK(a->model_version() > report.refit_version);
}
