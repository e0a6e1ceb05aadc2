// `endure run WORKFLOW [--id ID] [--input JSON]` starts (or attaches to) a
// run and waits for its end; `endure start ...` journals the run and returns
// once it is durable. --input is the workflow's input as JSON, turned into
// its msgpack input (json_value.hpp) and checked against its input type
// (workflow_registry::input) before anything is written; the result is
// printed as JSON. While `endure serve` holds the data directory, both go
// through its control channel (run waits there for the outcome, and takes
// the run over in a runtime of its own if serve stops first); otherwise
// `start` journals the run without a runtime (a runtime here would start
// its steps and abandon them) and `run` opens a runtime that executes only
// this run. The output is the same either way. `run --policy FILE` gates
// the run's tool calls when this process executes it; a running serve
// executes it under serve's own --policy (a note on stderr says so).
#include <cstdio>
#include <ctime>
#include <iostream>
#include <random>
#include <utility>

#include "endure/cli/command.hpp"
#include "endure/cli/json_value.hpp"
#include "endure/cli/run_control.hpp"
#include "endure/net/console/start_input.hpp"

namespace endure::cli {

namespace {

struct run_options {
  std::string workflow;
  std::string id;
  std::optional<std::string> input;  ///< JSON; none: the input type's default
};

std::string generated_id(const std::string& workflow) {
  std::random_device rd;
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(rd()));
  return workflow + "-" + std::to_string(::time(nullptr)) + "-" + hex;
}

/// The workflow's msgpack input; nullopt (after saying why) if the
/// workflow is unknown or --input does not fit it (start_input.hpp).
std::optional<std::string> input_bytes(const command_env& env, const run_options& o) {
  auto bytes = console::start_input(env.workflows, o.workflow, o.input, "--input");
  if (!bytes) {
    fail(bytes.error().message);
    return std::nullopt;
  }
  return std::move(*bytes);
}

int print_outcome(const std::string& id, run_status status, const std::string& error,
                  const std::string& result) {
  std::cout << "run " << id << ": " << to_string(status) << "\n";
  if (status != run_status::completed)
    return fail("run " + id + " ended " + std::string{to_string(status)} + ": " + error
                + " (see endure inspect " + id + ")");
  auto json = msgpack_to_json(result);
  std::cout << (json ? *json : "(the result is not msgpack: " + std::to_string(result.size())
                                 + " bytes)")
            << std::endl;
  return 0;
}

/// `run` without serve: a runtime of this process executes only this run.
expected<int> run_here(const command_env& env, const control_request& r) {
  runtime_options opts;
  opts.resume_on_open = false;
  return try_with_runtime(env, opts, [&](runtime& rt) {
    // A run may wait for a person (a gated tool call, ask_human): `endure
    // approve` and the others reach this runtime as they would a serve's.
    auto channel = open_control_channel(rt, env.globals.data_dir, r.run_id);
    if (!channel)
      return fail("cannot open the control socket, so no decision could reach run " + r.run_id
                  + ": " + channel.error().message);
    struct stop_first {  // before the runtime closes: see serve_command.cpp
      control_server& c;
      ~stop_first() { c.stop_requests(std::chrono::minutes(1)); }
    } stop{**channel};
    auto status = rt.start_raw(r.workflow, r.run_id, r.payload);
    if (!status)
      return fail("cannot start run " + r.run_id + ": " + status.error().message);
    auto out = rt.wait(r.run_id, std::chrono::hours(24 * 365));
    if (!out)
      return fail("waiting for run " + r.run_id + " failed: " + out.error().message);
    return print_outcome(r.run_id, out->status, out->error, out->result);
  });
}

/// `run` with serve: started there, waited for there. A wait that serve
/// could not finish (it stopped, or was killed) goes round again: start is
/// idempotent and attaches, and once serve is gone the run continues here.
int run_and_wait(const command_env& env, const control_request& r) {
  int interrupted = 0;
  bool noted = false;
  serve_or_offline how;
  how.idempotent = true;
  how.on_reply = [&](const channel_answer& started) -> std::optional<int> {
    if (env.policy && !std::exchange(noted, true))
      std::cerr << "endure: note: the running endure serve executes run " << r.run_id
                << " under its own --policy; this --policy applies when no serve runs"
                << std::endl;
    if (started.reply.code)
      return report(env, r, started.reply);
    control_request wait{control_op::wait, r.run_id, {}, {}, {}, {}, {}};
    auto done = ask_serve(env.globals.data_dir, wait, std::nullopt);
    bool cut = done.outcome != channel_outcome::replied
               || done.reply.code == errc::shut_down;
    if (cut && ++interrupted <= 5)
      return std::nullopt;
    if (done.outcome != channel_outcome::replied)
      return fail(done.message);
    if (done.reply.code)
      return fail("waiting for run " + r.run_id + " failed: " + done.reply.message);
    return print_outcome(r.run_id, done.reply.status, done.reply.message, done.reply.result);
  };
  how.offline = [&] { return run_here(env, r); };
  return through_serve_or(env, r, how);
}

int start_run(const command_env& env, run_options o, bool wait) {
  bool generated = o.id.empty();
  if (generated)
    o.id = generated_id(o.workflow);
  auto input = input_bytes(env, o);
  if (!input)
    return 2;
  if (auto ok = validate_run_id(o.id); !ok) {
    fail("bad --id: " + ok.error().message);
    return 2;
  }
  if (generated)
    std::cout << "run id: " << o.id << std::endl;
  control_request r{control_op::start, o.id, o.workflow, {}, std::move(*input), {}, {}};
  return wait ? run_and_wait(env, r) : control(env, r);
}

void add_one(CLI::App& app, command_env& env, const char* name, const char* help, bool wait) {
  auto o = std::make_shared<run_options>();
  auto* cmd = app.add_subcommand(name, help);
  // start executes nothing itself: the process that runs the run gates it.
  auto policy = wait ? add_policy_option(*cmd) : std::make_shared<std::string>();
  cmd->add_option("WORKFLOW", o->workflow, "registered workflow name")->required();
  cmd->add_option("--id", o->id, "run id (default: generated and printed)");
  cmd->add_option("--input", o->input,
                  "the workflow's input as JSON (default: its input type's default value)");
  cmd->callback([&env, o, wait, policy] {
    env.exit_code = load_policy_option(env, *policy) ? start_run(env, *o, wait) : 2;
  });
}

} // namespace

void add_run_command(CLI::App& app, command_env& env) {
  add_one(app, env, "run", "start (or attach to) a run and wait for its result", true);
  add_one(app, env, "start", "start a run and return once it is durable", false);
}

} // namespace endure::cli
