// bench/pipeline: the three measurements of ../shared/bench/WORKLOAD.md on
// endure (per-step latency, throughput with peak memory, crash recovery),
// with the storage floor measured in the same repetition on the same disk,
// in durability sync and nosync. Prints one table per mode: medians over the
// repetitions, ratios to the floor and to the best peer of PEERS.md. A
// program that prints figures: nothing here passes or fails.
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_support.hpp"
#include "bench/lmdb_floor.hpp"
#include "bench/pipeline_child.hpp"
#include "bench/pipeline_measure.hpp"

using namespace endure;
using namespace endure::bench;

namespace {

/// The malloc this program (and so the measured child) runs on: jemalloc
/// when the build linked it (ENDURE_JEMALLOC), else the C library's.
const char* allocator_name() {
  return ::dlsym(RTLD_DEFAULT, "mallctl") ? "jemalloc (linked)" : "C library malloc";
}

/// The workload's sizes (WORKLOAD.md); smaller with --quick.
struct sizes {
  int latency_runs = 50;
  int throughput_runs = 1000;
  int crash_runs = 200;
  long kill_at_lines = 2000;
  int floor_commits = 1000;
  int floor_txns = 100;
};

/// Every figure of one mode, one value per repetition.
using samples = std::map<std::string, std::vector<double>>;

/// Raw commit latencies, half before and half after endure's measurements
/// of the repetition, so a noisy stretch of the shared disk hits both.
std::vector<double> floor_commits(const scratch_dir& scratch, durability mode,
                                  const sizes& z) {
  auto dir = scratch.fresh("floor");
  int commits = mode == durability::nosync ? 10 * z.floor_commits : z.floor_commits;
  auto lat = floor_commit_latency(dir, mode, commits / 2);
  scratch.wipe(dir);
  return lat.micros;
}

void run_floor(const scratch_dir& scratch, durability mode, const sizes& z,
               std::vector<double> commits, samples& s) {
  s["floor_p50"].push_back(quantile(commits, 0.5));
  s["floor_p90"].push_back(quantile(commits, 0.9));
  auto dir = scratch.fresh("floor");
  s["floor_puts"].push_back(
    floor_batched_puts(dir, mode, z.floor_txns, 1000, key_layout::one_run_per_put));
  scratch.wipe(dir);
  dir = scratch.fresh("floor");
  s["floor_puts_seq"].push_back(
    floor_batched_puts(dir, mode, z.floor_txns, 1000, key_layout::sequential));
  scratch.wipe(dir);
}

void run_endure(const scratch_dir& scratch, durability mode, const sizes& z, samples& s) {
  auto dir = scratch.fresh("endure");
  auto lat = measure_latency(dir, mode, z.latency_runs);
  scratch.wipe(dir);
  s["step_p50"].push_back(lat.step_p50_us);
  s["step_p90"].push_back(lat.step_p90_us);
  s["run_p50"].push_back(lat.run_p50_ms);
  s["lat_floor_p50"].push_back(lat.floor_p50_us);
  s["lat_floor_p90"].push_back(lat.floor_p90_us);
  s["lat_layout_p50"].push_back(lat.layout_p50_us);
  s["commits_per_step"].push_back(lat.commits_per_step);
  s["bad"].push_back(lat.bad_runs);
  dir = scratch.fresh("endure");
  auto pooled = measure_latency(dir, mode, z.latency_runs, true);
  scratch.wipe(dir);
  s["pooled_p50"].push_back(pooled.step_p50_us);
  s["pooled_floor_p50"].push_back(pooled.floor_p50_us);
  s["bad"].push_back(pooled.bad_runs);
  dir = scratch.fresh("endure");
  auto tp = measure_throughput(dir, mode, z.throughput_runs);
  scratch.wipe(dir);
  s["steps_per_s"].push_back(tp.steps_per_second);
  s["pss"].push_back(tp.peak_pss_mib);
  s["batches_per_commit"].push_back(tp.batches_per_commit);
  s["bad"].push_back(tp.bad_runs);
  dir = scratch.fresh("endure");
  auto c = measure_crash(dir, mode, z.crash_runs, z.kill_at_lines);
  scratch.wipe(dir);
  s["recovery"].push_back(c.recovery_seconds);
  s["re_executed"].push_back(static_cast<double>(c.re_executed));
  s["in_flight"].push_back(static_cast<double>(c.lines_at_kill - c.durable_at_kill));
  s["lines_at_kill"].push_back(static_cast<double>(c.lines_at_kill));
  s["bad"].push_back(c.bad_runs + (c.distinct == 20L * z.crash_runs ? 0 : 1));
}

/// --scale: the crash measurement with 10,000 runs killed half way; 100,000
/// runs parked on a signal, passivated, restarted and woken.
void run_scale(const scratch_dir& scratch, durability mode, samples& s) {
  auto dir = scratch.fresh("endure");
  auto c = measure_crash(dir, mode, 10'000, 100'000);
  scratch.wipe(dir);
  s["scale_recovery"].push_back(c.recovery_seconds);
  s["scale_re_executed"].push_back(static_cast<double>(c.re_executed));
  s["scale_in_flight"].push_back(static_cast<double>(c.lines_at_kill - c.durable_at_kill));
  s["bad"].push_back(c.bad_runs + (c.distinct == 200'000 ? 0 : 1));
  dir = scratch.fresh("endure");
  auto p = measure_passivation(dir, mode, 100'000);
  scratch.wipe(dir);
  s["park_seconds"].push_back(p.park_seconds);
  s["park_pss"].push_back(p.end_pss_mib);
  s["park_zero_pss"].push_back(p.zero_pss_mib);
  s["park_peak_pss"].push_back(p.peak_pss_mib);
  s["wake_seconds"].push_back(p.wake_seconds);
  s["bad"].push_back(p.bad_runs);
}

// -- printing ------------------------------------------------------------------

std::string load_average() {
  std::ifstream in{"/proc/loadavg"};
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

/// One table row: figure, median, range, ratio to floor, ratio to best peer.
struct row {
  const char* label;
  const char* key;
  const char* format;             ///< printf format of one value
  std::function<double(const samples&)> floor;  ///< denominator, or null
  double peer = 0;                ///< best peer figure (same unit), 0 = none
  const char* peer_name = "";
};

double med(const samples& s, const char* key) { return median(s.at(key)); }

void print_row(const samples& s, const row& r) {
  auto& v = s.at(r.key);
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  double m = median(v);
  auto range = fmt(r.format, *lo) + ".." + fmt(r.format, *hi);
  std::string to_floor = r.floor ? fmt("%.2fx", m / r.floor(s)) : "";
  std::string to_peer = r.peer > 0 ? fmt("%.3fx", m / r.peer) + " of " + fmt(r.format, r.peer)
                                       + " " + r.peer_name
                                   : "";
  std::printf("%-40s %12s  %-22s %8s  %s\n", r.label, fmt(r.format, m).c_str(), range.c_str(),
              to_floor.c_str(), to_peer.c_str());
}

void print_table(durability mode, const samples& s, int reps) {
  std::printf("\n== durability %s%s, medians of %d repetitions ==\n", to_string(mode),
              mode == durability::nosync ? " (survives a process crash, not an OS crash)"
              : mode == durability::wal  ? " (one write-ahead log flush per commit; the floor "
                                           "is LMDB's synced commit)"
                                         : " (fsync on every commit)",
              reps);
  auto floor_p50 = [](const samples& x) { return med(x, "lat_floor_p50"); };
  auto floor_p90 = [](const samples& x) { return med(x, "lat_floor_p90"); };
  auto floor_20 = [](const samples& x) { return 20 * med(x, "lat_floor_p50") / 1000; };
  auto floor_puts = [](const samples& x) { return med(x, "floor_puts"); };
  auto pooled_floor = [](const samples& x) { return med(x, "pooled_floor_p50"); };
  auto layout_floor = [](const samples& x) { return med(x, "lat_layout_p50"); };
  const row rows[] = {
    {"floor: raw commit, 1 put, p50 (us)", "floor_p50", "%.1f", nullptr},
    {"floor: raw commit, 1 put, p90 (us)", "floor_p90", "%.1f", nullptr},
    {"floor: same, interleaved with a), p50", "lat_floor_p50", "%.1f", nullptr},
    {"floor: same, interleaved with a), p90", "lat_floor_p90", "%.1f", nullptr},
    {"floor: journal layout, interleaved, p50", "lat_layout_p50", "%.1f", floor_p50},
    {"floor: raw puts/s, 1000 runs/txn", "floor_puts", "%.0f", nullptr},
    {"floor: raw puts/s, 1000 seq keys/txn", "floor_puts_seq", "%.0f", nullptr},
    {"a) per-step latency p50 (us)", "step_p50", "%.1f", floor_p50, 2530, "Restate"},
    {"a) per-step latency p90 (us)", "step_p90", "%.1f", floor_p90, 6140, "Restate"},
    {"a) same p50 / journal-layout floor", "step_p50", "%.1f", layout_floor},
    {"a) per-run latency p50 (ms) [/20 commits]", "run_p50", "%.2f", floor_20, 79.8,
     "Restate"},
    {"a) same, steps on the pool, p50 (us)", "pooled_p50", "%.1f", pooled_floor, 2530,
     "Restate"},
    {"a) journal transactions per step", "commits_per_step", "%.2f", nullptr},
    {"b) throughput, durable steps/s", "steps_per_s", "%.0f", floor_puts, 1256, "Restate"},
    {"b)   journal batches per transaction", "batches_per_commit", "%.1f", nullptr},
    {"b) peak PSS during throughput (MiB)", "pss", "%.1f", nullptr, 227, "DBOS"},
    {"c) crash: re-executed steps of 4,000", "re_executed", "%.0f", nullptr},
    {"c)   steps in flight at the kill", "in_flight", "%.0f", nullptr},
    {"c)   step bodies run before the kill", "lines_at_kill", "%.0f", nullptr},
    {"c) recovery, restart to 200 results (s)", "recovery", "%.3f", nullptr, 4.25,
     "Restate"},
  };
  const row scale_rows[] = {
    {"scale: recovery of 10,000 unfinished (s)", "scale_recovery", "%.3f", nullptr},
    {"scale:   re-executed steps of 200,000", "scale_re_executed", "%.0f", nullptr},
    {"scale:   steps in flight at the kill", "scale_in_flight", "%.0f", nullptr},
    {"scale: 100,000 parked + passivated (s)", "park_seconds", "%.2f", nullptr},
    {"scale:   PSS as the last passivated (MiB)", "park_zero_pss", "%.1f", nullptr},
    {"scale:   PSS at rest, 1.5 s later (MiB)", "park_pss", "%.1f", nullptr},
    {"scale:   peak PSS while parking (MiB)", "park_peak_pss", "%.1f", nullptr},
    {"scale:   restart + signal all to done (s)", "wake_seconds", "%.2f", nullptr},
  };
  std::printf("%-40s %12s  %-22s %8s  %s\n", "figure", "median", "min..max", "/floor",
              "/best peer (PEERS.md)");
  for (auto& r : rows)
    print_row(s, r);
  if (s.count("scale_recovery"))
    for (auto& r : scale_rows)
      print_row(s, r);
  double bad = 0;
  for (double b : s.at("bad"))
    bad += b;
  std::printf("checks: %s\n", bad == 0 ? "every result = expected v20; crash runs left "
                                         "exactly 20 x runs distinct counter lines"
                                       : "FAILED (wrong or missing results, see stderr)");
}

void print_header(const options& o, const scratch_dir& scratch, const sizes& z) {
  char host[256] = "?";
  ::gethostname(host, sizeof host - 1);
  char when[64];
  auto now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  std::printf("endure pipeline benchmark (WORKLOAD.md): %s, host %s, %u cores, load %s\n",
              when, host, std::thread::hardware_concurrency(), load_average().c_str());
  std::printf("%d repetitions%s; latency %d runs, throughput %d runs, crash %d runs killed "
              "at %ld lines; scratch %s\n",
              o.reps, o.quick ? " (--quick)" : "", z.latency_runs, z.throughput_runs,
              z.crash_runs, z.kill_at_lines, scratch.path().c_str());
  const char* threads = std::getenv("ENDURE_BENCH_ACTIVITY_THREADS");
  std::printf("runtime: endure::apply_recommended_settings, %s activity threads (%s); "
              "allocator: %s\n",
              threads ? threads : std::to_string(std::thread::hardware_concurrency()).c_str(),
              threads ? "$ENDURE_BENCH_ACTIVITY_THREADS" : "one per core", allocator_name());
  std::printf("/floor: latency / raw commit p50 (p90 / p90) interleaved with the runs "
              "(per-run: / 20 commits),\nthroughput / raw puts/s (1000 runs/txn).\n/best peer: ours / peer; lower is better except "
              "throughput.\n");
}

} // namespace

int main(int argc, char** argv) try {
  if (argc > 1 && std::strcmp(argv[1], "--child") == 0)
    return child_main(argc, argv);
  int exit_code = 0;
  auto opts = parse_options(argc, argv, exit_code);
  if (!opts)
    return exit_code;
  sizes z;
  if (opts->quick)
    z.latency_runs = 10;
  std::vector<durability> modes{durability::sync, durability::nosync};
  if (opts->mode_given)
    modes = {opts->mode};
  scratch_dir scratch{opts->dir};
  print_header(*opts, scratch, z);
  std::fflush(stdout);
  std::map<durability, samples> all;
  for (int rep = 1; rep <= opts->reps; ++rep)
    for (auto mode : modes) {
      std::fprintf(stderr, "repetition %d/%d, %s\n", rep, opts->reps, to_string(mode));
      auto commits = floor_commits(scratch, mode, z);
      run_endure(scratch, mode, z, all[mode]);
      auto after = floor_commits(scratch, mode, z);
      commits.insert(commits.end(), after.begin(), after.end());
      run_floor(scratch, mode, z, std::move(commits), all[mode]);
      if (opts->scale)
        run_scale(scratch, mode, all[mode]);
    }
  for (auto mode : modes)
    print_table(mode, all[mode], opts->reps);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench/pipeline: %s\n", e.what());
  return 1;
}
