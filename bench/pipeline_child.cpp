// The child scenarios of bench/pipeline (see pipeline_child.hpp). Result
// lines are "key value" pairs after the scenario name, e.g.
//   latency step_p50_us 812.4 step_p90_us 1203.0 run_p50_ms 17.1 bad 0
// Runs on the main thread; the step observer runs on activity threads.
#include "bench/pipeline_child.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <latch>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "bench/bench_support.hpp"
#include "bench/lmdb_floor.hpp"
#include "bench/passivation_child.hpp"
#include "endure/cli/seed_pipeline.hpp"

namespace endure::bench {

namespace {

// -- step timestamps (latency) ------------------------------------------------

std::mutex stamps_mutex;
std::vector<bench_clock::time_point> stamps;  // body starts of the current run, k-1

void stamp_step(const std::string&, int k) {
  auto now = bench_clock::now();
  std::lock_guard guard{stamps_mutex};
  if (stamps.size() < static_cast<std::size_t>(k))
    stamps.resize(static_cast<std::size_t>(k));
  stamps[static_cast<std::size_t>(k - 1)] = now;
}

std::vector<bench_clock::time_point> take_stamps() {
  std::lock_guard guard{stamps_mutex};
  return std::exchange(stamps, {});
}

// -- scenarios ------------------------------------------------------------------

std::string run_name(const std::string& prefix, std::size_t i) {
  return prefix + "-" + std::to_string(i);
}

/// True if the run completed with the workload's expected v20.
bool completed_right(runtime& rt, const std::string& id) {
  auto out = rt.wait(id, std::chrono::minutes(10));
  return out && out->status == run_status::completed
         && out->value<std::string>() == cli::seed_expected(id);
}

durability mode_of(const child_args& a) {
  if (a.mode == "wal")
    return durability::wal;
  return a.mode == "nosync" ? durability::nosync : durability::sync;
}

/// Both floors' commits, taken just before each run so the floors and the
/// runs see the same disk moments (this disk switches between ~0.2 ms and
/// ~8 ms per fsync for seconds at a time), each in its own directory beside
/// the data directory: 20 one-put commits, then 20 shaped like a step's.
struct floor_sample {
  std::vector<double> one_put_us, layout_us;
};
floor_sample floors_before_run(const child_args& a, std::size_t run) {
  auto dir_for = [&](const char* suffix) {
    auto dir = a.data_dir + suffix;
    std::filesystem::create_directories(dir);
    return dir;
  };
  return {floor_commit_latency(dir_for("-floor"), mode_of(a), 20, 20 * run + 1).micros,
          floor_layout_commit_latency(dir_for("-layout"), mode_of(a), 20, 40 * run + 1).micros};
}

int latency(runtime& rt, const child_args& a) {
  auto workflow = a.scenario == "latency_pooled" ? "seed_pipeline_pooled" : "seed_pipeline";
  cli::set_step_observer(&stamp_step);
  std::vector<double> gaps_us, runs_ms, floor_us, layout_us;
  int bad = 0;
  for (std::size_t i = 0; i <= a.runs; ++i) {  // run 0 is the warm-up
    auto floors = floors_before_run(a, i);
    if (i > 0) {
      floor_us.insert(floor_us.end(), floors.one_put_us.begin(), floors.one_put_us.end());
      layout_us.insert(layout_us.end(), floors.layout_us.begin(), floors.layout_us.end());
    }
    auto id = run_name("latency", i);
    take_stamps();
    auto t0 = bench_clock::now();
    auto started = rt.start(workflow, id, id);
    bool ok = started && completed_right(rt, id);
    auto run_ms = seconds_since(t0) * 1e3;
    auto s = take_stamps();
    bad += ok && s.size() == 20 ? 0 : 1;
    if (i == 0 || !ok || s.size() != 20)
      continue;
    runs_ms.push_back(run_ms);
    for (std::size_t k = 1; k < s.size(); ++k)
      gaps_us.push_back(std::chrono::duration<double, std::micro>(s[k] - s[k - 1]).count());
  }
  cli::set_step_observer(nullptr);
  auto commits = static_cast<double>(rt.store().stats().commits);
  std::printf("latency step_p50_us %.1f step_p90_us %.1f run_p50_ms %.3f "
              "floor_p50_us %.1f floor_p90_us %.1f layout_p50_us %.1f "
              "commits_per_step %.2f bad %d\n",
              quantile(gaps_us, 0.5), quantile(gaps_us, 0.9), median(runs_ms),
              quantile(floor_us, 0.5), quantile(floor_us, 0.9), quantile(layout_us, 0.5),
              commits / (20.0 * static_cast<double>(a.runs + 1)), bad);
  return bad == 0 ? 0 : 1;
}

/// All runs started at once (creations share group commits, as in
/// `endure pipeline`); seconds from the first start to the last result.
int all_at_once(runtime& rt, const child_args& a) {
  auto t0 = bench_clock::now();
  std::latch started{static_cast<std::ptrdiff_t>(a.runs)};
  for (std::size_t i = 0; i < a.runs; ++i) {
    auto id = run_name("pipeline", i);
    rt.start_async("seed_pipeline", id, to_bytes(id),
                   [&started](expected<run_status>) { started.count_down(); });
  }
  started.wait();
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < a.runs; ++i)
    ids.push_back(run_name("pipeline", i));
  std::vector<run_outcome> outs;
  for (auto& id : ids) {
    auto out = rt.wait(id, std::chrono::minutes(10));
    outs.push_back(out ? *out : run_outcome{run_status::failed, {}, out.error().message});
  }
  double seconds = seconds_since(t0);
  std::printf("results_in\n");  // before checking them: the parent's stopwatch
  std::fflush(stdout);
  int bad = 0;
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (outs[i].status != run_status::completed
        || outs[i].value<std::string>() != cli::seed_expected(ids[i]))
      ++bad;
  auto st = rt.store().stats();
  std::printf("%s seconds %.6f commits %llu batches %llu bad %d\n", a.scenario.c_str(),
              seconds, static_cast<unsigned long long>(st.commits),
              static_cast<unsigned long long>(st.batches), bad);
  std::fflush(stdout);
  // Hold the memory a little longer, so the parent's 200 ms PSS sampler
  // sees the process as it was at the end of the work.
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  return bad == 0 ? 0 : 1;
}

/// The workload's step bodies are a few microseconds of CPU, so the bench
/// runs them on one activity thread per core, as a user would configure
/// CPU-bound steps (the default of 8 is for steps blocked on the network):
/// more threads than cores only preempt the journal writer. With 8, on 2
/// cores: 30k -> 42k sync, 39k -> 62k nosync steps/s, 137 -> 478 batches
/// per commit. $ENDURE_BENCH_ACTIVITY_THREADS overrides it.
std::size_t activity_threads() {
  if (const char* n = std::getenv("ENDURE_BENCH_ACTIVITY_THREADS"))
    return std::strtoull(n, nullptr, 10);
  return std::max(1u, std::thread::hardware_concurrency());
}

/// CAF options from $ENDURE_BENCH_CAF (space-separated, CAF's command-line
/// syntax, e.g. "--work-stealing.moderate-poll-attempts=0"), to compare
/// scheduler settings without rebuilding.
void apply_caf_options(caf::actor_system_config& cfg) {
  const char* env = std::getenv("ENDURE_BENCH_CAF");
  if (!env || !*env)
    return;
  std::vector<std::string> words{"pipeline"};
  std::istringstream in{env};
  for (std::string w; in >> w;)
    words.push_back(w);
  std::vector<char*> argv;
  for (auto& w : words)
    argv.push_back(w.data());
  cfg.parse(static_cast<int>(argv.size()), argv.data());
}

/// A polling time from the environment (to compare settings without a
/// rebuild), or `fallback`.
std::chrono::microseconds micros_from_env(const char* name, std::chrono::microseconds fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::chrono::microseconds{std::stoll(v)} : fallback;
}

int run_scenario(const child_args& a) {
  int fd = -1;
  if (!a.counter.empty()) {
    fd = ::open(a.counter.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
      throw std::runtime_error("cannot open counter file " + a.counter);
  }
  cli::set_counter_fd(fd);
  workflow_registry workflows;
  cli::register_seed_pipeline(workflows);
  register_wait_for_go(workflows);
  runtime_options opts;
  opts.passivate_after = std::chrono::milliseconds(100);  // the scale scenarios
  opts.activity_threads = activity_threads();
  opts.journal.data_dir = a.data_dir;
  opts.journal.mode = mode_of(a);
  opts.journal.writer_spin = micros_from_env("ENDURE_BENCH_WRITER_SPIN_US", opts.journal.writer_spin);
  caf::actor_system_config cfg;
  // as the `endure` CLI does
  apply_recommended_settings(cfg, micros_from_env("ENDURE_BENCH_SCHEDULER_SPIN_US",
                                                  std::chrono::microseconds{300}));
  apply_caf_options(cfg);
  caf::actor_system sys{cfg};
  auto opened = bench_clock::now();
  auto rt = runtime::open(sys, opts, std::move(workflows));
  if (!rt)
    throw std::runtime_error(rt.error().message);
  if (a.scenario == "latency" || a.scenario == "latency_pooled")
    return latency(**rt, a);
  if (a.scenario == "passivate")
    return passivate_runs(**rt, a);
  if (a.scenario == "wake")
    return wake_runs(**rt, a, opened);
  return all_at_once(**rt, a);
}

} // namespace

std::vector<std::string> child_argv(const child_args& a) {
  std::vector<std::string> argv{"/proc/self/exe", "--child", a.scenario, "--data",
                                a.data_dir,       "--mode",  a.mode,     "--runs",
                                std::to_string(a.runs)};
  if (!a.counter.empty()) {
    argv.push_back("--counter");
    argv.push_back(a.counter);
  }
  return argv;
}

int child_main(int argc, char** argv) try {
  child_args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i], value = argv[i + 1];
    if (key == "--child") a.scenario = value;
    else if (key == "--data") a.data_dir = value;
    else if (key == "--mode") a.mode = value;
    else if (key == "--counter") a.counter = value;
    else if (key == "--runs") a.runs = std::strtoull(value.c_str(), nullptr, 10);
    else throw std::runtime_error("unknown child argument " + key);
  }
  return run_scenario(a);
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench/pipeline child: %s\n", e.what());
  return 1;
}

} // namespace endure::bench
