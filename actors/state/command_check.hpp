// Runs a command verification (ledger_types.hpp: verification::command)
// and returns its evidence. The command runs as `/bin/sh -c COMMAND` in
// `workdir`, in a process group of its own, stdin from /dev/null; its
// output is read as it comes. At the verification's timeout the whole
// group is killed (SIGKILL: a verification that hangs, or one whose child
// holds the pipe open, cannot hold the session) and the evidence says
// "timed out after N ms". Passes iff it exited with expect_exit and its
// standard output contains expect_output. Spawned with posix_spawn (no
// fork of a multi-threaded process). Any thread; blocks until done.
#pragma once

#include <filesystem>
#include <functional>

#include "endure/actors/state/ledger_types.hpp"

namespace endure::state {

/// `now_ms` gives the wall clock for the evidence's time (tests may fix it).
evidence run_command_check(const verification& v, const std::filesystem::path& workdir,
                           const std::function<std::int64_t()>& now_ms);

/// The last `max_bytes` of `text`, cut at a UTF-8 character boundary.
std::string tail_of(const std::string& text, std::size_t max_bytes = 2048);

} // namespace endure::state
