// What every subcommand shares: the global options (data directory,
// durability) and the registered workflows. Internal to cli/.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "endure/actors/endure.hpp"
#include "endure/persistence/log.hpp"

namespace caf {
class actor_system;
} // namespace caf
namespace endure::cluster {
struct cluster_config;
class replication;
} // namespace endure::cluster

namespace endure::cli {

struct global_options {
  std::string data_dir = "endure-data";
  std::string mode = "sync";
  /// --log-level; empty: ENDURE_LOG, else the command's default.
  std::string log_level;
  /// --cluster FILE: `list` and `inspect` ask the cluster's nodes over TLS
  /// (cluster_client.hpp) instead of reading --data.
  std::string cluster_file;
};

struct command_env {
  global_options globals;
  /// The log level of the command's runtime when neither --log-level nor
  /// ENDURE_LOG says: warnings for `serve` (a server's log), errors only
  /// for commands whose runtime serves one command (their output is the
  /// same as through a running serve).
  log::level default_log_level = log::level::error;
  workflow_registry workflows;
  /// The program's tools (cli::main's argument): ctx.tool in the command's
  /// runtime, and the schemas `endure edit` checks against with no serve
  /// running. May be null.
  std::shared_ptr<const agent::tool_registry> tools;
  /// --policy of `run` and `serve`: the gate of the command's runtime.
  std::shared_ptr<const gateway::policy> policy;
  /// `serve --node FILE`: this process is that node of the cluster (its
  /// actor system gets CAF's middleman and caf_openssl). Null otherwise.
  std::shared_ptr<const cluster::cluster_config> node;
  /// With `node` and replication on in its file: this node's replication,
  /// started by try_with_runtime before the runtime opens its journal and
  /// stopped before it closes it (a slot: commands get the env as const).
  std::shared_ptr<std::shared_ptr<cluster::replication>> node_replication =
    std::make_shared<std::shared_ptr<cluster::replication>>();
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
/// The runtime also gets env.tools and env.policy unless opts has its own.
int with_runtime(const command_env& env, runtime_options opts,
                 const std::function<int(runtime&)>& body);

/// with_runtime, except that a data directory held by another process is
/// returned (data_dir_locked), not printed, so the caller can try again.
expected<int> try_with_runtime(const command_env& env, runtime_options opts,
                               const std::function<int(runtime&)>& body);

/// try_with_runtime, trying again for up to `patience` while another
/// process holds the data directory (a one-shot command writing to the
/// journal holds it for milliseconds); `options` makes each attempt's
/// options. Returns body's exit code, or 1 after saying why it could not
/// open.
int with_runtime_when_free(const command_env& env,
                          const std::function<runtime_options()>& options,
                          const std::function<int(runtime&)>& body,
                          std::chrono::milliseconds patience);

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
void add_task_command(CLI::App& app, command_env& env);      // a long task's state
void add_signal_command(CLI::App& app, command_env& env);   // signal, cancel, release
void add_demo_command(CLI::App& app, command_env& env);
void add_demo_worker_command(CLI::App& app, command_env& env);
void add_fake_openai_command(CLI::App& app, command_env& env);
void add_policy_command(CLI::App& app, command_env& env);   // policy check
void add_inbox_command(CLI::App& app, command_env& env);
void add_request_command(CLI::App& app, command_env& env);
void add_decide_command(CLI::App& app, command_env& env);   // approve, reject, answer
void add_token_command(CLI::App& app, command_env& env);    // token create, list, revoke
void add_escalation_command(CLI::App& app, command_env& env);  // escalation eval

/// Adds --policy FILE to `cmd` (run, serve); returns where its value lands.
std::shared_ptr<std::string> add_policy_option(CLI::App& cmd);
/// Loads `path` (if not empty) into env.policy; false after printing the
/// loader's error as it is (FILE:LINE:COL: field: what is wrong), so a bad
/// policy is refused before anything runs.
bool load_policy_option(command_env& env, const std::string& path);

} // namespace endure::cli
