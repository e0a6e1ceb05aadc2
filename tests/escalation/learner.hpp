// The "learner" workflow the escalation crash test runs in a child process
// (escalation_child.cpp) and whose journal the test then reads: decision
// I assesses proposal I, and when the matrix escalates, a scripted person
// answers (wrong every third one) and the outcome goes back. It prints
// "recorded I" once decision I's outcome step completed (durable).
#pragma once

#include <cstdio>
#include <string>

#include "endure/actors/endure.hpp"
#include "endure/actors/escalation/escalate.hpp"
#include "endure/actors/escalation/escalation_options.hpp"

namespace endure::test {

inline constexpr int learner_decisions = 60;

inline escalation::escalation_options learner_options() {
  escalation::escalation_options o;
  o.matrix.novelty.dim = 32;
  o.matrix.grey_zone = 0;
  o.matrix.exploration = 0.2;
  o.matrix.min_labels = 10;
  o.matrix.refit_every = 5;
  o.matrix.threshold.value = 0.3;
  o.store.checkpoint_every = 25;
  return o;
}

inline escalation::proposal learner_proposal(int i) {
  escalation::proposal p;
  p.task_type = i % 2 ? "refund" : "refund/eu";
  p.input = "refund order " + std::to_string(i % 13) + " of customer " + std::to_string(i % 5);
  p.action = "tool:refund";
  p.confidence = 0.55 + (i % 4) / 10.0;
  return p;
}

inline task<std::string> learner(context& ctx, std::string) {
  int recorded = 0;
  for (int i = 0; i < learner_decisions; ++i) {
    auto p = learner_proposal(i);
    auto assessing = escalation::assess(ctx, "d" + std::to_string(i), p);
    auto a = co_await std::move(assessing);
    if (a.decision != escalation::decision::escalate)
      continue;
    auto recording = escalation::record_outcome(ctx, "d" + std::to_string(i), a, p,
                                                i % 3 == 0 ? 1.0 : 0.0);
    co_await std::move(recording);
    ++recorded;
    std::printf("recorded %d\n", i);
    std::fflush(stdout);
  }
  co_return std::to_string(recorded);
}

} // namespace endure::test
