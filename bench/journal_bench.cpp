// bench/journal: how close the journal comes to raw LMDB on this disk.
//
// Each repetition measures, in a fresh scratch directory each, the floor
// (raw LMDB C API: one-put synced commits, 1000-put synced transactions) and
// the journal (blocking single-appender latency; 1, 100 and 1000 concurrent
// asynchronous appenders), interleaved so disk noise hits both alike. Every
// figure printed is the median over the repetitions, with its ratio to the
// floor. A program that prints figures: nothing here passes or fails.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <exception>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_support.hpp"
#include "bench/journal_load.hpp"
#include "bench/lmdb_floor.hpp"

using namespace endure;
using namespace endure::bench;

namespace {

enum figure {
  floor_p50, floor_p90, floor_commit_rate, floor_batched, floor_batched_seq,
  journal_p50, journal_p90, journal_rate_1, journal_rate_100, journal_rate_1000,
  figure_count
};

/// Journal scenarios whose writer counters are reported.
enum scenario { single_latency, appenders_1, appenders_100, appenders_1000, scenario_count };

struct results {
  std::array<std::vector<double>, figure_count> values;
  std::array<load_stats, scenario_count> stats{};
};

void add(load_stats& sum, const load_stats& s) {
  sum.commits += s.commits;
  sum.batches += s.batches;
  sum.failed += s.failed;
}

double appenders_rate(const options& opts, const workload& w, const scratch_dir& scratch,
                      int appenders, load_stats& sum) {
  auto dir = scratch.fresh("journal");
  int each = appenders == 1 ? w.appends_per_appender_1 : w.appends_per_appender_n;
  load_stats s;
  double rate = journal_appenders(dir, opts.mode, appenders, each, opts.inline_commit, s);
  add(sum, s);
  scratch.wipe(dir);
  return rate;
}

void run_latency_pair(const options& opts, const workload& w, const scratch_dir& scratch,
                      results& out) {
  auto dir = scratch.fresh("floor");
  auto floor = floor_commit_latency(dir, opts.mode, w.latency_commits);
  scratch.wipe(dir);
  out.values[floor_p50].push_back(quantile(floor.micros, 0.5));
  out.values[floor_p90].push_back(quantile(floor.micros, 0.9));
  out.values[floor_commit_rate].push_back(w.latency_commits / floor.wall_seconds);

  dir = scratch.fresh("journal");
  load_stats s;
  auto mine = journal_commit_latency(dir, opts.mode, w.latency_commits, s);
  add(out.stats[single_latency], s);
  scratch.wipe(dir);
  out.values[journal_p50].push_back(quantile(mine.micros, 0.5));
  out.values[journal_p90].push_back(quantile(mine.micros, 0.9));
}

void run_one_rep(const options& opts, const workload& w, const scratch_dir& scratch,
                 results& out) {
  run_latency_pair(opts, w, scratch, out);
  auto dir = scratch.fresh("floor");
  out.values[floor_batched].push_back(floor_batched_puts(
    dir, opts.mode, w.batched_txns, w.puts_per_txn, key_layout::one_run_per_put));
  scratch.wipe(dir);
  dir = scratch.fresh("floor");
  out.values[floor_batched_seq].push_back(floor_batched_puts(
    dir, opts.mode, w.batched_txns, w.puts_per_txn, key_layout::sequential));
  scratch.wipe(dir);
  out.values[journal_rate_1].push_back(
    appenders_rate(opts, w, scratch, 1, out.stats[appenders_1]));
  out.values[journal_rate_100].push_back(
    appenders_rate(opts, w, scratch, 100, out.stats[appenders_100]));
  out.values[journal_rate_1000].push_back(
    appenders_rate(opts, w, scratch, 1000, out.stats[appenders_1000]));
}

// -- printing ----------------------------------------------------------------

std::string load_average() {
  std::ifstream in{"/proc/loadavg"};
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

void print_header(const options& opts, const scratch_dir& scratch) {
  char host[256] = "?";
  ::gethostname(host, sizeof host - 1);
  char when[64];
  auto now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M %Z", std::localtime(&now));
  std::printf("endure journal benchmark: %s, host %s, %u cores, load %s\n", when, host,
              std::thread::hardware_concurrency(), load_average().c_str());
  std::printf("mode %s, %d repetitions%s%s, payload %zu bytes, scratch %s\n\n",
              to_string(opts.mode), opts.reps, opts.quick ? " (--quick)" : "",
              opts.inline_commit ? ", --inline-commit" : "", payload_size,
              scratch.path().c_str());
}

std::string with_commas(double v) {
  auto digits = std::to_string(static_cast<long long>(v + 0.5));
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string format_value(double v, bool latency) {
  if (!latency)
    return with_commas(v) + " /s";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f us", v);
  return buf;
}

std::string format_range(const std::vector<double>& v, bool latency) {
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  if (latency) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.1f..%.1f", *lo, *hi);
    return buf;
  }
  return with_commas(*lo) + ".." + with_commas(*hi);
}

struct row {
  const char* label;
  figure fig;
  bool latency;
  int floor_fig;          ///< figure the ratio is taken against, or -1
  const char* target;     ///< "" if none
};

void print_row(const results& r, const row& w) {
  double value = median(r.values[w.fig]);
  std::string ratio;
  if (w.floor_fig >= 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2fx", value / median(r.values[w.floor_fig]));
    ratio = buf;
  }
  std::printf("%-38s %14s  %-22s %7s  %s\n", w.label, format_value(value, w.latency).c_str(),
              format_range(r.values[w.fig], w.latency).c_str(), ratio.c_str(), w.target);
}

void print_table(const results& r) {
  static const row rows[] = {
    {"floor (a) raw commit latency p50", floor_p50, true, -1, ""},
    {"floor (a) raw commit latency p90", floor_p90, true, -1, ""},
    {"floor (a) raw commits/s, 1 put/txn", floor_commit_rate, false, -1, ""},
    {"floor (b) raw puts/s, 1000 runs/txn", floor_batched, false, -1, ""},
    {"  (b') same, sequential keys, one run", floor_batched_seq, false, -1, ""},
    {"journal (a) append latency p50", journal_p50, true, floor_p50, "target <= 1.10x"},
    {"journal (a) append latency p90", journal_p90, true, floor_p90, ""},
    {"journal (b) appends/s, 1 appender", journal_rate_1, false, floor_commit_rate, ""},
    {"journal (b) appends/s, 100 appenders", journal_rate_100, false, floor_batched, ""},
    {"journal (b) appends/s, 1000 appenders", journal_rate_1000, false, floor_batched,
     "target >= 0.50x"},
    {"  (b') 1000 appenders vs sequential", journal_rate_1000, false, floor_batched_seq, ""},
  };
  std::printf("%-38s %14s  %-22s %7s\n", "figure (median of reps)", "value",
              "min..max over reps", "/floor");
  for (auto& w : rows)
    print_row(r, w);
}

void print_stats(const results& r) {
  static const char* names[] = {"(a) 1 blocking appender", "(b) 1 appender",
                                "(b) 100 appenders", "(b) 1000 appenders"};
  std::printf("\njournal writer, all repetitions      commits      batches  batches/commit  failed\n");
  for (int s = 0; s < scenario_count; ++s) {
    auto& st = r.stats[s];
    double avg = st.commits ? static_cast<double>(st.batches) / st.commits : 0;
    std::printf("%-34s %10s %12s %15.1f %7llu\n", names[s], with_commas(st.commits).c_str(),
                with_commas(st.batches).c_str(), avg,
                static_cast<unsigned long long>(st.failed));
  }
}

} // namespace

int main(int argc, char** argv) try {
  int exit_code = 0;
  auto opts = parse_options(argc, argv, exit_code);
  if (!opts)
    return exit_code;
  auto work = workload_for(*opts);
  scratch_dir scratch{opts->dir};
  print_header(*opts, scratch);
  std::fflush(stdout);
  results r;
  for (int rep = 1; rep <= opts->reps; ++rep) {
    std::fprintf(stderr, "repetition %d/%d\n", rep, opts->reps);
    run_one_rep(*opts, work, scratch, r);
  }
  print_table(r);
  print_stats(r);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench/journal: %s\n", e.what());
  return 1;
}
