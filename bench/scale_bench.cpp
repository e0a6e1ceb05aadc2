// bench/scale: the scale figures of issue #7, in one process.
//
//  1. Passivation: N runs (default 100,000) wait, half on a durable timer,
//     half on a signal; once every one is passivated (no actor, status
//     waiting) the process's PSS is read.
//  2. Restart: the runtime and its actor system are torn down and opened
//     again on the same journal; every signal run gets its signal (from 32
//     client threads) and every timer fires. Figures: time until all signal runs completed, how late
//     the last timer run completed after the last timer was due, peak PSS.
//  3. Recovery: M runs (default 10,000) each complete a step, wait on a
//     signal and are passivated; the runtime is closed, the signals are
//     journaled offline (as `endure signal` does), and a new runtime opens:
//     time from runtime::open to all M runs completed (each replays its
//     first step and signal and executes its second step). Process start is
//     not included (bench/pipeline measures a restarted process).
//
// Prints figures; passes or fails nothing.
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <latch>
#include <optional>
#include <thread>
#include <vector>

#include "actors/endure.hpp"
#include "actors/events.hpp"
#include "bench/pss.hpp"

namespace {

using namespace endure;
using namespace std::chrono_literals;
using bench_clock = std::chrono::steady_clock;

struct scale_options {
  std::size_t runs = 100'000;
  std::size_t recovery_runs = 10'000;
  std::string mode = "sync";
  std::int64_t sleep_ms = 20'000;
  std::string dir;
};

// -- workflows -------------------------------------------------------------

task<int> waits_for_signal(context& ctx, int) {
  auto go = co_await ctx.wait_signal<int>("go");
  co_return go.value_or(0);
}

task<int> waits_for_timer(context& ctx, int sleep_ms) {
  co_await ctx.sleep(std::chrono::milliseconds{sleep_ms});
  co_return 1;
}

task<int> step_wait_step(context& ctx, int n) {
  auto add_one = [](int x) { return x + 1; };
  auto a = co_await ctx.step("before", add_one, n);
  co_await ctx.wait_signal<int>("go");
  co_return co_await ctx.step("after", add_one, a);
}

workflow_registry workflows() {
  workflow_registry r;
  r.add("signal", &waits_for_signal);
  r.add("timer", &waits_for_timer);
  r.add("resume", &step_wait_step);
  return r;
}

// -- a runtime in its own actor system (a "process") -------------------------

class session {
public:
  session(const std::string& data_dir, durability mode) {
    cfg_.set("scheduler.max-threads", 2);
    sys_.emplace(cfg_);
    runtime_options opts;
    opts.journal.data_dir = data_dir;
    opts.journal.mode = mode;
    opts.passivate_after = 200ms;
    auto rt = runtime::open(*sys_, opts, workflows());
    if (!rt)
      throw std::runtime_error(rt.error().to_string());
    rt_ = std::move(*rt);
  }
  ~session() {
    rt_.reset();
    sys_.reset();
  }
  runtime& rt() { return *rt_; }

private:
  caf::actor_system_config cfg_;
  std::optional<caf::actor_system> sys_;
  std::unique_ptr<runtime> rt_;
};

double seconds_since(bench_clock::time_point t0) {
  return std::chrono::duration<double>(bench_clock::now() - t0).count();
}

double mib(long kib) { return static_cast<double>(kib) / 1024.0; }

std::string run_id(const char* prefix, std::size_t i) {
  return prefix + std::to_string(i);
}

/// Starts `count` runs of `workflow` named prefix+i with input `input(i)`,
/// returns once all are durable.
template <class Input>
void start_all(runtime& rt, const char* workflow, const char* prefix, std::size_t first,
               std::size_t count, Input input) {
  std::latch started{static_cast<std::ptrdiff_t>(count)};
  for (std::size_t i = first; i < first + count; ++i)
    rt.start_async(workflow, run_id(prefix, i), to_bytes(input(i)),
                   [&](expected<run_status> s) {
                     if (!s)
                       std::cerr << "start failed: " << s.error().message << "\n";
                     started.count_down();
                   });
  started.wait();
}

/// Waits (at most `limit`) until no run actor is alive and `expected_count`
/// runs are recorded as waiting; returns whether that happened.
bool await_passivated(runtime& rt, std::size_t expected_count, std::chrono::seconds limit) {
  auto deadline = bench_clock::now() + limit;
  while (bench_clock::now() < deadline) {
    if (rt.stats().live_actors == 0) {
      auto waiting = rt.store().list_runs(run_status::waiting);
      if (waiting && waiting->size() == expected_count)
        return true;
    }
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

/// Waits for each run prefix+i, i in [first, first+count); false if one did
/// not complete.
bool await_completed(runtime& rt, const char* prefix, std::size_t first, std::size_t count) {
  for (std::size_t i = first; i < first + count; ++i) {
    auto out = rt.wait(run_id(prefix, i), 120s);
    if (!out || out->status != run_status::completed) {
      std::cerr << "run " << run_id(prefix, i) << " did not complete: "
                << (out ? out->error : out.error().message) << "\n";
      return false;
    }
  }
  return true;
}

/// Signals runs prefix+i, i < count, from 32 client threads at once, as a
/// gateway serving many people would (one client in turn would measure
/// nothing but fsyncs back to back).
void signal_all(runtime& rt, const char* prefix, std::size_t count) {
  constexpr std::size_t clients = 32;
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      for (std::size_t i = c; i < count; i += clients)
        if (auto ok = rt.signal(run_id(prefix, i), "go", 1); !ok)
          std::cerr << "signal " << run_id(prefix, i) << ": " << ok.error().message << "\n";
    });
  for (auto& t : threads)
    t.join();
}

// -- the measurements --------------------------------------------------------

void passivation_and_restart(const scale_options& o, durability mode, const std::string& dir) {
  auto half = o.runs / 2;
  auto base_kib = bench::pss_kib(getpid());
  bench_clock::time_point last_due;
  {
    session s{dir, mode};
    bench::pss_sampler peak{getpid()};
    auto t0 = bench_clock::now();
    start_all(s.rt(), "signal", "s", 0, half, [](std::size_t) { return 0; });
    start_all(s.rt(), "timer", "t", 0, o.runs - half,
              [&](std::size_t) { return static_cast<int>(o.sleep_ms); });
    last_due = bench_clock::now() + std::chrono::milliseconds{o.sleep_ms};
    auto started_s = seconds_since(t0);
    auto passivated = await_passivated(s.rt(), o.runs, 300s);
    auto now_kib = bench::pss_kib(getpid());
    std::printf("1. %zu runs started (durable) in %.2f s; all passivated: %s\n", o.runs,
                started_s, passivated ? "yes" : "NO");
    std::printf("   PSS with all passivated: %.1f MiB (%.1f MiB above the %.1f MiB before "
                "the runtime opened); peak while starting %.1f MiB\n",
                mib(now_kib), mib(now_kib - base_kib), mib(base_kib), mib(peak.peak_kib()));
  }
  bench::pss_sampler peak{getpid()};
  auto t0 = bench_clock::now();
  session s{dir, mode};
  signal_all(s.rt(), "s", half);
  auto signalled_s = seconds_since(t0);
  bool ok = await_completed(s.rt(), "s", 0, half);
  auto signals_done_s = seconds_since(t0);
  ok = await_completed(s.rt(), "t", 0, o.runs - half) && ok;
  auto late_ms = std::chrono::duration<double, std::milli>(bench_clock::now() - last_due).count();
  std::printf("2. restart: %zu signals delivered in %.2f s, all %zu signal runs completed "
              "%.2f s after the restart; all %zu timer runs completed %.0f ms after the last "
              "timer was due; every run completed: %s; peak PSS %.1f MiB\n",
              half, signalled_s, half, signals_done_s, o.runs - half, late_ms,
              ok ? "yes" : "NO", mib(peak.peak_kib()));
}

void recovery(const scale_options& o, durability mode, const std::string& dir) {
  {
    session s{dir, mode};
    start_all(s.rt(), "resume", "r", 0, o.recovery_runs,
              [](std::size_t i) { return static_cast<int>(i); });
    if (!await_passivated(s.rt(), o.recovery_runs, 300s))
      std::printf("3. (not all runs passivated before the restart)\n");
  }
  {
    // Offline signals need no fsync each: nothing is measured here.
    auto j = journal::open({.data_dir = dir, .mode = durability::nosync});
    if (!j)
      throw std::runtime_error(j.error().to_string());
    register_event_types((*j)->types());
    for (std::size_t i = 0; i < o.recovery_runs; ++i)
      if (auto ok = deliver_signal_offline(**j, run_id("r", i), "go", to_bytes(1)); !ok)
        throw std::runtime_error(ok.error().to_string());
  }
  auto t0 = bench_clock::now();
  session s{dir, mode};
  bool ok = await_completed(s.rt(), "r", 0, o.recovery_runs);
  auto took = seconds_since(t0);
  auto stats = s.rt().stats();
  std::printf("3. recovery of %zu unfinished runs: runtime::open to all completed %.3f s "
              "(%.0f runs/s); steps replayed %llu, executed %llu; all correct: %s\n",
              o.recovery_runs, took, static_cast<double>(o.recovery_runs) / took,
              static_cast<unsigned long long>(stats.steps_replayed),
              static_cast<unsigned long long>(stats.steps_executed), ok ? "yes" : "NO");
}

} // namespace

