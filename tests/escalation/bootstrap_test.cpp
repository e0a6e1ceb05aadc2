// Bootstrap intervals: the same seed gives the same interval, and the
// interval matches one drawn independently (reference_values.py: its own
// MT19937-64, checked against the standard's 10000th output, the same
// index rule, and numpy's linear percentile written out).
#include <catch2/catch.hpp>

#include "endure/actors/escalation/bootstrap.hpp"
#include "escalation/known_log.hpp"

using namespace endure::escalation;
using Catch::Detail::Approx;

namespace {

std::optional<double> score_auroc(std::span<const decision_record> rs) {
  std::vector<scored> cs;
  for (auto& r : rs)
    cs.push_back({r.score, r.error});
  return auroc(cs);
}

std::optional<double> novelty_auprc(std::span<const decision_record> rs) {
  std::vector<scored> cs;
  for (auto& r : rs)
    cs.push_back({r.features.novelty, r.error});
  return auprc(cs);
}

} // namespace

SCENARIO("a bootstrap without records, resamples or a sensible level is empty",
         "[escalation][bootstrap]") {
  auto log = known_log();
  std::vector<decision_record> none;
  CHECK_FALSE(bootstrap_interval(none, score_auroc));
  CHECK_FALSE(bootstrap_interval(log, score_auroc, {0, 0.95, 1}));
  CHECK_FALSE(bootstrap_interval(log, score_auroc, {100, 0.0, 1}));
  CHECK_FALSE(bootstrap_interval(log, score_auroc, {100, 1.0, 1}));
  WHEN("the metric is defined on no resample") {
    for (auto& r : log)
      r.error = false;
    THEN("there is no interval") { CHECK_FALSE(bootstrap_interval(log, score_auroc)); }
  }
}

SCENARIO("resamples where the metric is undefined are left out and counted",
         "[escalation][bootstrap]") {
  auto log = known_log();
  for (auto& r : log)
    r.error = false;
  log[0].error = true; // one error in 20: about a third of resamples miss it
  auto ci = bootstrap_interval(log, score_auroc, {200, 0.95, 3});
  REQUIRE(ci);
  CHECK(ci->resamples_used > 0);
  CHECK(ci->resamples_used < 200);
}

SCENARIO("the interval repeats for a seed and matches an independent draw",
         "[escalation][bootstrap]") {
  auto log = known_log();
  auto a = bootstrap_interval(log, score_auroc, {200, 0.95, 7});
  auto b = bootstrap_interval(log, score_auroc, {200, 0.95, 7});
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->low == b->low);
  CHECK(a->high == b->high);
  // reference_values.py: bootstrap auroc(score), 200 resamples, 95%, seed 7.
  CHECK(a->low == Approx(0.6561899038461538).epsilon(1e-12));
  CHECK(a->high == Approx(1.0));
  CHECK(a->resamples_used == 200);
  // reference_values.py: bootstrap auprc(novelty), 200 resamples, 90%, seed 42.
  auto c = bootstrap_interval(log, novelty_auprc, {200, 0.90, 42});
  REQUIRE(c);
  CHECK(c->low == Approx(0.5676105705440071).epsilon(1e-12));
  CHECK(c->high == Approx(0.952823886639676).epsilon(1e-12));
  CHECK(c->resamples_used == 200);

  auto other = bootstrap_interval(log, score_auroc, {200, 0.95, 8});
  REQUIRE(other);
  CHECK(other->low != a->low); // another seed, other resamples
}
