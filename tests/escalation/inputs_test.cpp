// The escalation score's inputs alone, on constructed cases: hedging cues,
// sample agreement, U's combination, Platt calibration with back-off, the
// hierarchical benefit rate and the threshold rules.
#include <catch2/catch.hpp>

#include <random>

#include "endure/actors/escalation/benefit.hpp"
#include "endure/actors/escalation/calibration.hpp"
#include "endure/actors/escalation/threshold.hpp"
#include "endure/actors/escalation/uncertainty.hpp"

using namespace endure::escalation;
using Catch::Detail::Approx;

SCENARIO("hedging cues count on whole words, case-blind, saturating", "[escalation][inputs]") {
  CHECK(hedging_score("The refund is due on May 3.") == Approx(1 - std::exp(-0.2)));
  CHECK(hedging_score("Refund approved. Ship today.") == 0);
  CHECK(hedging_score("The mayor's office") == 0);  // not "may"
  double one = hedging_score("I think so");
  double two = hedging_score("I think it might be, but I'm NOT SURE");
  CHECK(one == Approx(1 - std::exp(-0.3)));
  CHECK(two == Approx(1 - std::exp(-(0.3 + 0.3 + 0.6))));
  // A cue counts at most 3 times.
  CHECK(hedging_score("maybe maybe maybe maybe maybe") == Approx(1 - std::exp(-1.2)));
  std::vector<hedge_cue> own{{"per the docs", 2.0}};
  CHECK(hedging_score("Per the docs, yes", own) == Approx(1 - std::exp(-2.0)));
}

SCENARIO("samples agree when equal up to case, spacing and trailing punctuation", "[escalation][inputs]") {
  std::vector<std::string> one{"yes"};
  CHECK_FALSE(sample_disagreement(one));
  std::vector<std::string> same{"Refund it.", "refund   it", " REFUND IT!"};
  CHECK(*sample_disagreement(same) == 0);
  std::vector<std::string> split{"refund", "deny", "refund", "escalate"};
  CHECK(*sample_disagreement(split) == Approx(0.5));
  std::vector<std::string> all_differ{"a", "b", "c"};
  CHECK(*sample_disagreement(all_differ) == Approx(2.0 / 3));
}

SCENARIO("U starts at the calibrated error and cues move its odds", "[escalation][inputs]") {
  auto logit = [](double p) { return std::log(p / (1 - p)); };
  auto sigmoid = [](double z) { return 1 / (1 + std::exp(-z)); };
  // Nothing said how sure the model is: an uninformed 0.5.
  CHECK(combine_uncertainty(std::nullopt, std::nullopt, std::nullopt, 0).value == Approx(0.5));
  CHECK(combine_uncertainty(0.9, 0.3, std::nullopt, 0.0).value == Approx(0.3));
  auto u = combine_uncertainty(0.9, 0.3, 0.5, 0.2);
  CHECK(u.value == Approx(sigmoid(logit(0.3) + 1.0 * 0.2 + 2.0 * 0.5)));
  CHECK(*u.stated_confidence == 0.9);
  CHECK(*u.disagreement == 0.5);
  // A weak cue cannot drown a strong confidence: hedging moves odds, not the mean.
  double sure = combine_uncertainty(0.99, 0.01, std::nullopt, 0.45).value;
  CHECK(sure < 0.02);
  uncertainty_weights deaf{0, 0};
  CHECK(combine_uncertainty(0.9, 0.3, 1.0, 1.0, deaf).value == Approx(0.3));
}

SCENARIO("Platt scaling learns how far to trust a stated confidence", "[escalation][inputs]") {
  platt_scaling identity;
  CHECK(identity.error_probability(0.9) == Approx(0.1));
  CHECK(identity.error_probability(std::nan("")) == Approx(0.5));

  GIVEN("a model that says 0.9 and is right 60% of the time, says 0.6 and is right 30%") {
    std::vector<confidence_outcome> outcomes;
    for (int i = 0; i < 1000; ++i) {
      outcomes.push_back({0.9, i % 10 < 6, 1});
      outcomes.push_back({0.6, i % 10 < 3, 1});
    }
    auto p = fit_platt(outcomes);
    CHECK(p.error_probability(0.9) == Approx(0.4).margin(0.02));
    CHECK(p.error_probability(0.6) == Approx(0.7).margin(0.02));
    CHECK(p.cases == 2000);
  }
  GIVEN("a handful of outcomes") {
    std::vector<confidence_outcome> few{{0.9, false, 1}, {0.9, false, 1}};
    auto p = fit_platt(few);
    THEN("the map moves toward them but stays near the identity") {
      CHECK(p.error_probability(0.9) > 0.1);
      CHECK(p.error_probability(0.9) < 0.6);
    }
  }
}

