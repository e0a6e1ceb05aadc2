// `endure signal RUN NAME [PAYLOAD]`, `endure cancel RUN` and `endure
// release RUN` (a quarantined run tries again). The data directory must not
// be held by another process (the error names the holder). The payload is passed to the
// workflow's wait_signal<std::string> as text.
#include <iostream>

#include "actors/events.hpp"
#include "cli/command.hpp"

namespace endure::cli {

namespace {

struct signal_options {
  std::string run_id;
  std::string name;
  std::string payload;
  std::string reason = "cancelled from the command line";
};

int with_known_run(const command_env& env, const std::string& run_id,
                   const std::function<int(runtime&)>& body) {
  runtime_options opts;
  opts.resume_on_open = false;
  return with_runtime(env, opts, [&](runtime& rt) {
    auto meta = rt.store().run(run_id);
    if (!meta && meta.error().code == errc::not_found)
      return fail("no run '" + run_id + "' in " + env.globals.data_dir
                  + ": see `endure list` for the runs there");
    if (!meta)
      return fail("cannot read run " + run_id + ": " + meta.error().message);
    if (is_terminal(meta->status))
      return fail("run " + run_id + " has already ended (" + std::string{to_string(meta->status)}
                  + "); nothing to deliver");
    return body(rt);
  });
}

// A signal is journaled straight into the run's journal: opening a runtime
// here would replay the run and start its next steps in this short-lived
// process, only to abandon them when it exits.
int send_signal(const command_env& env, const signal_options& o) {
  auto mode = parse_mode(env.globals.mode);
  if (!mode)
    return 2;
  journal_options jo;
  jo.data_dir = env.globals.data_dir;
  jo.mode = *mode;
  auto store = journal::open(jo);
  if (!store)
    return fail(store.error().message);
  register_event_types((*store)->types());
  auto ok = deliver_signal_offline(**store, o.run_id, o.name, to_bytes(o.payload));
  if (!ok && ok.error().code == errc::not_found)
    return fail("no run '" + o.run_id + "' in " + env.globals.data_dir
                + ": see `endure list` for the runs there");
  if (!ok)
    return fail("cannot signal run " + o.run_id + ": " + ok.error().message);
  std::cout << "signal " << o.name << " journaled for run " << o.run_id << std::endl;
  return 0;
}

int cancel_run(const command_env& env, const signal_options& o) {
  return with_known_run(env, o.run_id, [&](runtime& rt) {
    auto ok = rt.cancel(o.run_id, o.reason);
    if (!ok)
      return fail("cannot cancel run " + o.run_id + ": " + ok.error().message);
    std::cout << "cancel journaled for run " << o.run_id
              << " (its compensations run when it next executes)" << std::endl;
    return 0;
  });
}

int release_run(const command_env& env, const signal_options& o) {
  return with_known_run(env, o.run_id, [&](runtime& rt) {
    auto ok = rt.release(o.run_id, o.reason);
    if (!ok)
      return fail("cannot release run " + o.run_id + ": " + ok.error().message);
    std::cout << "run " << o.run_id << " released; `endure serve` or `endure run` resumes it"
              << std::endl;
    return 0;
  });
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
