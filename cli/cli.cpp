// endure::cli::main: global options, subcommand registration, exit codes.
#include "endure/cli/cli.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "endure/actors/events.hpp"
#include "endure/cli/command.hpp"
#include "endure/cli/demo_long_task.hpp"
#include "endure/cli/runtime_defaults.hpp"
#include "endure/cli/content_pipeline.hpp"
#include "endure/cli/seed_pipeline.hpp"
#include "endure/net/cluster/cluster_node.hpp"
#include "endure/net/cluster/replication/replication.hpp"
#include "endure/net/llm_backend.hpp"

namespace endure::cli {

int fail(const std::string& message) {
  std::cerr << "endure: " << message << "\n";
  return 1;
}

namespace {

std::optional<durability> mode_named(const std::string& mode) {
  if (mode == "sync")
    return durability::sync;
  if (mode == "nometasync")
    return durability::nometasync;
  if (mode == "nosync")
    return durability::nosync;
  if (mode == "wal")
    return durability::wal;
  return std::nullopt;
}

std::string unknown_mode(const std::string& mode) {
  return "unknown durability mode '" + mode + "': use sync, wal, nometasync or nosync";
}

} // namespace

std::optional<durability> parse_mode(const std::string& mode) {
  auto m = mode_named(mode);
  if (!m)
    fail(unknown_mode(mode));
  return m;
}

runtime_options command_runtime_options(const command_env& env, runtime_options opts,
                                        const std::string& data_dir, durability mode) {
  if (!opts.tools)
    opts.tools = env.tools;
  if (!opts.policy)
    opts.policy = env.policy;
  opts.journal.data_dir = data_dir;
  opts.journal.mode = mode;
  if (!opts.llm)  // the documented default model: the sim
    opts.llm = net::make_llm_backend(net::llm_config{});
  return opts;
}

expected<int> try_with_runtime(const command_env& env, runtime_options opts,
                               const std::function<int(runtime&)>& body) {
  auto mode = parse_mode(env.globals.mode);
  if (!mode)
    return 2;
  if (!env.globals.log_level.empty()) {
    auto level = log::parse_level(env.globals.log_level);
    if (!level) {
      fail("unknown --log-level '" + env.globals.log_level
           + "': use trace, debug, info, warn, error or off");
      return 2;
    }
    log::set_level(*level);
  } else if (!std::getenv("ENDURE_LOG")) {
    log::set_level(env.default_log_level);
  }
  opts = command_runtime_options(env, std::move(opts), env.globals.data_dir, *mode);
  caf::actor_system_config cfg;
  apply_recommended_settings(cfg);
  if (env.node)
    cluster::prepare_actor_system(cfg, *env.node);
  caf::actor_system sys{cfg};
  auto& repl = *env.node_replication;
  // On every way out, before `sys` ends (a detached actor still running
  // keeps ~actor_system waiting forever); the path through `body` stops it
  // earlier, before the runtime closes the journal it copies from.
  struct stop_replication {
    std::shared_ptr<cluster::replication>& r;
    ~stop_replication() {
      if (r)
        r->stop();
      r.reset();
    }
  } stop_on_exit{repl};
  if (env.node) {
    repl = cluster::replication::start(sys, *env.node, opts.journal);
    if (repl)
      opts.journal.sink = repl->sink();
  }
  // Moved in: the runtime holds the only reference to the model, so the
  // model stops (and completes calls in flight) before the actor system.
  auto rt = runtime::open(sys, std::move(opts), env.workflows);
  if (!rt && rt.error().code == errc::data_dir_locked)
    return std::move(rt).error();
  if (!rt)
    return fail(rt.error().message);
  if (repl)
    repl->attach((*rt)->store());
  auto code = body(**rt);
  if (repl)  // before the journal closes: it copies from it
    repl->stop();
  return code;
}

int with_runtime(const command_env& env, runtime_options opts,
                 const std::function<int(runtime&)>& body) {
  auto code = try_with_runtime(env, std::move(opts), body);
  return code ? *code : fail(code.error().message);
}

int with_runtime_when_free(const command_env& env,
                          const std::function<runtime_options()>& options,
                          const std::function<int(runtime&)>& body,
                          std::chrono::milliseconds patience) {
  auto give_up = std::chrono::steady_clock::now() + patience;
  for (;;) {
    auto code = try_with_runtime(env, options(), body);
    if (code)
      return *code;
    if (std::chrono::steady_clock::now() > give_up)
      return fail(code.error().message);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

expected<int> try_with_journal(const command_env& env,
                               const std::function<int(journal&)>& body) {
  auto mode = parse_mode(env.globals.mode);
  if (!mode)
    return 2;
  journal_options jo;
  jo.data_dir = env.globals.data_dir;
  jo.mode = *mode;
  auto store = journal::open(jo);
  if (!store && store.error().code == errc::data_dir_locked)
    return std::move(store).error();
  if (!store)
    return fail(store.error().message);
  register_event_types((*store)->types());
  return body(**store);
}

int main(int argc, char** argv, workflow_registry workflows,
         std::shared_ptr<const agent::tool_registry> tools) {
  command_env env;
  env.tools = std::move(tools);
  register_seed_pipeline(workflows);
  register_content_pipeline(workflows);
  env.workflows = std::move(workflows);
  CLI::App app{"endure: durable execution for long-running AI agents"};
  app.require_subcommand(1);
  // Subcommands inherit fallthrough: an option a subcommand does not know
  // (--data, --mode) goes to the app, so the global options work after the
  // subcommand as well as before it.
  app.fallthrough();
  app.add_option("--data", env.globals.data_dir, "data directory holding the journal")
    ->capture_default_str();
  app.add_option("--mode", env.globals.mode, "durability: sync, wal, nometasync or nosync")
    ->capture_default_str()
    ->check(CLI::Validator(  // read-only commands too
      [](std::string& m) { return mode_named(m) ? std::string{} : unknown_mode(m); },
      "MODE"));
  app.add_option("--log-level", env.globals.log_level,
                 "runtime log: trace, debug, info, warn, error, off (default: ENDURE_LOG, "
                 "else warn for serve, error for other commands)");
  app.add_option("--cluster", env.globals.cluster_file,
                 "a cluster file (YAML, see README): list and inspect ask its nodes over TLS "
                 "instead of reading --data");
  add_pipeline_command(app, env);
  add_run_command(app, env);
  add_serve_command(app, env);
  add_list_command(app, env);
  add_inspect_command(app, env);
  add_task_command(app, env);
  add_signal_command(app, env);
  add_demo_command(app, env);
  add_demo_worker_command(app, env);
  add_demo_calendar_worker_command(app, env);
  add_fake_openai_command(app, env);
  add_policy_command(app, env);
  add_escalation_command(app, env);
  add_inbox_command(app, env);
  add_request_command(app, env);
  add_decide_command(app, env);
  add_token_command(app, env);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RequiredError& e) {
    // CLI11 reads a mistyped command as a missing one: name what was typed.
    if (auto rest = app.remaining(); app.get_subcommands().empty() && !rest.empty())
      return fail("unknown command '" + rest.front() + "'; `endure --help` lists them"), 2;
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return env.exit_code;
}

} // namespace endure::cli
