// The escalation matrix: equal weights at first, the grey zone, exploration
// with logged propensities, irreversible actions never relaxed, refits
// that learn which input predicts errors, and a restore that rebuilds the
// same scorer from what a store keeps.
#include <catch2/catch.hpp>

#include <random>

#include "endure/actors/escalation/embedder.hpp"
#include "endure/actors/escalation/matrix.hpp"

using namespace endure::escalation;
using Catch::Detail::Approx;

namespace {

matrix_options quiet() {
  matrix_options o;
  o.exploration = 0;
  o.grey_zone = 0;
  o.novelty.dim = 32;
  return o;
}

proposal ask(std::string type, std::string input, double confidence) {
  proposal p;
  p.task_type = std::move(type);
  p.input = std::move(input);
  p.action = "answer";
  p.confidence = confidence;
  return p;
}

/// An answered escalation in a world where errors follow uncertainty
/// alone: U, N and B uniform, wrong with probability U.
outcome uncertainty_world(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> uniform(0, 1);
  outcome out;
  out.task_type = "t";
  out.features = {uniform(rng), uniform(rng), uniform(rng)};
  out.decision = decision::escalate;
  out.changed = uniform(rng) < out.features.uncertainty ? 1.0 : 0.0;
  return out;
}

} // namespace

SCENARIO("at first the score is the mean of U, N and B", "[escalation][matrix]") {
  matrix m(quiet());
  auto a = m.assess(ask("refund", "refund the blender", 0.8));
  REQUIRE(a);
  CHECK_FALSE(a->fitted);
  CHECK(a->features.novelty == 1.0);   // first input of its type
  CHECK(a->features.benefit == 0.5);   // no outcome yet
  CHECK(a->features.uncertainty == Approx(0.2));  // calibrated = identity, no cue
  CHECK(a->score == Approx((a->features.uncertainty + 1.0 + 0.5) / 3));
  CHECK(a->decision == decision::escalate);  // 0.567 >= 0.5
  CHECK(a->propensity == 1);
  CHECK_THAT(a->reason, Catch::Contains(">= threshold 0.500"));
  // The same input again is no longer novel.
  auto again = m.assess(ask("refund", "refund the blender", 0.8));
  CHECK(again->features.novelty == Approx(0).margin(1e-5));
  CHECK(again->decision == decision::proceed);
  CHECK(again->input_id == a->input_id + 1);
}

SCENARIO("a score in the grey zone asks for samples first and records nothing", "[escalation][matrix]") {
  auto o = quiet();
  o.grey_zone = 0.1;
  matrix m(o);
  auto p = ask("refund", "refund the blender", 0.8);  // score ~0.567: within 0.1 of 0.5
  auto a = m.assess(p);
  REQUIRE(a->wants_samples);
  CHECK(a->input_id == 0);
  CHECK_THAT(a->reason, Catch::Contains("draw samples"));
  p.samples = {"refund it", "deny it", "refund it"};
  auto b = m.assess(p);
  REQUIRE_FALSE(b->wants_samples);
  CHECK(b->features.novelty == 1.0);  // the first ask stored nothing
  CHECK(*b->uncertainty.disagreement == Approx(1.0 / 3));
}

SCENARIO("the exploration slice escalates low scores at random, with their propensity", "[escalation][matrix]") {
  auto o = quiet();
  o.exploration = 0.2;
  o.threshold.value = 0.99;  // nothing reaches it
  matrix m(o);
  int explored = 0, proceeded = 0;
  for (int i = 0; i < 1000; ++i) {
    auto a = m.assess(ask("t", "input " + std::to_string(i), 0.9));
    REQUIRE(a);
    if (a->decision == decision::escalate) {
      CHECK(a->explored);
      CHECK(a->propensity == 0.2);
      ++explored;
    } else {
      CHECK(a->propensity == Approx(0.8));
      ++proceeded;
    }
  }
  CHECK(explored == Approx(200).margin(40));
  CHECK(explored + proceeded == 1000);
}

