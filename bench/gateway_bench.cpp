// bench/gateway: the human gateway's figures of issue 15 (decision -> run
// resumed against one synced commit; 100,000 pending requests in memory;
// the first inbox page; a restart until the gateway answers), with the
// storage floor measured in the same run. Prints one table of medians over
// the repetitions. A program that prints figures: nothing here passes or
// fails. See bench/README.md.
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
#include "bench/gateway_child.hpp"
#include "bench/gateway_measure.hpp"

using namespace endure::bench;

namespace {

struct gateway_options {
  std::string mode = "sync";
  int reps = 3;
  std::size_t samples = 500;     ///< decisions per resume measurement
  std::size_t requests = 100'000;
  int restarts = 3;              ///< restarts per populated directory
  bool scale = true;             ///< the 100,000-request figures
  std::string dir;
};

void usage(const char* argv0) {
  std::printf(
    "usage: %s [--mode sync|wal|nometasync|nosync] [--reps N] [--samples N] [--requests N]\n"
    "          [--restarts N] [--no-scale] [--quick] [--dir DIR]\n"
    "  --mode        durability of every commit (default sync)\n"
    "  --reps N      repetitions; each figure is the median (default 3)\n"
    "  --samples N   decisions timed per resume measurement (default 500)\n"
    "  --requests N  pending requests (one per passivated run) for 2-4 (default 100000)\n"
    "  --restarts N  restarts timed per repetition (default 3)\n"
    "  --no-scale    only the resume latency (1)\n"
    "  --quick       smoke run: 1 repetition, 50 samples, 5000 requests\n"
    "  --dir DIR     put the scratch directory in DIR (default $TMPDIR or /tmp)\n",
    argv0);
}

bool parse(int argc, char** argv, gateway_options& o, int& exit_code) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    bool has_value = i + 1 < argc;
    auto number = [&] { return std::strtoull(argv[++i], nullptr, 10); };
    if (arg == "--help" || arg == "-h") {
      usage(argv[0]);
      exit_code = 0;
      return false;
    } else if (arg == "--quick") {
      o.reps = 1, o.samples = 50, o.requests = 5000, o.restarts = 2;
    } else if (arg == "--no-scale") {
      o.scale = false;
    } else if (arg == "--mode" && has_value) {
      o.mode = argv[++i];
    } else if (arg == "--reps" && has_value) {
      o.reps = static_cast<int>(number());
    } else if (arg == "--samples" && has_value) {
      o.samples = number();
    } else if (arg == "--requests" && has_value) {
      o.requests = number();
    } else if (arg == "--restarts" && has_value) {
      o.restarts = static_cast<int>(number());
    } else if (arg == "--dir" && has_value) {
      o.dir = argv[++i];
    } else {
      std::fprintf(stderr, "unknown or incomplete argument %s\n", argv[i]);
      usage(argv[0]);
      exit_code = 2;
      return false;
    }
  }
  if (o.reps < 1 || o.samples < 1 || o.requests < 200 || o.restarts < 1
      || (o.mode != "sync" && o.mode != "nometasync" && o.mode != "nosync" && o.mode != "wal")) {
    std::fprintf(stderr, "bad arguments: reps, samples, restarts >= 1, requests >= 200, "
                         "mode sync, wal, nometasync or nosync\n");
    exit_code = 2;
    return false;
  }
  return true;
}

/// Every figure, one value per repetition.
using samples = std::map<std::string, std::vector<double>>;

void run_resume(const scratch_dir& scratch, const gateway_options& o, bool passivated,
                samples& s) {
  auto dir = scratch.fresh("resume");
  auto f = measure_resume(dir, o.mode, o.samples, passivated);
  scratch.wipe(dir);
  std::string k = passivated ? "passive_" : "live_";
  s[k + "p50"].push_back(f.p50_us);
  s[k + "p99"].push_back(f.p99_us);
  s[k + "decide"].push_back(f.decide_p50_us);
  s[k + "floor_p50"].push_back(f.floor_p50_us);
  s[k + "floor_p99"].push_back(f.floor_p99_us);
  s[k + "commits"].push_back(f.commits_p50);
  s[k + "commits_max"].push_back(f.commits_max);
  s["bad"].push_back(f.bad);
}

