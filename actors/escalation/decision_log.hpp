// The decision log the offline evaluator reads: one JSON object per line,
// what the escalation matrix saw (features, score), what it decided, and
// what turned out (was the agent's action silently wrong). Pure functions,
// no CAF, any thread.
//
// A line looks like
//   {"t": 17, "task_type": "refund", "score": 0.62, "decision": "escalate",
//    "features": {"uncertainty": 0.7, "novelty": 0.4, "benefit": 0.75},
//    "outcome": {"error": true}}
// `t` is a time or a sequence number (only its order matters); unknown
// keys are ignored so a log may carry more than the evaluator reads.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "endure/persistence/error.hpp"

namespace endure::escalation {

/// The three inputs of the escalation score, as the matrix logged them.
struct features {
  double uncertainty = 0;
  double novelty = 0;
  double benefit = 0;
};

/// What the matrix answered.
enum class decision { proceed, escalate };

/// One line of the log.
struct decision_record {
  double t = 0;
  std::string task_type;
  escalation::features features;
  double score = 0;
  escalation::decision decision = decision::proceed;
  /// True when the agent's action was silently wrong (a person changed it):
  /// the positive class every metric of the evaluator counts.
  bool error = false;
};

/// Parses log text. `source` names it in messages (a file name). Blank lines
/// (only whitespace) are skipped. Errors (errc::invalid_argument), at the
/// first bad line: "<source> line <n>: <what is wrong>" for a line that is
/// not a JSON object, a missing field, a field of the wrong type (numbers
/// must be finite, `decision` "proceed" or "escalate", `outcome.error` a
/// bool); "<source>: no decision records" for text without any record.
expected<std::vector<decision_record>> parse_decision_log(std::string_view text,
                                                          std::string_view source);

/// Reads and parses the file at `path` as parse_decision_log does. A file
/// that cannot be opened or read is errc::io_error naming the path.
expected<std::vector<decision_record>> read_decision_log(const std::filesystem::path& path);

} // namespace endure::escalation
