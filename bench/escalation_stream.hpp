// The seeded task stream of bench/escalation (issue 17), written down
// before the escalation matrix was tuned against it (bench/README.md,
// "bench/escalation: the task stream"). A function of its seed alone.
//
// Four task types with their own base error rates; each type's topics
// arrive over time (drift) and the newest are the most asked; a hidden
// truth per task (the agent's answer right or silently wrong), riskier on
// a topic the agent has seen little of; a model whose stated confidence is
// informative on familiar topics and nearly blind on new ones while staying
// high ("confident wrong decisions"); hedging words in its reasoning, a
// weak cue.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace endure::bench {

struct stream_task {
  std::uint64_t index = 0;
  std::string task_type;
  std::string input;
  std::string reasoning;
  double confidence = 0;
  bool error = false;        ///< hidden truth: the answer is silently wrong
  double topic_seen = 0;     ///< tasks of its topic before it (for the report)
  double risk = 0;           ///< the true chance of error the truth was drawn with (the oracle)
};

struct stream_options {
  std::uint64_t seed = 17;
  std::size_t tasks = 8000;
};

std::vector<stream_task> make_task_stream(const stream_options& options);

/// The types the fixed policy (interrupt_on) gates: legal work.
bool policy_gates(const std::string& task_type);

} // namespace endure::bench
