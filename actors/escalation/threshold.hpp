// Where the escalation score turns into "ask a person": a fixed value, a
// budget (at most a share of decisions escalate) or a cost model (ask when
// the expected cost of a silent failure exceeds the cost of the person's
// time). Pure; one owner.
#pragma once

#include <cstddef>
#include <deque>
#include <string>

namespace endure::escalation {

struct threshold_options {
  enum class kind { fixed, budget, cost };
  kind mode = kind::fixed;
  /// fixed: the threshold; budget: the threshold until `warmup` scores
  /// are seen. In [0, 1]. Default 0.5.
  double value = 0.5;
  /// budget: the largest share of decisions the score may escalate, in
  /// (0, 1]. Default 0.2.
  double max_rate = 0.2;
  /// budget: the share is kept over the last `window` scores. Default 500.
  std::size_t window = 500;
  /// budget: scores needed before the window sets the threshold. Default 20.
  std::size_t warmup = 20;
  /// cost: what a person's review costs and what a silent failure costs
  /// (same unit, e.g. dollars: minutes * price per minute). Escalate when
  /// P(error) * failure_cost >= review_cost.
  double review_cost = 1;
  double failure_cost = 10;
};

/// "fixed", "budget" or "cost".
std::string to_string(threshold_options::kind k);

class threshold {
public:
  /// Values that are not numbers read as the defaults; value and max_rate
  /// are clamped to [0, 1], the costs to >= 0.
  explicit threshold(threshold_options options = {});

  /// The threshold now: a score >= it escalates.
  double current() const;
  /// Adds a decision's score to the budget window (no effect otherwise).
  void observe(double score);
  const threshold_options& options() const noexcept { return opts_; }

private:
  threshold_options opts_;
  std::deque<double> recent_;
};

} // namespace endure::escalation
