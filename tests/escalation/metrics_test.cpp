// The ranking and calibration metrics against values computed independently
// (tests/escalation/reference_values.py: pairs counted, thresholds
// recounted, explicit bin edges, every order of tied scores averaged), and
// their undefined cases.
#include <catch2/catch.hpp>

#include <algorithm>

#include "escalation/known_log.hpp"

using namespace endure::escalation;
using Catch::Detail::Approx;

namespace {

double score(const decision_record& r) { return r.score; }
double uncertainty(const decision_record& r) { return r.features.uncertainty; }
double novelty(const decision_record& r) { return r.features.novelty; }
double benefit(const decision_record& r) { return r.features.benefit; }

} // namespace

SCENARIO("a metric without meaning for its input is empty, not 0 or 0.5", "[escalation][metrics]") {
  std::vector<scored> none;
  std::vector<scored> no_positive{{0.2, false}, {0.9, false}};
  std::vector<scored> no_negative{{0.2, true}, {0.9, true}};
  CHECK_FALSE(auroc(none));
  CHECK_FALSE(auroc(no_positive));
  CHECK_FALSE(auroc(no_negative));
  CHECK_FALSE(auprc(none));
  CHECK_FALSE(auprc(no_positive));
  CHECK(auprc(no_negative) == Approx(1.0)); // every threshold is all positives
  CHECK_FALSE(caught_at(no_positive, 0.5));
  CHECK(escalation_curve(no_positive).empty());
  CHECK(escalation_curve(no_negative, 0).empty());
  CHECK_FALSE(expected_calibration_error(none));
  CHECK_FALSE(brier_score(none));
  CHECK_FALSE(expected_calibration_error(no_positive, 0));
  std::vector<scored> outside{{0.5, true}, {1.5, false}};
  std::vector<scored> negative{{-0.1, true}, {0.5, false}};
  CHECK_FALSE(expected_calibration_error(outside));
  CHECK_FALSE(brier_score(outside));
  CHECK_FALSE(expected_calibration_error(negative));
  CHECK_FALSE(brier_score(negative));
  CHECK(*auroc(outside) == Approx(0.0)); // ranking metrics take any scale: the error is below
}

SCENARIO("tied scores count one half, and a score of 1 falls in the last bin",
         "[escalation][metrics]") {
  // By hand: one pair, tied: AUROC 1/2; one threshold, precision 1/2: AP 1/2.
  std::vector<scored> tied{{0.5, true}, {0.5, false}};
  CHECK(auroc(tied) == Approx(0.5));
  CHECK(auprc(tied) == Approx(0.5));
  CHECK(*caught_at(tied, 0.5) == Approx(0.5)); // one of two tied slots: half the error
  // By hand: score 1.0 with no error is in bin [0.9, 1]: |0 - 1| = 1.
  CHECK(*expected_calibration_error(std::vector<scored>{{1.0, false}}) == Approx(1.0));
  CHECK(*expected_calibration_error(std::vector<scored>{{1.0, true}}) == Approx(0.0));
}

SCENARIO("58% of 50 cases is 29 escalations, though 0.58 * 50 is 28.999999999999996 in doubles",
         "[escalation][metrics]") {
  // By hand: scores 50/50, 49/50, ..., 1/50, the only error 29th from the top.
  std::vector<scored> fifty;
  for (int i = 50; i >= 1; --i)
    fifty.push_back({i / 50.0, i == 22});
  CHECK(*caught_at(fifty, 0.58) == Approx(1.0));
  CHECK(*caught_at(fifty, 0.56) == Approx(0.0));
}

SCENARIO("AUROC and AUPRC of the score and of each input alone match the reference",
         "[escalation][metrics]") {
  // reference_values.py: auroc by counting the 8 * 12 pairs, auprc by
  // recounting precision and recall at every distinct score.
  CHECK(*auroc(known_cases(score)) == Approx(0.8541666666666666).epsilon(1e-12));
  CHECK(*auprc(known_cases(score)) == Approx(0.7545454545454545).epsilon(1e-12));
  CHECK(*auroc(known_cases(uncertainty)) == Approx(0.8489583333333334).epsilon(1e-12));
  CHECK(*auprc(known_cases(uncertainty)) == Approx(0.8197916666666667).epsilon(1e-12));
  CHECK(*auroc(known_cases(novelty)) == Approx(0.7760416666666666).epsilon(1e-12));
  CHECK(*auprc(known_cases(novelty)) == Approx(0.8055555555555556).epsilon(1e-12));
  CHECK(*auroc(known_cases(benefit)) == Approx(0.9010416666666666).epsilon(1e-12));
  CHECK(*auprc(known_cases(benefit)) == Approx(0.7601190476190476).epsilon(1e-12));
}

