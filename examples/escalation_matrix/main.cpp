// The escalation matrix of README.md "Escalation: the matrix", as a program:
// assess one proposal, tell the matrix what the person did, print why.
#include <cstdio>

#include "endure/actors/escalation/matrix.hpp"

using namespace endure::escalation;

int main() {
  matrix_options opts;                        // defaults: fixed threshold 0.5
  opts.threshold.mode = threshold_options::kind::budget;
  opts.threshold.max_rate = 0.20;             // 20% escalated, the 5% exploration included
  matrix m(opts);

  proposal p{.task_type = "refund/eu", .input = "refund the damaged blender",
             .action = "tool:refund", .confidence = 0.92,
             .reasoning = "I think the order qualifies."};
  auto a = m.assess(p);                       // endure::expected<assessment>
  if (a && a->wants_samples) { /* draw opts.samples answers, set p.samples, assess again */ }
  if (a && a->decision == decision::escalate) {
    // ask a person; then tell the matrix what they did (1: changed it all)
    m.record({p.task_type, a->features, a->score, a->decision, a->propensity,
              p.confidence, /*changed*/ 1.0});
  }
  if (a) std::puts(a->reason.c_str());  // "score 0.534 is within the grey zone ..."
}
