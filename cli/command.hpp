// What every subcommand shares: the global options (data directory,
// durability) and the registered workflows. Internal to cli/.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "endure/actors/endure.hpp"
#include "endure/persistence/log.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace endure::cli {

struct global_options {
  std::string data_dir = "endure-data";
  std::string mode = "sync";
  /// --log-level; empty: ENDURE_LOG, else the command's default.
  std::string log_level;
};

struct command_env {
  global_options globals;
  /// The log level of the command's runtime when neither --log-level nor
  /// ENDURE_LOG says: warnings for `serve` (a server's log), errors only
  /// for commands whose runtime serves one command (their output is the
  /// same as through a running serve).
  log::level default_log_level = log::level::error;
  workflow_registry workflows;
  /// Exit code of the subcommand that ran.
  int exit_code = 0;
};

/// Prints "endure: <message>" to stderr and returns 1.
int fail(const std::string& message);

/// Parses --mode; nullopt (after printing why) if it is not a mode.
std::optional<durability> parse_mode(const std::string& mode);

/// Runs `body` with a runtime open on the data directory inside a fresh
/// CAF actor system; returns body's exit code, or 1 with a message if the
/// runtime cannot open (locked, not writable, damaged). Without
/// opts.llm, ctx.llm calls the sim model.
int with_runtime(const command_env& env, runtime_options opts,
                 const std::function<int(runtime&)>& body);

/// with_runtime, except that a data directory held by another process is
/// returned (data_dir_locked), not printed, so the caller can try again.
expected<int> try_with_runtime(const command_env& env, runtime_options opts,
                               const std::function<int(runtime&)>& body);

/// Runs `body` with the data directory's journal open for writing and no
/// runtime (the offline control path, actors/offline_control.hpp); returns
/// body's exit code, 1 or 2 with a message if the journal cannot open or
/// --mode is bad, or data_dir_locked (not printed) if another process
/// holds the directory (a running `endure serve`: send it the request
/// instead, run_control.hpp).
expected<int> try_with_journal(const command_env& env, const std::function<int(journal&)>& body);

// One function per subcommand: adds it to `app`, sets env.exit_code when run.
void add_pipeline_command(CLI::App& app, command_env& env);
void add_run_command(CLI::App& app, command_env& env);      // run and start
void add_serve_command(CLI::App& app, command_env& env);
void add_list_command(CLI::App& app, command_env& env);
void add_inspect_command(CLI::App& app, command_env& env);
void add_signal_command(CLI::App& app, command_env& env);   // signal, cancel, release
void add_demo_command(CLI::App& app, command_env& env);
void add_demo_worker_command(CLI::App& app, command_env& env);
void add_fake_openai_command(CLI::App& app, command_env& env);
void add_policy_command(CLI::App& app, command_env& env);   // policy check

} // namespace endure::cli