SCENARIO("ECE and Brier of the logged score match the reference", "[escalation][metrics]") {
  // reference_values.py: 10 bins with explicit edges i/10 <= s < (i+1)/10.
  CHECK(*expected_calibration_error(known_cases(score), 10) == Approx(0.215).epsilon(1e-12));
  CHECK(*brier_score(known_cases(score)) == Approx(0.15525).epsilon(1e-12));
}

SCENARIO("the caught-error rate at a budget matches the reference, ties filled at random",
         "[escalation][metrics]") {
  // reference_values.py: the mean, over every order of the tied scores, of
  // the errors among the first floor(rate * 20) cases, over 8 errors. At
  // 10% the cut falls inside the three 0.8s: 1 + 2/3 errors of 8.
  auto cases = known_cases(score);
  CHECK(*caught_at(cases, 0.05) == Approx(0.125));
  CHECK(*caught_at(cases, 0.10) == Approx(0.20833333333333334).epsilon(1e-12));
  CHECK(*caught_at(cases, 0.15) == Approx(0.2916666666666667).epsilon(1e-12));
  CHECK(*caught_at(cases, 0.20) == Approx(0.375));
  CHECK(*caught_at(cases, 0.30) == Approx(0.625));
  CHECK(*caught_at(cases, 0.50) == Approx(0.75));
  // A budget that is no whole number of cases rounds down (at most X%):
  // 12% of 20 is 2 cases, 16% is 3, 29% is 5.
  CHECK(*caught_at(cases, 0.12) == Approx(0.20833333333333334).epsilon(1e-12));
  CHECK(*caught_at(cases, 0.16) == Approx(0.2916666666666667).epsilon(1e-12));
  CHECK(*caught_at(cases, 0.29) == Approx(0.5));
  CHECK(*caught_at(cases, 1.00) == Approx(1.0));
  CHECK(*caught_at(known_cases(uncertainty), 0.1) == Approx(0.25));
  CHECK(*caught_at(known_cases(uncertainty), 0.2) == Approx(0.5));
  CHECK(*caught_at(known_cases(uncertainty), 0.3) == Approx(0.5));
  CHECK(*caught_at(known_cases(novelty), 0.3) == Approx(0.625));
  CHECK(*caught_at(known_cases(benefit), 0.1) == Approx(0.125));
  CHECK(*caught_at(known_cases(benefit), 0.2) == Approx(0.375));

  WHEN("the cases come in another order") {
    std::reverse(cases.begin(), cases.end());
    THEN("nothing changes") {
      CHECK(*caught_at(cases, 0.10) == Approx(0.20833333333333334).epsilon(1e-12));
      CHECK(*auroc(cases) == Approx(0.8541666666666666).epsilon(1e-12));
      CHECK(*auprc(cases) == Approx(0.7545454545454545).epsilon(1e-12));
    }
  }
}

SCENARIO("the escalation curve runs from nothing caught to everything, every whole percent",
         "[escalation][metrics]") {
  auto cases = known_cases(score);
  auto curve = escalation_curve(cases);
  REQUIRE(curve.size() == 101);
  CHECK(curve.front().escalation_rate == 0);
  CHECK(curve.front().caught_rate == 0);
  CHECK(curve.back().escalation_rate == 1);
  CHECK(curve.back().caught_rate == Approx(1.0));
  CHECK(curve[10].escalation_rate == Approx(0.1));
  CHECK(curve[10].caught_rate == Approx(0.20833333333333334).epsilon(1e-12));
  CHECK(curve[30].caught_rate == Approx(0.625));
  for (std::size_t i = 1; i < curve.size(); ++i)
    CHECK(curve[i].caught_rate >= curve[i - 1].caught_rate);
}

SCENARIO("a score exactly on a bin's lower edge falls in that bin", "[escalation][metrics]") {
  // 15/22 * 22 is 14.999... in doubles: by the product it would share bin
  // 14 with the other case. Worked by hand: bins 15 and 14 apart give
  // 0.5 * (1 - 15/22) + 0.5 * (14.5/22); together |0.5 - 14.75/22|.
  std::vector<scored> cases{{15.0 / 22, true}, {14.5 / 22, false}};
  auto ece = expected_calibration_error(cases, 22);
  REQUIRE(ece);
  CHECK(*ece == Approx(0.5 * (1 - 15.0 / 22) + 0.5 * (14.5 / 22)));
}
