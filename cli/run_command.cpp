// `endure run WORKFLOW [--id ID] [--input JSON]` starts (or attaches to) a
// run and waits for its end; `endure start ...` journals the run without
// starting a runtime and returns once it is durable (`endure serve` or a
// later `run` executes it). Workflows reached
// from the CLI take and return std::string: the input is JSON text,
// validated here, passed to the workflow as the string itself.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <random>

#include <nlohmann/json.hpp>

#include "actors/offline_control.hpp"
#include "cli/command.hpp"

namespace endure::cli {

namespace {

struct run_options {
  std::string workflow;
  std::string id;
  std::string input = "null";
};

std::string generated_id(const std::string& workflow) {
  std::random_device rd;
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(rd()));
  return workflow + "-" + std::to_string(::time(nullptr)) + "-" + hex;
}

/// Exit 2 with a message unless the workflow exists and the input is JSON.
int check_usage(const command_env& env, const run_options& o) {
  if (!env.workflows.find(o.workflow)) {
    std::string known;
    for (auto& n : env.workflows.names())
      known += (known.empty() ? "" : ", ") + n;
    fail("no workflow named '" + o.workflow + "' is registered; known workflows: " + known);
    return 2;
  }
  if (nlohmann::json::parse(o.input, nullptr, false).is_discarded()) {
    fail("--input for workflow " + o.workflow + " is not valid JSON: " + o.input.substr(0, 80)
         + " (quote strings: --input '\"text\"')");
    return 2;
  }
  if (auto ok = validate_run_id(o.id); !ok) {
    fail("bad --id: " + ok.error().message);
    return 2;
  }
  return 0;
}

int print_outcome(const std::string& id, const run_outcome& out) {
  std::cout << "run " << id << ": " << to_string(out.status) << "\n";
  if (out.status != run_status::completed)
    return fail("run " + id + " ended " + std::string{to_string(out.status)} + ": " + out.error
                + " (see endure inspect " + id + ")");
  try {
    std::cout << out.value<std::string>() << std::endl;
  } catch (const std::exception&) {
    std::cout << "(result is not a string: " << out.result.size() << " bytes of msgpack)\n";
  }
  return 0;
}

int start_run(const command_env& env, run_options o, bool wait) {
  bool generated = o.id.empty();
  if (generated)
    o.id = generated_id(o.workflow);
  if (int usage = check_usage(env, o))
    return usage;
  if (generated)
    std::cout << "run id: " << o.id << std::endl;
  if (!wait)  // journaled only: a runtime here would start its steps and abandon them
    return with_journal(env, [&](journal& store) {
      auto status = start_offline(store, o.id, o.workflow, to_bytes(o.input));
      if (!status)
        return fail("cannot start run " + o.id + ": " + status.error().message);
      std::cout << "run " << o.id << ": " << to_string(*status)
                << " (durable; `endure serve` or `endure run` executes it)" << std::endl;
      return 0;
    });
  runtime_options opts;
  opts.resume_on_open = false;  // this command runs only its own run
  return with_runtime(env, opts, [&](runtime& rt) {
    auto status = rt.start(o.workflow, o.id, o.input);
    if (!status)
      return fail("cannot start run " + o.id + ": " + status.error().message);
    auto out = rt.wait(o.id, std::chrono::hours(24 * 365));
    if (!out)
      return fail("waiting for run " + o.id + " failed: " + out.error().message);
    return print_outcome(o.id, *out);
  });
}

void add_one(CLI::App& app, command_env& env, const char* name, const char* help, bool wait) {
  auto o = std::make_shared<run_options>();
  auto* cmd = app.add_subcommand(name, help);
  cmd->add_option("WORKFLOW", o->workflow, "registered workflow name")->required();
  cmd->add_option("--id", o->id, "run id (default: generated and printed)");
  cmd->add_option("--input", o->input, "the workflow's input, JSON text")->capture_default_str();
  cmd->callback([&env, o, wait] { env.exit_code = start_run(env, *o, wait); });
}

} // namespace

void add_run_command(CLI::App& app, command_env& env) {
  add_one(app, env, "run", "start (or attach to) a run and wait for its result", true);
  add_one(app, env, "start", "start a run and return once it is durable", false);
}

} // namespace endure::cli
