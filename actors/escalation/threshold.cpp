// The three threshold rules of threshold.hpp.
#include "endure/actors/escalation/threshold.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace endure::escalation {

std::string to_string(threshold_options::kind k) {
  switch (k) {
    case threshold_options::kind::fixed: return "fixed";
    case threshold_options::kind::budget: return "budget";
    case threshold_options::kind::cost: return "cost";
  }
  return "fixed";
}

threshold::threshold(threshold_options options) : opts_(options) {
  // Options that are not numbers fall back to the defaults; shares to [0, 1].
  threshold_options d;
  auto fix = [](double& v, double fallback, double lo, double hi) {
    v = std::isfinite(v) ? std::clamp(v, lo, hi) : fallback;
  };
  fix(opts_.value, d.value, 0, 1);
  fix(opts_.max_rate, d.max_rate, 0, 1);
  fix(opts_.review_cost, d.review_cost, 0, std::numeric_limits<double>::max());
  fix(opts_.failure_cost, d.failure_cost, 0, std::numeric_limits<double>::max());
}

double threshold::current() const {
  switch (opts_.mode) {
    case threshold_options::kind::fixed:
      return opts_.value;
    case threshold_options::kind::cost:
      return opts_.failure_cost > 0 ? std::clamp(opts_.review_cost / opts_.failure_cost, 0.0, 1.0)
                                    : 1.0;
    case threshold_options::kind::budget: {
      if (recent_.size() < std::max<std::size_t>(1, opts_.warmup))
        return opts_.value;
      // The k-th highest recent score, k = the budget's share of the window:
      // at most k of the last scores reach it (ties aside).
      auto k = static_cast<std::size_t>(std::floor(opts_.max_rate * static_cast<double>(recent_.size())));
      if (k == 0)
        return std::numeric_limits<double>::infinity();
      k = std::min(k, recent_.size());
      std::vector<double> scores(recent_.begin(), recent_.end());
      std::nth_element(scores.begin(), scores.begin() + static_cast<std::ptrdiff_t>(k - 1),
                       scores.end(), std::greater<>{});
      return scores[k - 1];
    }
  }
  return opts_.value;
}

void threshold::observe(double score) {
  if (opts_.mode != threshold_options::kind::budget || !std::isfinite(score))
    return;
  recent_.push_back(score);
  while (recent_.size() > std::max<std::size_t>(1, opts_.window))
    recent_.pop_front();
}

} // namespace endure::escalation
