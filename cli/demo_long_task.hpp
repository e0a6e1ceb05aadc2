// Stage 5 of `endure demo`: durable statefulness. A long task (the content
// calendar: one page per keyword and kind, each checked by a command) runs
// on the session loop (actors/state/session_loop.hpp) in a worker process,
// one page per session; the demo kills the worker with SIGKILL after a few
// sessions, starts it again, and prints the task's ledger and progress log
// (what `endure task` shows). Internal to cli/.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "endure/cli/command.hpp"

namespace endure::cli {

struct calendar_stage_result {
  std::size_t items = 0;
  std::size_t passing = 0;
  std::size_t sessions_at_kill = 0;  ///< progress entries when the worker was killed
  std::size_t sessions = 0;          ///< progress entries at the end
};

/// Runs the stage in `data_dir` (emptied first) for `keywords`, printing
/// its lines prefixed by `stamp()`. Errors: the worker failing, the journal.
expected<calendar_stage_result> run_calendar_stage(const command_env& env,
                                                   const std::string& data_dir,
                                                   const std::vector<std::string>& keywords,
                                                   const std::function<std::string()>& stamp);

/// `endure demo-calendar-worker` (hidden): the process the stage kills.
void add_demo_calendar_worker_command(CLI::App& app, command_env& env);

} // namespace endure::cli