SCENARIO("an irreversible action never escalates less than its own threshold", "[escalation][matrix]") {
  auto o = quiet();
  o.threshold.value = 0.9;         // relaxed: most things proceed
  o.irreversible_threshold = 0.5;
  matrix m(o);
  auto p = ask("publish", "publish the post", 0.8);
  auto reversible = m.assess(p);
  CHECK(reversible->threshold == 0.9);
  CHECK(reversible->decision == decision::proceed);
  p.irreversible = true;
  p.input = "delete every customer record";  // as novel as the first
  auto irreversible = m.assess(p);
  CHECK(irreversible->threshold == 0.5);
  CHECK(irreversible->score >= 0.5);
  CHECK(irreversible->decision == decision::escalate);
}

SCENARIO("refits learn which input predicts the errors", "[escalation][matrix]") {
  auto o = quiet();
  o.min_labels = 30;
  o.refit_every = 20;
  matrix m(o);
  std::mt19937_64 rng(3);
  std::vector<refit_record> refits;
  for (int i = 0; i < 200; ++i)
    if (auto r = m.record(uncertainty_world(rng)))
      refits.push_back(*r);
  REQUIRE(refits.size() == 9);  // at 30, 50, ..., 190 labels
  CHECK(refits.front().labels == 30);
  CHECK(refits.back().version == 9);
  auto& w = refits.back().weights;
  CHECK(w[1] > 2);                   // uncertainty: strongly positive
  CHECK(std::abs(w[2]) < w[1] / 3);  // novelty: not much
  CHECK(std::abs(w[3]) < w[1] / 3);  // benefit: constant per type here
  CHECK(m.score_of({0.9, 0.5, 0.5}) > m.score_of({0.1, 0.5, 0.5}) + 0.3);
}

SCENARIO("no refit before both outcomes were seen", "[escalation][matrix]") {
  matrix m(quiet());
  for (int i = 0; i < 100; ++i) {
    outcome out;
    out.task_type = "t";
    out.changed = 0;
    CHECK_FALSE(m.record(out));
  }
}

SCENARIO("a restored matrix scores as the one it was saved from", "[escalation][matrix]") {
  auto o = quiet();
  // A budget threshold: the restored window must give the same threshold.
  o.threshold.mode = threshold_options::kind::budget;
  o.threshold.warmup = 10;
  o.threshold.window = 50;
  matrix a(o);
  struct stored {
    std::string type;
    std::vector<float> unit;
    features f;
  };
  std::vector<stored> inputs;
  std::vector<outcome> outcomes;
  std::optional<refit_record> last;
  std::vector<std::pair<std::string, double>> scores;
  for (int i = 0; i < 80; ++i) {
    auto p = ask(i % 2 ? "refund" : "refund/eu", "order " + std::to_string(i % 17), 0.5 + (i % 5) / 10.0);
    std::vector<float> unit;
    auto x = a.assess(p, &unit);
    REQUIRE(x);
    REQUIRE(unit.size() == o.novelty.dim);
    inputs.push_back({p.task_type, unit, x->features});
    outcome out{p.task_type, x->features, x->score, x->decision, x->propensity, p.confidence,
                (i % 3 == 0) ? 1.0 : 0.0};
    outcomes.push_back(out);
    if (auto r = a.record(out))
      last = r;
  }
  REQUIRE(last);
  matrix b(o);
  // What a store would hand back: the inputs, the outcomes, the last refit.
  for (std::size_t i = 0; i < inputs.size(); ++i)
    REQUIRE(b.restore_input(inputs[i].type, inputs[i].unit, i + 1, inputs[i].f));
  for (auto& out : outcomes)
    b.restore_outcome(out);
  b.restore_refit(*last);
  CHECK(b.model_version() == a.model_version());
  CHECK(b.labels() == 80);
  auto p = ask("refund/eu", "order 5 again", 0.7);
  auto sa = a.assess(p);
  auto sb = b.assess(p);
  CHECK(sb->score == Approx(sa->score));
  CHECK(sb->features.novelty == Approx(sa->features.novelty));
  CHECK(sb->threshold == Approx(sa->threshold));
  CHECK(sb->input_id == sa->input_id);
  CHECK(sb->features.benefit == Approx(sa->features.benefit));
  CHECK(sb->input_id == sa->input_id);
}

