// `endure demo`: the README's main job, with no network. Runs the content
// pipeline (20 model calls per keyword) in a worker process, shows each
// run's progress from the journal, kills the worker with SIGKILL once
// --kill-at of the steps are done, restarts it, and ends with what the
// journal saved: steps replayed instead of re-run, retries by error class,
// and the model cost a restart from scratch would have spent again.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "endure/cli/command.hpp"
#include "endure/cli/content_pipeline.hpp"
#include "endure/cli/demo_journal.hpp"
#include "endure/cli/demo_options.hpp"
#include "endure/cli/journal_view.hpp"

namespace endure::cli {

namespace {

using clock_type = std::chrono::steady_clock;

struct demo_state {
  demo_options o;
  std::string data_dir;
  std::string report;
  std::vector<std::string> ids;
  clock_type::time_point t0 = clock_type::now();
  std::map<std::string, std::string> shown;  ///< last line printed per run
};

pid_t spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // the worker never outlives the demo
    ::execv(argv[0], argv.data());
    std::perror("endure demo: cannot exec the worker");
    ::_exit(127);
  }
  return pid;
}

double elapsed_s(const demo_state& s) {
  return std::chrono::duration<double>(clock_type::now() - s.t0).count();
}

void show_progress(demo_state& s, const demo_totals& t) {
  for (auto& p : t.runs) {
    char line[200];
    auto end = p.finished_ms ? p.finished_ms : now_ms();
    std::snprintf(line, sizeof line, "%-26s %-10s %2zu/%d steps done, at %-18s retries %zu",
                  p.id.c_str(), std::string{to_string(p.status)}.c_str(), p.steps_done,
                  content_pipeline_steps, p.current_step.c_str(), p.retries);
    if (s.shown[p.id] == line)
      continue;
    s.shown[p.id] = line;
    std::printf("[%6.1fs] %s  (run age %s)\n", elapsed_s(s), line,
                p.started_ms ? format_duration_ms(end - p.started_ms).c_str() : "-");
  }
  std::fflush(stdout);
}

