// `endure signal RUN NAME [PAYLOAD]`, `endure cancel RUN` and `endure
// release RUN` (a quarantined run tries again), journaled without starting
// a runtime (actors/offline_control.hpp). The data directory must not be
// held by another process (the error names the holder). The payload is
// passed to the workflow's wait_signal<std::string> as text.
#include <iostream>

#include "actors/events.hpp"
#include "actors/offline_control.hpp"
#include "cli/command.hpp"

namespace endure::cli {

namespace {

struct signal_options {
  std::string run_id;
  std::string name;
  std::string payload;
  std::string reason = "cancelled from the command line";
};

// Each request is journaled straight into the run's journal: opening a
// runtime here would replay runs and start their next steps in this
// short-lived process, only to abandon them when it exits. The next `endure
// serve` or `endure run` acts on it.
int control(const command_env& env, const std::string& run_id, const std::string& what,
            const std::function<expected<void>(journal&)>& request) {
  return with_journal(env, [&](journal& store) {
    auto ok = request(store);
    if (!ok && ok.error().code == errc::not_found)
      return fail("no run '" + run_id + "' in " + env.globals.data_dir
                  + ": see `endure list` for the runs there");
    if (!ok)
      return fail("cannot " + what + " run " + run_id + ": " + ok.error().message);
    return 0;
  });
}

int send_signal(const command_env& env, const signal_options& o) {
  auto code = control(env, o.run_id, "signal", [&](journal& store) {
    return deliver_signal_offline(store, o.run_id, o.name, to_bytes(o.payload));
  });
  if (code == 0)
    std::cout << "signal " << o.name << " journaled for run " << o.run_id << std::endl;
  return code;
}

int cancel_run(const command_env& env, const signal_options& o) {
  auto code = control(env, o.run_id, "cancel", [&](journal& store) {
    return cancel_offline(store, o.run_id, o.reason);
  });
  if (code == 0)
    std::cout << "cancel journaled for run " << o.run_id
              << "; `endure serve` or `endure run` runs its compensations" << std::endl;
  return code;
}

int release_run(const command_env& env, const signal_options& o) {
  auto code = control(env, o.run_id, "release", [&](journal& store) {
    return release_offline(store, o.run_id, o.reason);
  });
  if (code == 0)
    std::cout << "run " << o.run_id << " released; `endure serve` or `endure run` resumes it"
              << std::endl;
  return code;
}

} // namespace

void add_signal_command(CLI::App& app, command_env& env) {
  auto o = std::make_shared<signal_options>();
  auto* sig = app.add_subcommand("signal", "deliver a signal to a run (journaled first)");
  sig->add_option("RUN", o->run_id, "run id")->required();
  sig->add_option("NAME", o->name, "signal name the workflow waits for")->required();
  sig->add_option("PAYLOAD", o->payload, "text payload (default: empty)");
  sig->callback([&env, o] { env.exit_code = send_signal(env, *o); });

  auto c = std::make_shared<signal_options>();
  auto* cancel = app.add_subcommand("cancel", "cancel a run; its compensations run");
  cancel->add_option("RUN", c->run_id, "run id")->required();
  cancel->add_option("--reason", c->reason, "why (journaled)")->capture_default_str();
  cancel->callback([&env, c] { env.exit_code = cancel_run(env, *c); });

  auto r = std::make_shared<signal_options>();
  r->reason = "released from the command line";
  auto* release = app.add_subcommand("release", "let a quarantined run try again after a fix");
  release->add_option("RUN", r->run_id, "run id")->required();
  release->add_option("--reason", r->reason, "why (journaled)")->capture_default_str();
  release->callback([&env, r] { env.exit_code = release_run(env, *r); });
}

} // namespace endure::cli