SCENARIO("a broken input never waves an action through nor poisons the fits", "[escalation][matrix]") {
  matrix m(quiet());
  auto p = ask("publish", "publish the post", 0.99);
  p.embedding.assign(32, 0.1f);
  p.embedding[0] = std::nanf("");
  auto a = m.assess(p);
  REQUIRE_FALSE(a);
  CHECK(a.error().code == endure::errc::invalid_argument);
  // Outcomes: one with NaN features and one with a feature no assessment
  // makes (finite, far outside [0, 1]: it would overflow every later fit)
  // among good ones; the refits still learn.
  std::mt19937_64 rng(5);
  std::optional<refit_record> last;
  for (int i = 0; i < 100; ++i) {
    auto out = uncertainty_world(rng);
    if (i == 10)
      out.features.uncertainty = std::nan("");
    if (i == 20)
      out.features.novelty = 1e200;
    if (auto r = m.record(out))
      last = r;
  }
  REQUIRE(last);
  CHECK(m.labels() == 98);
  CHECK(last->labels == 90);  // refits at 30, 50, 70, 90 labels
  CHECK(last->weights[1] > 1);
}

SCENARIO("explored labels count 1 / propensity in the fit", "[escalation][matrix]") {
  // The same labelled cases, once as score escalations and once with the
  // errors explored at propensity 0.05: the second fit must see the errors
  // as 20 times as many and rank the same features higher.
  auto fit_with = [](double error_propensity) {
    matrix m(quiet());
    std::optional<refit_record> last;
    for (int i = 0; i < 60; ++i) {
      outcome out;
      out.task_type = "t";
      bool error = i % 6 == 0;
      out.features = {error ? 0.6 : 0.4, 0.5, 0.5};
      out.decision = decision::escalate;
      out.propensity = error ? error_propensity : 1.0;
      out.changed = error ? 1.0 : 0.0;
      if (auto r = m.record(out))
        last = r;
    }
    return m.score_of({0.5, 0.5, 0.5});
  };
  CHECK(fit_with(0.05) > fit_with(1.0) + 0.2);
}

SCENARIO("a score just below the threshold also asks for samples", "[escalation][matrix]") {
  auto o = quiet();
  o.grey_zone = 0.1;
  o.threshold.value = 0.62;  // the first score (~0.567) sits just below it
  matrix m(o);
  auto a = m.assess(ask("refund", "refund the blender", 0.8));
  CHECK(a->score < a->threshold);
  CHECK(a->wants_samples);
}

SCENARIO("the exploration draw depends on the seed and the input, not on restarts", "[escalation][matrix]") {
  auto o = quiet();
  o.exploration = 0.3;
  o.threshold.value = 0.99;
  auto decisions = [&](int restart_at) {
    std::vector<bool> out;
    auto m = std::make_unique<matrix>(o);
    for (int i = 0; i < 60; ++i) {
      if (i == restart_at) {  // a new matrix that restores the inputs so far
        m = std::make_unique<matrix>(o);
        for (int j = 0; j < i; ++j)
          REQUIRE(m->restore_input("t", hashed_ngram_embedding("input " + std::to_string(j), 32),
                                   static_cast<std::uint64_t>(j + 1), features{}));
      }
      out.push_back(m->assess(ask("t", "input " + std::to_string(i), 0.9))->explored);
    }
    return out;
  };
  auto straight = decisions(-1);
  CHECK(decisions(30) == straight);
  CHECK(std::count(straight.begin(), straight.end(), true) > 5);
}