void run_scale(const scratch_dir& scratch, const gateway_options& o, samples& s) {
  auto dir = scratch.fresh("scale");
  auto p = measure_populate(dir, o.mode, o.requests);
  s["populate_s"].push_back(p.seconds);
  s["zero_pss"].push_back(p.zero_pss_mib);
  s["rest_pss"].push_back(p.rest_pss_mib);
  s["rest_anon"].push_back(p.rest_anon_mib);
  s["rest_file"].push_back(p.rest_file_mib);
  s["peak_pss"].push_back(p.peak_pss_mib);
  s["pending"].push_back(p.pending);
  s["bad"].push_back(p.bad);
  auto in = measure_inbox(dir, 5);
  s["inbox_fn"].push_back(in.function_ms);
  s["inbox_cli"].push_back(in.cli_ms);
  s["inbox_total"].push_back(in.total);
  s["bad"].push_back(in.bad + (in.shown == 100 ? 0 : 1));
  std::vector<double> open, first, ready, ready_pss, rest_pss, rest_anon, rest_file;
  for (int r = 0; r < o.restarts; ++r) {
    // Two requests a restart, none decided twice.
    auto f = measure_restart(dir, o.mode, static_cast<std::size_t>(r) * 997 % (o.requests - 1));
    open.push_back(f.open_s);
    first.push_back(f.first_s);
    ready.push_back(f.ready_s);
    ready_pss.push_back(f.ready_pss_mib);
    rest_pss.push_back(f.rest_pss_mib);
    rest_anon.push_back(f.rest_anon_mib);
    rest_file.push_back(f.rest_file_mib);
    s["bad"].push_back(f.bad);
  }
  s["restart_open"].push_back(median(open));
  s["restart_first"].push_back(median(first));
  s["restart_ready"].push_back(median(ready));
  s["restart_pss"].push_back(median(ready_pss));
  s["restart_rest_pss"].push_back(median(rest_pss));
  s["restart_anon"].push_back(median(rest_anon));
  s["restart_file"].push_back(median(rest_file));
  scratch.wipe(dir);
}

// -- printing ------------------------------------------------------------------

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

struct row {
  const char* label;
  const char* key;
  const char* format;
  const char* floor_key = nullptr;  ///< ratio to this figure's median, or none
  const char* target = "";
};

void print_row(const samples& s, const row& r) {
  auto it = s.find(r.key);
  if (it == s.end())
    return;
  auto& v = it->second;
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  double m = median(v);
  auto ratio = r.floor_key ? fmt("%.2fx", m / median(s.at(r.floor_key))) : std::string{};
  std::printf("%-44s %10s  %-20s %7s  %s\n", r.label, fmt(r.format, m).c_str(),
              (fmt(r.format, *lo) + ".." + fmt(r.format, *hi)).c_str(), ratio.c_str(), r.target);
}