SCENARIO("calibration backs off to the parent type until a type has its own cases", "[escalation][inputs]") {
  confidence_calibrator cal(20);
  for (int i = 0; i < 40; ++i)
    cal.record("refund/eu", {0.9, i % 2 == 0, 1});  // 50% wrong at 0.9
  for (int i = 0; i < 10; ++i)
    cal.record("refund/us", {0.9, true, 1});  // too few of its own
  cal.refit();
  // 40 cases pull 0.9's error chance from the identity's 0.1 most of the
  // way to the observed 0.5 (the prior toward the identity holds a little).
  CHECK(cal.error_probability("refund/eu", 0.9) > 0.35);
  CHECK(cal.error_probability("refund/eu", 0.9) < 0.5);
  // refund/us has 10 cases: it reads as "refund" (all 50 cases), not the identity.
  CHECK(cal.error_probability("refund/us", 0.9) ==
        Approx(cal.error_probability("refund", 0.9)));
  CHECK(cal.error_probability("refund", 0.9) > 0.3);
  // A type never seen leans on the root, which has all 50 cases.
  CHECK(cal.error_probability("shipping", 0.9) == Approx(cal.error_probability("", 0.9)));
  CHECK(cal.fitted().count("refund/us") == 0);
}

SCENARIO("benefit: a type's prior is its parent's posterior", "[escalation][inputs]") {
  benefit_model b(4);
  CHECK(b.benefit("refund") == Approx(0.5));
  for (int i = 0; i < 20; ++i)
    b.record("refund/eu", 1.0);  // people always changed these
  CHECK(b.benefit("") == Approx(21.0 / 22));
  // "refund"'s prior is the root without refund's own 20 cases: Beta(1, 1).
  double refund = (20 + 4 * 0.5) / (20 + 4);
  CHECK(b.benefit("refund") == Approx(refund));
  // A sibling with no cases of its own reads as its parent.
  CHECK(b.benefit("refund/us") == Approx(refund));
  for (int i = 0; i < 40; ++i)
    b.record("refund/us", 0.0);  // ...and never changed these
  CHECK(b.benefit("refund/us") < 0.2);
  CHECK(b.benefit("refund/eu") > 0.8);
  CHECK(b.cases("refund") == 60);
  // A partial change counts fractionally; NaN is refused.
  benefit_model half(4);
  half.record("x", 0.5);
  half.record("x", std::nan(""));
  CHECK(half.cases("x") == 1);
  CHECK(half.benefit("") == Approx(1.5 / 3));
}

SCENARIO("the threshold: fixed, a cost ratio or a budget's share of recent scores", "[escalation][inputs]") {
  threshold_options wild;
  wild.mode = threshold_options::kind::budget;
  wild.max_rate = 7;  // clamped to 1: every score reaches it, nothing overruns
  wild.warmup = 1;
  threshold all(wild);
  all.observe(0.3);
  all.observe(0.9);
  CHECK(all.current() == 0.3);
  wild.max_rate = std::nan("");
  wild.value = std::nan("");
  CHECK(threshold(wild).current() == 0.5);  // NaN reads as the defaults

  threshold fixed({threshold_options::kind::fixed, 0.7});
  fixed.observe(0.1);
  CHECK(fixed.current() == 0.7);

  threshold_options cost_opts;
  cost_opts.mode = threshold_options::kind::cost;
  cost_opts.review_cost = 2;    // e.g. 4 minutes at $0.50
  cost_opts.failure_cost = 40;  // a wrong refund
  CHECK(threshold(cost_opts).current() == Approx(0.05));

  threshold_options budget_opts;
  budget_opts.mode = threshold_options::kind::budget;
  budget_opts.max_rate = 0.2;
  budget_opts.window = 100;
  budget_opts.warmup = 20;
  budget_opts.value = 0.42;
  threshold budget(budget_opts);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> uniform(0, 1);
  for (int i = 0; i < 10; ++i)
    budget.observe(uniform(rng));
  CHECK(budget.current() == 0.42);  // still warming up
  std::vector<double> last;
  for (int i = 0; i < 500; ++i) {
    double s = uniform(rng);
    budget.observe(s);
    last.push_back(s);
  }
  double t = budget.current();
  auto reach = std::count_if(last.end() - 100, last.end(), [&](double s) { return s >= t; });
  CHECK(reach == 20);  // exactly the budget of the window (no ties)
  CHECK(t == Approx(0.8).margin(0.1));
}
