// Bootstrap intervals over a log's cases: the same seed gives the same interval, and the
// interval matches one drawn independently (reference_values.py: its own
// MT19937-64, checked against the standard's 10000th output, the same
// index rule, and numpy's linear percentile written out).
#include <catch2/catch.hpp>

#include "endure/actors/escalation/bootstrap.hpp"
#include "escalation/known_log.hpp"

using namespace endure::escalation;
using Catch::Detail::Approx;

namespace {

/// The log's cases with `field` as the score.
template <class Field>
std::vector<scored> cases(const std::vector<decision_record>& log, Field field) {
  std::vector<scored> out;
  for (auto& r : log)
    out.push_back({field(r), r.error});
  return out;
}

std::vector<scored> by_score(const std::vector<decision_record>& log) {
  return cases(log, [](const decision_record& r) { return r.score; });
}

std::vector<scored> by_novelty(const std::vector<decision_record>& log) {
  return cases(log, [](const decision_record& r) { return r.features.novelty; });
}

} // namespace

SCENARIO("a bootstrap without records, resamples or a sensible level is empty",
         "[escalation][bootstrap]") {
  auto log = known_log();
  std::vector<scored> none;
  CHECK_FALSE(bootstrap_interval(none, auroc));
  CHECK_FALSE(bootstrap_interval(by_score(log), auroc, {0, 0.95, 1}));
  CHECK_FALSE(bootstrap_interval(by_score(log), auroc, {100, 0.0, 1}));
  CHECK_FALSE(bootstrap_interval(by_score(log), auroc, {100, 1.0, 1}));
  WHEN("the metric is defined on no resample") {
    for (auto& r : log)
      r.error = false;
    THEN("there is no interval") { CHECK_FALSE(bootstrap_interval(by_score(log), auroc)); }
  }
}

SCENARIO("resamples where the metric is undefined are left out and counted",
         "[escalation][bootstrap]") {
  auto log = known_log();
  for (auto& r : log)
    r.error = false;
  log[0].error = true; // one error in 20: about a third of resamples miss it
  auto ci = bootstrap_interval(by_score(log), auroc, {200, 0.95, 3});
  REQUIRE(ci);
  CHECK(ci->resamples_used > 0);
  CHECK(ci->resamples_used < 200);
}

SCENARIO("the interval repeats for a seed and matches an independent draw",
         "[escalation][bootstrap]") {
  auto log = known_log();
  auto a = bootstrap_interval(by_score(log), auroc, {200, 0.95, 7});
  auto b = bootstrap_interval(by_score(log), auroc, {200, 0.95, 7});
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->low == b->low);
  CHECK(a->high == b->high);
  // reference_values.py: bootstrap auroc(score), 200 resamples, 95%, seed 7.
  CHECK(a->low == Approx(0.6561899038461538).epsilon(1e-12));
  CHECK(a->high == Approx(1.0));
  CHECK(a->resamples_used == 200);
  // reference_values.py: bootstrap auprc(novelty), 200 resamples, 90%, seed 42.
  auto c = bootstrap_interval(by_novelty(log), auprc, {200, 0.90, 42});
  REQUIRE(c);
  CHECK(c->low == Approx(0.5676105705440071).epsilon(1e-12));
  CHECK(c->high == Approx(0.952823886639676).epsilon(1e-12));
  CHECK(c->resamples_used == 200);

  auto other = bootstrap_interval(by_score(log), auroc, {200, 0.95, 8});
  REQUIRE(other);
  CHECK(other->low != a->low); // another seed, other resamples
}
