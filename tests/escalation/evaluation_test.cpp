// evaluate(): bad options are refused naming the option; on the known log
// every number matches reference_values.py, the temporal split fits on the
// first 70% by t and judges the last 30%, and to_json prints it all.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "endure/actors/escalation/evaluation.hpp"
#include "escalation/known_log.hpp"

using namespace endure::escalation;
using Catch::Detail::Approx;
using endure::errc;

namespace {

/// The message evaluate gives for `change` applied to the default options.
template <class F>
std::string refusal(const std::vector<decision_record>& log, F change) {
  evaluation_options o;
  change(o);
  auto got = evaluate(log, o);
  REQUIRE_FALSE(got);
  CHECK(got.error().code == errc::invalid_argument);
  return got.error().message;
}

evaluation_options quick() {
  evaluation_options o;
  o.bootstrap = {200, 0.95, 7};
  return o;
}

} // namespace

SCENARIO("evaluate refuses what it cannot evaluate, naming the option", "[escalation][eval]") {
  auto log = known_log();
  using Catch::Matchers::Contains;
  CHECK_THAT(refusal({log[0]}, [](auto&) {}), Contains("needs at least 2 records"));
  CHECK_THAT(refusal(log, [](auto& o) { o.past_fraction = 1.0; }), Contains("past_fraction"));
  CHECK_THAT(refusal(log, [](auto& o) { o.past_fraction = 0.0; }), Contains("past_fraction"));
  // floor(0.04 * 20) = 0: no past.
  CHECK_THAT(refusal(log, [](auto& o) { o.past_fraction = 0.04; }), Contains("future of 20"));
  CHECK_THAT(refusal(log, [](auto& o) { o.ece_bins = 0; }), Contains("ece_bins"));
  CHECK_THAT(refusal(log, [](auto& o) { o.curve_steps = 0; }), Contains("curve_steps"));
  CHECK_THAT(refusal(log, [](auto& o) { o.bootstrap.resamples = 0; }), Contains("resamples"));
  CHECK_THAT(refusal(log, [](auto& o) { o.bootstrap.level = 1.0; }), Contains("bootstrap.level"));
  CHECK_THAT(refusal(log, [](auto& o) { o.fit.ridge = 0; }), Contains("fit.ridge"));
  CHECK_THAT(refusal(log, [](auto& o) { o.budgets = {0.1, 1.5}; }), Contains("budget 1.5"));
}

SCENARIO("the report of the known log matches the reference", "[escalation][eval]") {
  auto got = evaluate(known_log(), quick());
  REQUIRE(got);
  auto& r = *got;
  CHECK(r.records == 20);
  CHECK(r.errors == 8);
  CHECK(r.escalated == 7);
  REQUIRE(r.rankings.size() == 4);
  CHECK(r.rankings[0].name == "score");
  CHECK(r.rankings[1].name == "uncertainty");
  CHECK(r.rankings[2].name == "novelty");
  CHECK(r.rankings[3].name == "benefit");
  // reference_values.py, as in metrics_test.cpp and bootstrap_test.cpp.
  CHECK(*r.rankings[0].auroc.value == Approx(0.8541666666666666).epsilon(1e-12));
  REQUIRE(r.rankings[0].auroc.ci);
  CHECK(r.rankings[0].auroc.ci->low == Approx(0.6561899038461538).epsilon(1e-12));
  CHECK(r.rankings[0].auroc.ci->high == Approx(1.0));
  CHECK(*r.rankings[0].auprc.value == Approx(0.7545454545454545).epsilon(1e-12));
  CHECK(*r.rankings[3].auroc.value == Approx(0.9010416666666666).epsilon(1e-12));
  CHECK(*r.rankings[2].auprc.value == Approx(0.8055555555555556).epsilon(1e-12));
  REQUIRE(r.rankings[0].caught.size() == 3);
  CHECK(r.rankings[0].caught[0].escalation_rate == 0.1);
  CHECK(*r.rankings[0].caught[0].caught_rate == Approx(0.20833333333333334).epsilon(1e-12));
  CHECK(*r.rankings[0].caught[1].caught_rate == Approx(0.375));
  CHECK(*r.rankings[0].caught[2].caught_rate == Approx(0.625));
  CHECK(*r.rankings[1].caught[1].caught_rate == Approx(0.5));
  CHECK(r.rankings[0].curve.size() == 101);
  CHECK(*r.ece == Approx(0.215).epsilon(1e-12));
  CHECK(*r.brier == Approx(0.15525).epsilon(1e-12));
}

SCENARIO("the temporal split fits on the past by t and judges the future", "[escalation][eval]") {
  auto got = evaluate(known_log(), quick());
  REQUIRE(got);
  auto& t = got->temporal;
  // The file has t 14 before 13 and 20 before 19: the split orders by t.
  CHECK(t.past_records == 14);
  CHECK(t.future_records == 6);
  CHECK(t.split_t == 15);
  CHECK(t.model.converged);
  // reference_values.py: plain gradient descent on the same penalised
  // log-loss (ridge 0.01), 400,000 steps, largest gradient left 2e-14.
  CHECK(t.model.weights[0] == Approx(-5.630880952093749).epsilon(1e-6));
  CHECK(t.model.weights[1] == Approx(4.161754354839621).epsilon(1e-6));
  CHECK(t.model.weights[2] == Approx(5.084999310574231).epsilon(1e-6));
  CHECK(t.model.weights[3] == Approx(1.346494053813148).epsilon(1e-6));
  CHECK(*t.refit_auroc == Approx(0.7777777777777778).epsilon(1e-12));
  CHECK(*t.refit_auprc == Approx(0.8666666666666667).epsilon(1e-12));
  CHECK(*t.logged_auroc == Approx(1.0));
  CHECK(*t.logged_auprc == Approx(1.0));
}

