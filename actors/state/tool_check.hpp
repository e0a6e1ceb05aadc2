// Runs a tool verification (ledger_types.hpp: verification::tool) and
// returns its evidence: the tool of the runtime's registry is called with
// `tool_args` on a thread of its own, so a tool that hangs is cut off at
// the verification's timeout (the thread is left to finish and what it
// returns is dropped: threads cannot be killed). Passes iff the tool
// answered in time, without throwing, with a result that is not an error
// ({"error": ...}) and holds every field of `expect_result`. Any thread;
// blocks until done.
#pragma once

#include <filesystem>

#include "endure/actors/state/ledger_types.hpp"

namespace endure::agent {
class tool_registry;
}

namespace endure::state {

/// `tools` may be null (every tool is then missing: the evidence says so).
evidence run_tool_check(const verification& v, const agent::tool_registry* tools);

/// Either kind: a command (command_check.hpp) in `workdir`, or a tool.
evidence run_check(const verification& v, const std::filesystem::path& workdir,
                   const agent::tool_registry* tools);

} // namespace endure::state
