// What `endure demo` reads from its data directory's journal (read-only,
// while its worker writes): each run's progress for the live display, and
// the totals of the summary (steps, attempts, retries by error class, token
// cost of completed steps, and what a restart without the journal would
// have run again). Internal to cli/.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "endure/persistence/error.hpp"
#include "endure/persistence/run_meta.hpp"

namespace endure::cli {

struct run_progress {
  std::string id;
  run_status status = run_status::running;
  std::size_t steps_done = 0;
  std::string current_step = "-";
  std::size_t retries = 0;
  std::int64_t started_ms = 0;
  std::int64_t finished_ms = 0;
};

struct demo_totals {
  std::vector<run_progress> runs;
  std::size_t runs_completed = 0;
  std::size_t steps_done = 0;
  /// Step attempts started, retries and re-runs included.
  std::size_t attempts = 0;
  /// Attempts started but never finished: cut off by the kill.
  std::size_t attempts_lost = 0;
  std::map<std::string, std::size_t> retries_by_class;
  /// Model cost of the completed steps, USD.
  double cost_usd = 0.0;
  std::uint64_t tokens = 0;
  /// What a restart without the journal would run again: the runs not
  /// finished (completed, failed or cancelled runs would not be started
  /// again), with the steps they had completed and their model cost. After
  /// a restart with the journal, exactly these steps are replayed.
  struct redo_figures {
    std::size_t runs = 0;
    std::size_t steps = 0;
    double cost_usd = 0.0;
  } redo;
};

/// What people did in the demo: the human gateway's requests.
struct demo_people {
  std::size_t approvals = 0;  ///< gated calls that waited for a person
  std::size_t questions = 0;  ///< ask_human questions
  std::size_t pending = 0;    ///< not decided yet
  std::map<std::string, std::size_t> by_decision;   ///< approve, edit, reject, respond, expired
  std::map<std::string, std::size_t> by_principal;  ///< who decided, how often
  /// How long each decided request waited, raised to decided (ms), sorted.
  std::vector<std::int64_t> waits_ms;
};

/// Reads every request row of the demo's journal.
expected<demo_people> read_demo_people(const std::string& data_dir);

/// Reads the runs `ids` (those not created yet show as "-"). Fails only if
/// the journal exists but cannot be read.
expected<demo_totals> read_demo_totals(const std::string& data_dir,
                                       const std::vector<std::string>& ids);

} // namespace endure::cli
