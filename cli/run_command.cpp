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
// executes it under serve's own --policy (a note on stderr says so), and
// should serve stop, `run` takes the run over only under that same policy.
// A run that has had calls gated is never carried on with no policy.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <random>
#include <utility>

#include "endure/actors/gateway/human_request.hpp"
#include "endure/cli/command.hpp"
#include "endure/cli/json_value.hpp"
#include "endure/cli/run_control.hpp"
#include "endure/net/console/start_input.hpp"
#include "endure/persistence/journal.hpp"

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

/// How serve's policy compares with this command's, for people.
std::string policy_difference(const std::string& serve_hash, const std::string& own_hash) {
  auto shortened = [](const std::string& h) { return h.substr(0, 12); };
  if (own_hash == serve_hash)
    return "policy " + shortened(serve_hash) + ", the same as this run's --policy";
  return "policy " + shortened(serve_hash) + "; this run has "
         + (own_hash.empty() ? std::string{"no --policy"}
                             : "another --policy (" + shortened(own_hash) + ")");
}

/// Says on stderr under which policy serve executes the run, where that is
/// not this command's.
void note_served_policy(const std::string& run_id, const std::string& serve_hash,
                        const std::string& own_hash) {
  if (serve_hash == own_hash)
    return;
  std::cerr << "endure: note: the running endure serve executes run " << run_id;
  if (serve_hash.empty())
    std::cerr << " with no --policy (its tool calls are not gated); this --policy applies "
                 "when no serve runs" << std::endl;
  else
    std::cerr << " under its own --policy (" << policy_difference(serve_hash, own_hash)
              << "); should serve stop first, this command stops too rather than carry the "
                 "run on under another policy" << std::endl;
}

/// The hash of a policy under which run `id` raised a request for a person
/// (a gated tool call), nullopt when it raised none under any policy.
expected<std::optional<std::string>> policy_of_requests(const journal& store,
                                                        const std::string& id) {
  std::string after;
  for (;;) {  // ends: every page starts after the last key of the one before
    auto page = store.rows(side_table::requests, id + "/", after, 256);
    if (!page)
      return std::move(page).error();
    for (auto& row : page->rows) {
      auto r = gateway::from_record(row.rec, row.key);
      if (!r)
        continue;  // a damaged row: named by `endure request`, not by this check
      auto hash = r->rule.value("policy_hash", std::string{});
      if (r->run_id == id && !hash.empty())
        return std::optional<std::string>{hash};
    }
    if (page->rows.empty() && page->damaged.empty())
      return std::optional<std::string>{};
    after = std::max(page->rows.empty() ? std::string{} : page->rows.back().key,
                     page->damaged.empty() ? std::string{} : page->damaged.back().first);
  }
}

/// Exit code 1, saying why, when run `id` goes on here with no --policy
/// although a policy gated its calls before (they would run unasked);
/// nullopt when it may go on: a policy given, a new run, or one that ended.
std::optional<int> refuse_ungated(const command_env& env, const journal& store,
                                  const std::string& id) {
  if (env.policy)
    return std::nullopt;
  auto meta = store.run(id);
  if (!meta && meta.error().code == errc::not_found)
    return std::nullopt;
  if (meta && is_terminal(meta->status))
    return std::nullopt;  // nothing left to gate: its outcome is printed
  auto gated = policy_of_requests(store, id);
  if (!gated)
    return fail("cannot read the requests of run " + id + ": " + gated.error().message);
  if (!*gated)
    return std::nullopt;
  return fail("run " + id + " has had tool calls gated by a policy (" + gated->value().substr(0, 12)
              + ") and this command has no --policy, so its later calls would run unasked: "
                "give `--policy FILE` (that policy's file), or let `endure serve --policy "
                "FILE` carry it on");
}

/// `run` without serve: a runtime of this process executes only this run.
expected<int> run_here(const command_env& env, const control_request& r) {
  runtime_options opts;
  opts.resume_on_open = false;
  return try_with_runtime(env, opts, [&](runtime& rt) {
    // A run may wait for a person (a gated tool call, ask_human): `endure
    // approve` and the others reach this runtime as they would a serve's.
    auto channel = open_control_channel(rt, env.globals.data_dir,
                                        policy_hash_of(env.policy.get()), r.run_id);
    if (!channel)
      return fail("cannot open the control socket, so no decision could reach run " + r.run_id
                  + ": " + channel.error().message);
    struct stop_first {  // before the runtime closes: see serve_command.cpp
      control_server& c;
      ~stop_first() { c.stop_requests(std::chrono::minutes(1)); }
    } stop{**channel};
    if (auto refused = refuse_ungated(env, rt.store(), r.run_id))
      return *refused;
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
  // The policy of the serve that executed the run, once one answered.
  std::optional<std::string> served_under;
  auto own_policy = policy_hash_of(env.policy.get());
  serve_or_offline how;
  how.idempotent = true;
  how.on_reply = [&](const channel_answer& started) -> std::optional<int> {
    if (started.reply.code)
      return report(env, r, started.reply);
    served_under = started.reply.policy_hash;
    if (!std::exchange(noted, true))
      note_served_policy(r.run_id, *served_under, own_policy);
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
  how.offline = [&]() -> expected<int> {
    // Carrying on under another policy (or none) would run the tool calls
    // serve gated without asking anyone.
    // Refused as "not now" (the loop asks again): a serve that restarts
    // within the limit takes the run back.
    if (served_under && !served_under->empty() && *served_under != own_policy)
      return make_error(errc::invalid_state,
                        "endure serve stopped while it executed run " + r.run_id + " under its "
                        "--policy (" + policy_difference(*served_under, own_policy) + "), so "
                        "this process does not carry the run on: here its tool calls would not "
                        "be gated the same way. The run is journaled and goes on from its last "
                        "step when `endure serve --policy FILE` starts again, or with `endure "
                        "run " + r.workflow + " --id " + r.run_id + " --policy FILE` given "
                        "serve's file");
    return run_here(env, r);
  };
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