SCENARIO("the split follows t, not the order of the file", "[escalation][eval]") {
  auto log = known_log();
  std::reverse(log.begin(), log.end());
  auto got = evaluate(log, quick());
  REQUIRE(got);
  CHECK(got->temporal.split_t == 15);
  CHECK(got->temporal.model.weights[1] == Approx(4.161754354839621).epsilon(1e-6));
  CHECK(*got->temporal.refit_auroc == Approx(0.7777777777777778).epsilon(1e-12));
}

SCENARIO("the logged score is judged on the future alone", "[escalation][eval]") {
  auto log = known_log();
  for (auto& r : log)
    if (r.t == 16)
      r.score = 0.95; // a non-error now tops the future
  auto got = evaluate(log, quick());
  REQUIRE(got);
  // By hand, future errors 0.8, 0.45, 0.9 against non-errors 0.95, 0.15,
  // 0.25: each error wins 2 of its 3 pairs, AUROC 6/9. Thresholds 0.95,
  // 0.9, 0.8, 0.45 give (recall, precision) (0, 0), (1/3, 1/2), (2/3, 2/3),
  // (1, 3/4): AP = 1/6 + 2/9 + 1/4 = 23/36.
  CHECK(*got->temporal.logged_auroc == Approx(6.0 / 9.0).epsilon(1e-12));
  CHECK(*got->temporal.logged_auprc == Approx(23.0 / 36.0).epsilon(1e-12));
}

SCENARIO("a past with one class only still gives a finite fit", "[escalation][eval]") {
  auto log = known_log();
  for (auto& r : log)
    if (r.t <= 14)
      r.error = false;
  auto got = evaluate(log, quick());
  REQUIRE(got);
  for (double w : got->temporal.model.weights)
    CHECK(std::isfinite(w));
  CHECK(got->temporal.model.weights[0] < 0); // "no error" learned
  CHECK(got->temporal.refit_auroc);          // the future still has both classes
}

SCENARIO("to_json prints the report, undefined values as null", "[escalation][eval]") {
  auto log = known_log();
  for (auto& r : log)
    r.error = false; // no error anywhere: no AUROC, no curve
  auto got = evaluate(log, quick());
  REQUIRE(got);
  auto j = nlohmann::json::parse(to_json(*got));
  CHECK(j["records"] == 20);
  CHECK(j["errors"] == 0);
  CHECK(j["rankings"][0]["name"] == "score");
  CHECK(j["rankings"][0]["auroc"]["value"].is_null());
  CHECK(j["rankings"][0]["auroc"]["ci"].is_null());
  CHECK(j["rankings"][0]["curve"].empty());
  CHECK(j["rankings"][0]["caught"][0]["caught_rate"].is_null());
  CHECK(j["brier"].is_number());
  CHECK(j["temporal"]["refit_auroc"].is_null());
  CHECK(j["temporal"]["model"].contains("intercept"));

  auto known = nlohmann::json::parse(to_json(*evaluate(known_log(), quick()), -1));
  CHECK(known["rankings"][0]["auroc"]["value"].get<double>() ==
        Approx(0.8541666666666666).epsilon(1e-12));
  CHECK(known["rankings"][0]["auroc"]["ci"]["resamples_used"] == 200);
  CHECK(known["temporal"]["split_t"] == 15);
}

SCENARIO("the temporal split never puts records of one t on both sides", "[escalation]") {
  std::vector<endure::escalation::decision_record> records;
  // t: 1 1 1 2 2 2 2 2 3 3; 70% of 10 is 7, inside the t=2 run: the cut
  // moves to the next change of t (8).
  for (double t : {1, 1, 1, 2, 2, 2, 2, 2, 3, 3}) {
    endure::escalation::decision_record r;
    r.t = t;
    r.score = t / 4;
    r.error = records.size() % 2 == 0;
    records.push_back(r);
  }
  auto report = endure::escalation::evaluate(records);
  REQUIRE(report);
  CHECK(report->temporal.past_records == 8);
  CHECK(report->temporal.split_t == 3);
  CHECK_FALSE(report->temporal.ties_at_split);

  WHEN("every record has one t") {
    for (auto& r : records)
      r.t = 5;
    auto same = endure::escalation::evaluate(records);
    REQUIRE(same);
    CHECK(same->temporal.ties_at_split);
  }
}

SCENARIO("a fit on features too large for doubles stops unconverged with finite weights",
         "[escalation]") {
  std::vector<endure::escalation::decision_record> records;
  for (int i = 0; i < 10; ++i) {
    endure::escalation::decision_record r;
    r.t = i;
    r.features.uncertainty = i % 2 ? 1e200 : -1e200;
    r.score = 0.5;
    r.error = i % 2 == 1;
    records.push_back(r);
  }
  auto model = endure::escalation::fit_logistic(records);
  CHECK_FALSE(model.converged);
  for (double w : model.weights)
    CHECK(std::isfinite(w));
}
