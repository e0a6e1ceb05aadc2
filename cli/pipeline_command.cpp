// `endure pipeline`: the shared benchmark workload (WORKLOAD.md). Starts
// runs pipeline-0..N-1 (resuming unfinished ones, not restarting finished
// ones), at most C at once, then prints "completed N runs, digest HEX".
#include <fcntl.h>
#include <unistd.h>

#include <iostream>
#include <latch>

#include "endure/cli/command.hpp"
#include "endure/cli/seed_pipeline.hpp"
#include "endure/net/sha256.hpp"

namespace endure::cli {

namespace {

struct pipeline_options {
  std::size_t runs = 0;
  std::size_t concurrency = 0;
  std::string counter;
  std::uint32_t max_step_crashes = 5;
};

int run_pipeline(runtime& rt, const pipeline_options& o) {
  // Start all runs at once (their creations share group commits), and wait
  // until each is durable before waiting for results.
  std::latch started{static_cast<std::ptrdiff_t>(o.runs)};
  for (std::size_t i = 0; i < o.runs; ++i) {
    auto id = "pipeline-" + std::to_string(i);
    rt.start_async("seed_pipeline", id, to_bytes(id), [id, &started](expected<run_status> r) {
      if (!r)
        std::cerr << "endure: cannot start " << id << ": " << r.error().message << "\n";
      started.count_down();
    });
  }
  started.wait();
  std::string results;
  int failed = 0;
  for (std::size_t i = 0; i < o.runs; ++i) {
    auto id = "pipeline-" + std::to_string(i);
    auto out = rt.wait(id, std::chrono::hours(24));
    if (!out || out->status != run_status::completed) {
      ++failed;
      std::cerr << "endure: run " << id << " did not complete: "
                << (out ? std::string{to_string(out->status)} + ": " + out->error
                        : out.error().message)
                << "\n";
      continue;
    }
    results += out->value<std::string>();
  }
  if (failed > 0)
    return fail(std::to_string(failed) + " of " + std::to_string(o.runs) + " runs failed");
  std::cout << "completed " << o.runs << " runs, digest " << net::sha256_hex(results) << std::endl;
  return 0;
}

} // namespace

void add_pipeline_command(CLI::App& app, command_env& env) {
  auto o = std::make_shared<pipeline_options>();
  auto* cmd = app.add_subcommand("pipeline", "run the seed pipeline workload (WORKLOAD.md)");
  cmd->add_option("--runs", o->runs, "number of runs, named pipeline-0 .. pipeline-<N-1>")
    ->required()
    ->check(CLI::Range(1, 100'000'000));
  cmd->add_option("--concurrency", o->concurrency, "most runs executing at once (default: all)");
  cmd->add_option("--counter", o->counter, "file that gets one line per executed step body");
  cmd->add_option("--max-step-crashes", o->max_step_crashes,
                  "process deaths inside one step before its run is quarantined")
    ->capture_default_str();
  cmd->callback([&env, o] {
    int fd = -1;
    if (!o->counter.empty()) {
      fd = ::open(o->counter.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (fd < 0) {
        env.exit_code = fail("cannot open counter file " + o->counter);
        return;
      }
    }
    set_counter_fd(fd);
    runtime_options opts;
    opts.max_active_runs = o->concurrency;
    opts.max_step_crashes = o->max_step_crashes;
    env.exit_code = with_runtime(env, opts, [&](runtime& rt) { return run_pipeline(rt, *o); });
    set_counter_fd(-1);
    if (fd >= 0)
      ::close(fd);
  });
}

} // namespace endure::cli