int main(int argc, char** argv) {
  scale_options o;
  CLI::App app{"endure scale benchmark: passivated runs, restart, recovery (issue #7)"};
  app.add_option("--runs", o.runs, "passivated runs (half timers, half signals)")
    ->capture_default_str()->check(CLI::Range(2, 10'000'000));
  app.add_option("--recovery-runs", o.recovery_runs, "unfinished runs to recover")
    ->capture_default_str()->check(CLI::Range(1, 10'000'000));
  app.add_option("--mode", o.mode, "durability: sync, nometasync or nosync")
    ->capture_default_str()->check(CLI::IsMember({"sync", "nometasync", "nosync"}));
  app.add_option("--sleep-ms", o.sleep_ms, "timer runs sleep this long (past the restart)")
    ->capture_default_str()->check(CLI::Range(1000, 3'600'000));
  app.add_option("--dir", o.dir, "parent of the scratch directory (default: $TMPDIR or /tmp)");
  CLI11_PARSE(app, argc, argv);
  auto mode = o.mode == "sync"         ? durability::sync
              : o.mode == "nometasync" ? durability::nometasync
                                       : durability::nosync;
  namespace fs = std::filesystem;
  auto parent = !o.dir.empty() ? fs::path{o.dir}
                               : fs::path{getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp"};
  auto scratch = parent / ("endure-scale-" + std::to_string(getpid()));
  try {
    std::printf("durability %s; scratch %s\n", o.mode.c_str(), scratch.c_str());
    passivation_and_restart(o, mode, (scratch / "passivation").string());
    recovery(o, mode, (scratch / "recovery").string());
  } catch (const std::exception& e) {
    std::cerr << "bench/scale: " << e.what() << "\n";
    fs::remove_all(scratch);
    return 1;
  }
  fs::remove_all(scratch);
  return 0;
}