/// Polls until the worker exits, or (when `kill_at_steps` > 0) kills it once
/// that many steps are done. Returns the exit status, or -1 if killed.
int watch(demo_state& s, pid_t pid, std::size_t kill_at_steps) {
  auto deadline = clock_type::now() + std::chrono::minutes(30);
  while (clock_type::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      if (auto t = read_demo_totals(s.data_dir, s.ids))
        show_progress(s, *t);
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    auto t = read_demo_totals(s.data_dir, s.ids);
    if (t) {
      show_progress(s, *t);
      if (kill_at_steps > 0 && t->steps_done >= kill_at_steps) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return -1;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  fail("demo: the worker did not finish within 30 minutes; killed it");
  return 1;
}

std::map<std::string, std::size_t> read_report(const std::string& path) {
  std::map<std::string, std::size_t> out;
  std::ifstream in(path);
  std::string key;
  std::size_t value = 0;
  while (in >> key >> value)
    out[key] = value;
  return out;
}

void print_summary(const demo_state& s, const demo_totals& before, const demo_totals& after,
                   bool killed) {
  auto report = read_report(s.report);
  std::printf("\n== summary (%.1fs) ==\n", elapsed_s(s));
  std::printf("model: %s\n", demo_model_description(s.o).c_str());
  std::printf("runs completed: %zu of %zu\n", after.runs_completed, s.ids.size());
  std::printf("steps completed: %zu (step attempts executed: %zu)\n", after.steps_done,
              after.attempts);
  if (killed)
    std::printf("worker killed with SIGKILL after %zu of %zu steps, when %zu of %zu runs had "
                "finished\n",
                before.steps_done, s.ids.size() * content_pipeline_steps,
                s.ids.size() - before.redo.runs, s.ids.size());
  std::printf("steps replayed from the journal instead of re-run: %zu%s\n", report["replayed"],
              killed ? " (the steps the unfinished runs had completed)" : "");
  std::printf("steps cut off by the kill and run again: %zu\n", after.attempts_lost);
  std::printf("retries by error class:");
  if (after.retries_by_class.empty())
    std::printf(" none");
  for (auto& [cls, n] : after.retries_by_class)
    std::printf(" %s %zu", cls.c_str(), n);
  std::printf("\nmodel cost of the whole demo: $%.4f (%llu tokens at $%.4f / $%.4f per 1k "
              "prompt / completion tokens)\n",
              after.cost_usd, static_cast<unsigned long long>(after.tokens),
              s.o.input_price_per_1k, s.o.output_price_per_1k);
  if (killed) {
    // A restart without the journal would start the unfinished runs over:
    // their completed steps are what it would pay for again (and what the
    // restart with the journal replayed). Finished runs would not run again.
    std::printf("cost a restart from scratch would have spent again: $%.4f (the %zu steps the "
                "%zu unfinished runs had completed before the kill)\n",
                before.redo.cost_usd, before.redo.steps, before.redo.runs);
    if (before.redo.steps != report["replayed"])
      std::printf("note: the journal held %zu completed steps of unfinished runs, the restarted "
                  "worker replayed %zu\n",
                  before.redo.steps, report["replayed"]);
  }
  std::printf("inspect a run: endure --data %s inspect %s\n", s.data_dir.c_str(),
              s.ids.front().c_str());
  std::fflush(stdout);
}

/// Runs the worker, kills it at --kill-at, runs it again. `before` gets the
/// journal's totals at the kill. Returns the last worker's exit status.
int run_worker_twice(const command_env& env, demo_state& s, demo_totals& before, bool& killed) {
  auto args = demo_worker_argv(s.o, s.data_dir, env.globals.mode, s.report);
  auto total = s.ids.size() * content_pipeline_steps;
  auto kill_at = std::max<std::size_t>(1, static_cast<std::size_t>(s.o.kill_at * total));
  pid_t pid = spawn(args);
  int code = watch(s, pid, kill_at);
  killed = code == -1;
  if (!killed) {
    std::printf("the worker finished before the kill point (%zu steps)\n", kill_at);
    return code;
  }
  auto t = read_demo_totals(s.data_dir, s.ids);
  if (!t)
    return fail("demo: cannot read the journal after the kill: " + t.error().message);
  before = *t;
  std::printf("[%6.1fs] *** killed worker pid %d with SIGKILL at %zu of %zu steps; "
              "restarting it: completed steps replay from the journal ***\n",
              elapsed_s(s), static_cast<int>(pid), before.steps_done, total);
  std::fflush(stdout);
  return watch(s, spawn(args), 0);
}

int run_demo(const command_env& env, demo_state& s) {
  std::error_code ec;
  std::filesystem::remove_all(s.data_dir, ec);
  std::filesystem::remove(s.report, ec);  // a stale report would lie
  std::filesystem::create_directories(s.data_dir, ec);
  if (ec)
    return fail("demo: cannot create " + s.data_dir + ": " + ec.message()
                + " (choose another --data)");
  for (auto& k : s.o.keywords)
    s.ids.push_back(demo_run_id(k));
  std::printf("endure demo: %zu content_pipeline runs x %d steps, data in %s\nmodel: %s\n",
              s.ids.size(), content_pipeline_steps, s.data_dir.c_str(),
              demo_model_description(s.o).c_str());
  std::fflush(stdout);
  demo_totals before;
  bool killed = false;
  int code = run_worker_twice(env, s, before, killed);
  auto after = read_demo_totals(s.data_dir, s.ids);
  if (!after)
    return fail("demo: cannot read the journal: " + after.error().message);
  print_summary(s, before, *after, killed);
  if (code != 0)
    return fail("demo: the worker exited with status " + std::to_string(code));
  return 0;
}

} // namespace

void add_demo_command(CLI::App& app, command_env& env) {
  auto s = std::make_shared<demo_state>();
  auto* cmd = app.add_subcommand(
    "demo", "the content pipeline demo: model calls with faults, a SIGKILL, the replay");
  add_demo_flags(cmd, s->o);
  cmd->add_option("--kill-at", s->o.kill_at, "fraction of steps done when the worker is killed")
    ->capture_default_str()
    ->check(CLI::Range(0.0, 0.95));
  cmd->callback([&env, s] {
    s->data_dir = env.globals.data_dir + "/demo";
    s->report = env.globals.data_dir + "/demo-worker-report.txt";
    if (!s->o.endpoint.empty() && s->o.model.empty()) {
      fail("demo: --endpoint needs --model (the model name the server serves)");
      env.exit_code = 2;
      return;
    }
    env.exit_code = run_demo(env, *s);
  });
}

} // namespace endure::cli
