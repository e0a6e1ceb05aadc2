// `endure demo-worker` (hidden): the process `endure demo` runs and kills.
// Starts (or, after a kill, resumes and attaches to) one content_pipeline
// run per keyword, waits for all, and writes its counters to --report:
// "executed N\nreplayed N\nretries N\ncompleted N\n".
#include <fstream>
#include <iostream>

#include "endure/cli/command.hpp"
#include "endure/cli/content_pipeline.hpp"
#include "endure/cli/demo_options.hpp"

namespace endure::cli {

namespace {

int run_all(runtime& rt, const demo_options& o, const std::string& report) {
  for (auto& k : o.keywords) {
    auto id = demo_run_id(k);
    auto status = rt.start("content_pipeline", id, k);
    if (!status)
      return fail("demo: cannot start run " + id + ": " + status.error().message);
  }
  int completed = 0;
  for (auto& k : o.keywords) {
    auto id = demo_run_id(k);
    auto out = rt.wait(id, std::chrono::hours(1));
    if (out && out->status == run_status::completed)
      ++completed;
    else
      fail("demo: run " + id + " did not complete: "
           + (out ? std::string{to_string(out->status)} + ": " + out->error
                  : out.error().message)
           + " (see endure inspect " + id + ")");
  }
  auto s = rt.stats();
  std::ofstream out(report, std::ios::trunc);
  out << "executed " << s.steps_executed << "\nreplayed " << s.steps_replayed << "\nretries "
      << s.retries << "\ncompleted " << completed << "\n";
  if (!out)
    return fail("demo: cannot write report " + report);
  return completed == static_cast<int>(o.keywords.size()) ? 0 : 1;
}

} // namespace

void add_demo_worker_command(CLI::App& app, command_env& env) {
  struct options {
    demo_options demo;
    std::string report;
  };
  auto o = std::make_shared<options>();
  auto* cmd = app.add_subcommand("demo-worker", "");  // empty help: hidden
  cmd->group("");
  add_demo_flags(cmd, o->demo);
  cmd->add_option("--report", o->report, "where to write the counters")->required();
  cmd->callback([&env, o] {
    runtime_options opts;
    try {
      opts.llm = net::make_llm_backend(demo_llm_config(o->demo));
    } catch (const std::exception& e) {
      env.exit_code = fail(std::string{"demo: bad endpoint: "} + e.what());
      return;
    }
    env.exit_code = with_runtime(env, std::move(opts), [&](runtime& rt) {
      return run_all(rt, o->demo, o->report);
    });
  });
}

} // namespace endure::cli
