// The three measurements of WORKLOAD.md, each in child processes of this
// binary (see pipeline_measure.hpp). Result lines come back through the
// child's stdout; the counter file and the journal (opened read-only after
// the kill) say what a crash cost.
#include "bench/pipeline_measure.hpp"

#include <fstream>
#include <set>
#include <stdexcept>
#include <thread>

#include "endure/actors/events.hpp"
#include "bench/bench_support.hpp"
#include "bench/child_results.hpp"
#include "bench/pipeline_child.hpp"
#include "endure/persistence/journal.hpp"
#include "support/child_process.hpp"

namespace endure::bench {

namespace {

using test::child_process;
using namespace std::chrono_literals;

child_args args_for(const std::string& scenario, const std::string& dir, durability mode,
                    int runs, std::string counter = {}) {
  return {scenario, dir + "/data", to_string(mode), std::move(counter),
          static_cast<std::size_t>(runs)};
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in{path};
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

/// Blocks until the file at `path` holds at least `n` lines.
void wait_for_lines(const std::string& path, long n) {
  std::ifstream in;
  long seen = 0;
  while (seen < n) {
    if (!in.is_open())
      in.open(path);
    char buf[4096];
    in.read(buf, sizeof buf);
    auto got = in.gcount();
    for (std::streamsize i = 0; i < got; ++i)
      seen += buf[i] == '\n';
    if (got == 0) {
      in.clear();
      std::this_thread::sleep_for(200us);
    }
  }
}

/// step_completed records (tag 18) in every run's journal.
long durable_steps(const std::string& data_dir) {
  journal_options o;
  o.data_dir = data_dir;
  o.read_only = true;
  auto j = journal::open(o);
  if (!j)
    throw std::runtime_error("cannot read the journal: " + j.error().message);
  register_event_types((*j)->types());
  auto runs = (*j)->list_runs();
  if (!runs)
    throw std::runtime_error("cannot list runs: " + runs.error().message);
  long n = 0;
  for (auto& meta : *runs) {
    auto records = (*j)->read(meta.id);
    if (!records)
      throw std::runtime_error("cannot read run " + meta.id + ": " + records.error().message);
    for (auto& r : *records)
      n += r.rec.tag == 18;  // step_completed
  }
  return n;
}

} // namespace

latency_figures measure_latency(const std::string& dir, durability mode, int runs,
                                bool pooled) {
  child_process child{child_argv(args_for(pooled ? "latency_pooled" : "latency", dir, mode, runs))};
  auto line = result_line(child, "latency");
  child.wait(1min);
  return {field(line, "step_p50_us"),  field(line, "step_p90_us"),
          field(line, "run_p50_ms"),   field(line, "floor_p50_us"),
          field(line, "floor_p90_us"), field(line, "layout_p50_us"),
          field(line, "commits_per_step"),
          static_cast<int>(field(line, "bad"))};
}

throughput_figures measure_throughput(const std::string& dir, durability mode, int runs) {
  child_process child{child_argv(args_for("throughput", dir, mode, runs))};
  pss_sampler sampler{child.pid()};
  auto line = result_line(child, "throughput");
  child.wait(1min);
  double peak = sampler.stop();
  return {20.0 * runs / field(line, "seconds"), peak,
          field(line, "batches") / field(line, "commits"),
          static_cast<int>(field(line, "bad"))};
}

passivation_figures measure_passivation(const std::string& dir, durability mode, int runs) {
  auto args = args_for("passivate", dir, mode, runs);
  passivation_figures f;
  {
    child_process parker{child_argv(args)};
    pss_sampler sampler{parker.pid()};
    auto line = result_line(parker, "passivate");
    parker.wait(1min);
    f.peak_pss_mib = sampler.stop();
    f.park_seconds = field(line, "seconds");
    f.end_pss_mib = field(line, "pss_kib") / 1024.0;
    f.zero_pss_mib = field(line, "pss_at_zero_kib") / 1024.0;
    f.bad_runs += field(line, "live") == 0 ? 0 : 1;
  }
  args.scenario = "wake";
  child_process waker{child_argv(args)};
  auto line = result_line(waker, "wake");
  waker.wait(1min);
  f.wake_seconds = field(line, "seconds");
  f.bad_runs += static_cast<int>(field(line, "bad"));
  return f;
}

crash_figures measure_crash(const std::string& dir, durability mode, int runs,
                            long kill_at_lines) {
  auto counter = dir + "/counter";
  auto args = args_for("crash", dir, mode, runs, counter);
  crash_figures f;
  {
    child_process victim{child_argv(args)};
    wait_for_lines(counter, kill_at_lines);
    victim.kill_hard();
  }
  f.lines_at_kill = static_cast<long>(read_lines(counter).size());
  f.durable_at_kill = durable_steps(args.data_dir);
  auto t0 = bench_clock::now();
  child_process restarted{child_argv(args)};
  result_line(restarted, "results_in");
  f.recovery_seconds = seconds_since(t0);
  auto line = result_line(restarted, "crash");
  restarted.wait(1min);
  f.bad_runs = static_cast<int>(field(line, "bad"));
  auto lines = read_lines(counter);
  f.executions = static_cast<long>(lines.size());
  f.distinct = static_cast<long>(std::set<std::string>(lines.begin(), lines.end()).size());
  f.re_executed = f.executions - 20L * runs;
  return f;
}

} // namespace endure::bench
