// Options parsing, scratch directories and small statistics for the journal
// benchmark (see bench_support.hpp).
#include "bench/bench_support.hpp"

#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace endure::bench {

namespace {

void print_usage(const char* argv0) {
  std::printf(
    "usage: %s [--mode sync|wal|nometasync|nosync] [--reps N] [--quick] [--dir DIR]\n"
    "          [--inline-commit] [--scale]\n"
    "  --mode           durability of every commit, floor and journal (default sync)\n"
    "  --reps N         repetitions; each figure is the median (default 5, 3 with --quick)\n"
    "  --quick          a few seconds of work: a smoke run, not a measurement\n"
    "  --dir DIR        put the scratch directory in DIR (default $TMPDIR or /tmp)\n"
    "  --inline-commit  appenders issue their next commit from the completion\n"
    "                   (writer thread) instead of via a feeder thread\n"
    "  --scale          bench/pipeline: also kill and recover 10,000 runs\n",
    argv0);
}

std::optional<durability> parse_mode(std::string_view s) {
  if (s == "sync") return durability::sync;
  if (s == "nometasync") return durability::nometasync;
  if (s == "nosync") return durability::nosync;
  if (s == "wal") return durability::wal;  // the floor stays LMDB's synced commit
  return std::nullopt;
}

std::optional<options> fail(const char* argv0, const std::string& why, int& exit_code) {
  std::fprintf(stderr, "%s\n", why.c_str());
  print_usage(argv0);
  exit_code = 2;
  return std::nullopt;
}

} // namespace

std::optional<options> parse_options(int argc, char** argv, int& exit_code) {
  options opts;
  bool reps_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    bool has_value = i + 1 < argc;
    if (arg == "--help" || arg == "-h") {
      print_usage(argv[0]);
      exit_code = 0;
      return std::nullopt;
    } else if (arg == "--quick") {
      opts.quick = true;
    } else if (arg == "--scale") {
      opts.scale = true;
    } else if (arg == "--inline-commit") {
      opts.inline_commit = true;
    } else if (arg == "--mode" && has_value) {
      auto mode = parse_mode(argv[++i]);
      if (!mode)
        return fail(argv[0], std::string{"unknown mode "} + argv[i], exit_code);
      opts.mode = *mode;
      opts.mode_given = true;
    } else if (arg == "--reps" && has_value) {
      opts.reps = std::atoi(argv[++i]);
      reps_given = true;
      if (opts.reps < 1)
        return fail(argv[0], "--reps needs a positive number", exit_code);
    } else if (arg == "--dir" && has_value) {
      opts.dir = argv[++i];
    } else {
      return fail(argv[0], "unknown or incomplete argument " + std::string{arg}, exit_code);
    }
  }
  if (opts.quick && !reps_given)
    opts.reps = 3;
  return opts;
}

workload workload_for(const options& opts) {
  workload w;
  if (opts.quick) {
    w.latency_commits = 200;
    w.batched_txns = 40;
    w.appends_per_appender_1 = 200;
    w.appends_per_appender_n = 30;
  }
  // Without fsync a commit takes microseconds: do more of them so one
  // scheduler hiccup does not decide the figure.
  if (opts.mode == durability::nosync) {
    w.latency_commits *= 10;
    w.appends_per_appender_1 *= 10;
  }
  return w;
}

// -- scratch_dir -------------------------------------------------------------

scratch_dir::scratch_dir(const std::string& parent) {
  std::string base = parent;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp && *tmp ? tmp : "/tmp";
  }
  std::string templ = base + "/endure-bench-XXXXXX";
  if (!::mkdtemp(templ.data()))
    throw std::runtime_error("cannot create a scratch directory in " + base + ": "
                             + std::strerror(errno));
  path_ = templ;
}

scratch_dir::~scratch_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string scratch_dir::fresh(std::string_view name) const {
  auto sub = path_ + "/" + std::string{name};
  wipe(sub);
  std::filesystem::create_directories(sub);
  return sub;
}

void scratch_dir::wipe(const std::string& sub) const {
  std::error_code ec;
  std::filesystem::remove_all(sub, ec);
}

// -- numbers and shapes ------------------------------------------------------

double quantile(std::vector<double> samples, double q) {
  if (samples.empty())
    return 0;
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(samples.size())));
  auto idx = std::min(samples.size() - 1, rank == 0 ? 0 : rank - 1);
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(idx),
                   samples.end());
  return samples[idx];
}

double seconds_since(bench_clock::time_point start) {
  return std::chrono::duration<double>(bench_clock::now() - start).count();
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

long pss_kib(const std::string& pid, const char* field) {
  std::ifstream in{"/proc/" + pid + "/smaps_rollup"};
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == field && in >> value)
      return value;
    in.ignore(1 << 10, '\n');
  }
  return 0;
}

std::string run_id(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "run-%04d", i);
  return buf;
}

std::string journal_style_key(std::string_view run, std::uint64_t seq) {
  std::string k{run};
  k.push_back('\0');
  for (int shift = 56; shift >= 0; shift -= 8)
    k.push_back(static_cast<char>((seq >> shift) & 0xff));
  return k;
}

const std::string& payload() {
  static const std::string bytes = [] {
    std::string s(payload_size, '\0');
    for (std::size_t i = 0; i < s.size(); ++i)
      s[i] = static_cast<char>('a' + i % 26);
    return s;
  }();
  return bytes;
}

} // namespace endure::bench