void print_table(const gateway_options& o, const samples& s) {
  std::printf("\n%-44s %10s  %-20s %7s  %s\n", "figure", "median", "min..max", "/floor",
              "target");
  const row rows[] = {
    {"floor: raw commit, 1 put, p50 (us)", "live_floor_p50", "%.1f"},
    {"floor: raw commit, 1 put, p99 (us)", "live_floor_p99", "%.1f"},
    {"1) decision -> run resumed, p50 (us)", "live_p50", "%.1f", "live_floor_p50",
     "p50 < 2x one synced commit"},
    {"1)   p99 (us)", "live_p99", "%.1f", "live_floor_p99"},
    {"1)   runtime::decide answered, p50 (us)", "live_decide", "%.1f", "live_floor_p50"},
    {"1)   journal commits in the span, p50", "live_commits", "%.1f"},
    {"1)   journal commits in the span, max", "live_commits_max", "%.1f"},
    {"1') same, run passivated first, p50 (us)", "passive_p50", "%.1f", "passive_floor_p50",
     "p50 < 2x one synced commit"},
    {"1')   p99 (us)", "passive_p99", "%.1f", "passive_floor_p99"},
    {"1')   runtime::decide answered, p50 (us)", "passive_decide", "%.1f",
     "passive_floor_p50"},
    {"1')   journal commits in the span, p50", "passive_commits", "%.1f"},
    {"1')   floor between these samples, p50 (us)", "passive_floor_p50", "%.1f"},
    {"2) requests raised + runs passivated (s)", "populate_s", "%.2f"},
    {"2)   pending requests counted after", "pending", "%.0f"},
    {"2) PSS at rest, 1.5 s after (MiB)", "rest_pss", "%.1f", nullptr, "< 250 MiB"},
    {"2)   of which heap (Pss_Anon)", "rest_anon", "%.1f"},
    {"2)   of which the mapped journal (Pss_File)", "rest_file", "%.1f"},
    {"2)   PSS as the last run passivated (MiB)", "zero_pss", "%.1f"},
    {"2)   peak PSS while raising (MiB)", "peak_pss", "%.1f"},
    {"3) first inbox page, read_inbox (ms)", "inbox_fn", "%.1f", nullptr, "< 50 ms"},
    {"3)   endure inbox, process end to end (ms)", "inbox_cli", "%.1f", nullptr, "< 50 ms"},
    {"3)   pending requests it counts", "inbox_total", "%.0f"},
    {"4) restart: runtime::open returned (s)", "restart_open", "%.3f"},
    {"4)   first decision, sent at once (s)", "restart_first", "%.3f"},
    {"4) restart: until a decision is answered (s)", "restart_ready", "%.3f", nullptr, "< 2 s"},
    {"4)   PSS of the restarted process then (MiB)", "restart_pss", "%.1f"},
    {"4)   PSS 1.5 s later (MiB)", "restart_rest_pss", "%.1f", nullptr, "< 250 MiB"},
    {"4)   of which heap (Pss_Anon)", "restart_anon", "%.1f"},
    {"4)   of which the mapped journal (Pss_File)", "restart_file", "%.1f"},
  };
  for (auto& r : rows)
    print_row(s, r);
  double bad = 0;
  for (double b : s.at("bad"))
    bad += b;
  std::printf("checks: %s\n",
              bad == 0 ? "every decision resumed its run and it completed; every request "
                         "pending; every inbox listed a full page"
                       : "FAILED (see stderr)");
  (void)o;
}

std::string load_average() {
  std::ifstream in{"/proc/loadavg"};
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

void print_header(const gateway_options& o, const scratch_dir& scratch) {
  char host[256] = "?";
  ::gethostname(host, sizeof host - 1);
  char when[64];
  auto now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  std::printf("endure gateway benchmark: %s, host %s, %u cores, load %s\n", when, host,
              std::thread::hardware_concurrency(), load_average().c_str());
  std::printf("mode %s, %d repetitions; %zu decisions per resume figure; %zu pending requests, "
              "one per passivated run, %d restarts per repetition; scratch %s\n",
              o.mode.c_str(), o.reps, o.samples, o.requests, o.restarts,
              scratch.path().c_str());
  std::printf("/floor: ratio to the one-put synced commit measured between the samples (p99 "
              "to p99)\n");
}

} // namespace

int main(int argc, char** argv) try {
  if (argc > 1 && std::strcmp(argv[1], "--child") == 0)
    return gateway_child_main(argc, argv);
  gateway_options o;
  int exit_code = 0;
  if (!parse(argc, argv, o, exit_code))
    return exit_code;
  scratch_dir scratch{o.dir};
  print_header(o, scratch);
  std::fflush(stdout);
  samples s;
  for (int rep = 1; rep <= o.reps; ++rep) {
    std::fprintf(stderr, "repetition %d/%d: resume\n", rep, o.reps);
    run_resume(scratch, o, false, s);
    run_resume(scratch, o, true, s);
    if (o.scale) {
      std::fprintf(stderr, "repetition %d/%d: %zu requests\n", rep, o.reps, o.requests);
      run_scale(scratch, o, s);
    }
  }
  print_table(o, s);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench/gateway: %s\n", e.what());
  return 1;
}
