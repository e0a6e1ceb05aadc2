// `endure signal RUN NAME [PAYLOAD]`, `endure cancel RUN` and `endure
// release RUN` (a quarantined run tries again). While `endure serve` holds
// the data directory the request goes to its runtime through the control
// channel; otherwise it is journaled straight into the run's journal
// without starting a runtime (actors/offline_control.hpp: a runtime here
// would replay runs and start their next steps in this short-lived process,
// only to abandon them), and the next `serve` or `run` acts on it. Either
// way the output is the same (run_control.hpp). The payload is passed to the
// workflow's wait_signal<std::string> as text.
#include "endure/actors/serialization.hpp"
#include "endure/cli/command.hpp"
#include "endure/cli/run_control.hpp"

namespace endure::cli {

namespace {

struct signal_options {
  std::string run_id;
  std::string name;
  std::string payload;
  std::string reason = "cancelled from the command line";
};

int send_signal(const command_env& env, const signal_options& o) {
  control_request r;
  r.op = control_op::signal;
  r.run_id = o.run_id;
  r.name = o.name;
  r.payload = to_bytes(o.payload);
  return control(env, r);
}

int cancel_or_release(const command_env& env, control_op op, const signal_options& o) {
  control_request r;
  r.op = op;
  r.run_id = o.run_id;
  r.reason = o.reason;
  return control(env, r);
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
  cancel->callback(
    [&env, c] { env.exit_code = cancel_or_release(env, control_op::cancel, *c); });

  auto r = std::make_shared<signal_options>();
  r->reason = "released from the command line";
  auto* release = app.add_subcommand("release", "let a quarantined run try again after a fix");
  release->add_option("RUN", r->run_id, "run id")->required();
  release->add_option("--reason", r->reason, "why (journaled)")->capture_default_str();
  release->callback(
    [&env, r] { env.exit_code = cancel_or_release(env, control_op::release, *r); });
}

} // namespace endure::cli
