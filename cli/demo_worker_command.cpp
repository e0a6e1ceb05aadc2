// `endure demo-worker` (hidden): the process `endure demo` runs and kills.
// Starts (or, after a kill, resumes and attaches to) one content agent run
// per keyword (examples/content_agent/) under the agent's default policy or
// --policy, serves the control socket like `endure serve` (so the demo's
// reviewer decides through it), waits for all runs, and writes its
// counters to --report: "executed N\nreplayed N\nretries N\ncompleted N\n".
#include <fstream>
#include <iostream>

#include "content_agent.hpp"
#include "endure/actors/gateway/policy.hpp"
#include "endure/cli/command.hpp"
#include "endure/cli/demo_options.hpp"
#include "endure/cli/run_control.hpp"
#include "endure/net/llm_backend.hpp"

namespace endure::cli {

namespace {

int wait_all(runtime& rt, const demo_options& o, const std::string& data_dir,
             const std::string& report) {
  int completed = 0;
  for (auto& k : o.keywords) {
    auto id = demo_run_id(k);
    auto out = rt.wait(id, std::chrono::hours(2));
    if (out && out->status == run_status::completed)
      ++completed;
    else
      fail("demo: run " + id + " did not complete: "
           + (out ? std::string{to_string(out->status)} + ": " + out->error
                  : out.error().message)
           + " (see endure --data " + data_dir + " inspect " + id + ")");
  }
  auto s = rt.stats();
  std::ofstream out(report, std::ios::trunc);
  out << "executed " << s.steps_executed << "\nreplayed " << s.steps_replayed << "\nretries "
      << s.retries << "\ncompleted " << completed << "\n";
  if (!out)
    return fail("demo: cannot write report " + report);
  return completed == static_cast<int>(o.keywords.size()) ? 0 : 1;
}

int run_all(runtime& rt, const demo_options& o, const std::string& data_dir,
            const std::string& report, const std::string& policy_hash) {
  // The reviewer (`endure demo`, or a person with `endure approve`) reaches
  // this runtime the way it reaches `endure serve`.
  auto channel = open_control_channel(rt, data_dir, policy_hash);
  if (!channel)
    return fail("demo: cannot open the control socket: " + channel.error().message);
  for (auto& k : o.keywords) {
    auto id = demo_run_id(k);
    content_agent::assignment a{k, demo_intent(o, k)};
    auto status = rt.start("content_agent", id, a);
    if (!status)
      return fail("demo: cannot start run " + id + ": " + status.error().message);
  }
  int code = wait_all(rt, o, data_dir, report);
  (*channel)->stop_requests(std::chrono::seconds(5));
  return code;
}

std::shared_ptr<const gateway::policy> demo_policy(const demo_options& o) {
  auto p = o.policy_file.empty()
             ? gateway::parse_policy(content_agent::default_policy_yaml(),
                                     "examples/content_agent/policy.yaml")
             : gateway::load_policy_file(o.policy_file);
  if (!p) {
    fail("demo: policy refused: " + p.error().message);
    return nullptr;
  }
  return std::make_shared<const gateway::policy>(std::move(*p));
}

} // namespace

void add_demo_worker_command(CLI::App& app, command_env& env) {
  struct options {
    demo_options demo;
    std::string report;
    std::string site;
  };
  auto o = std::make_shared<options>();
  auto* cmd = app.add_subcommand("demo-worker", "");  // empty help: hidden
  cmd->group("");
  add_demo_flags(cmd, o->demo);
  cmd->add_option("--report", o->report, "where to write the counters")->required();
  cmd->add_option("--site", o->site, "where publish writes the articles")->required();
  cmd->callback([&env, o] {
    runtime_options opts;
    try {
      opts.llm = net::make_llm_backend(demo_llm_config(o->demo));
    } catch (const std::exception& e) {
      env.exit_code = fail(std::string{"demo: bad endpoint: "} + e.what());
      return;
    }
    opts.policy = demo_policy(o->demo);
    if (!opts.policy) {
      env.exit_code = 2;
      return;
    }
    opts.tools = content_agent::make_tools(o->site);
    content_agent::register_workflows(env.workflows);
    // The reviewer may be writing a decision into the journal (it saw no
    // worker on the socket yet) as this process starts: wait that out.
    env.exit_code = with_runtime_when_free(
      env, [&opts] { return opts; },
      [&](runtime& rt) {
        return run_all(rt, o->demo, env.globals.data_dir, o->report,
                       policy_hash_of(opts.policy.get()));
      },
      std::chrono::seconds(5));
  });
}

} // namespace endure::cli
