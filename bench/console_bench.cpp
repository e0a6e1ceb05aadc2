// bench/console: the console's figures of issue 16, in one process with a
// real runtime, the real console (API + Beast server) on 127.0.0.1 and
// plain keep-alive sockets as clients:
//   1. decision -> run resumed over HTTP, next to the same decision made in
//      process (runtime::decide), samples interleaved so both see the same
//      disk moments; with the one-put synced commit floor of the same run;
//   2. API reads per second on loopback with keep-alive (GET one request,
//      GET one run's timeline, GET the inbox page);
//   3. 1,000 open event streams: the memory they cost and step throughput
//      with them open against without (console_streams.hpp).
// A program that prints figures: nothing here passes or fails. See
// bench/README.md.
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_support.hpp"
#include "bench/console_streams.hpp"
#include "bench/console_under_test.hpp"
#include "bench/gateway_workload.hpp"
#include "bench/lmdb_floor.hpp"
#include "console/http_probe.hpp"

using namespace endure;
using namespace endure::bench;
using namespace std::chrono_literals;

namespace {

struct console_options {
  int reps = 3;
  std::size_t samples = 300;  ///< decisions per repetition (half of them over HTTP)
  double read_seconds = 3;    ///< per read figure per repetition
  int clients = 2;            ///< keep-alive connections reading at once
  std::size_t streams = 1000; ///< event streams open for figure 3
  std::size_t stream_runs = 2000;  ///< runs per step batch of figure 3
  int stream_pairs = 4;            ///< batches with streams (each between two without)
  std::string dir;
};

void usage(const char* argv0) {
  std::printf("usage: %s [--reps N] [--samples N] [--read-seconds S] [--clients N] [--streams N]\n"
              "          [--stream-runs N] [--stream-pairs N] [--dir DIR]\n"
              "  --reps N          repetitions; each figure is the median (default 3)\n"
              "  --samples N       decisions per repetition, alternately in process and over\n"
              "                    HTTP (default 300)\n"
              "  --read-seconds S  length of each read figure per repetition (default 3)\n"
              "  --clients N       keep-alive connections reading at once (default 2)\n"
              "  --streams N       event streams open for figure 3 (default 1000)\n"
              "  --stream-runs N   runs of 20 steps per batch of figure 3 (default 2000)\n"
              "  --stream-pairs N  batches with streams open in figure 3, each between two\n"
              "                    without (default 4)\n"
              "  --dir DIR         scratch directory's parent (default $TMPDIR or /tmp)\n",
              argv0);
}

bool parse(int argc, char** argv, console_options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) {
      usage(argv[0]);
      return false;
    }
    if (arg == "--reps")
      o.reps = std::atoi(argv[++i]);
    else if (arg == "--samples")
      o.samples = std::strtoull(argv[++i], nullptr, 10);
    else if (arg == "--read-seconds")
      o.read_seconds = std::atof(argv[++i]);
    else if (arg == "--clients")
      o.clients = std::atoi(argv[++i]);
    else if (arg == "--streams")
      o.streams = std::strtoull(argv[++i], nullptr, 10);
    else if (arg == "--stream-pairs")
      o.stream_pairs = std::atoi(argv[++i]);
    else if (arg == "--stream-runs")
      o.stream_runs = std::strtoull(argv[++i], nullptr, 10);
    else if (arg == "--dir")
      o.dir = argv[++i];
    else {
      usage(argv[0]);
      return false;
    }
  }
  return o.reps > 0 && o.samples > 1 && o.read_seconds > 0 && o.clients > 0;
}

/// Polls `done` every 100 us, at most 10 s: only to set a sample up.
template <class F>
bool settle(F done) {
  auto until = bench_clock::now() + 10s;
  while (!done()) {
    if (bench_clock::now() > until)
      return false;
    std::this_thread::sleep_for(100us);
  }
  return true;
}

struct resume_figures {
  std::vector<double> http_us, local_us, floor_us;
  int bad = 0;
};

/// Starts run `id`, waits until it waits for its request; false on failure.
bool park(runtime& rt, const std::string& id, int n) {
  if (!rt.start(gated_workflow, id, n))
    return false;
  return settle([&] {
    auto meta = rt.store().run(id);
    return meta && meta->status == run_status::waiting;
  });
}

/// Figure 1: samples alternate between runtime::decide and a POST on one
/// keep-alive connection; each is timed until the gated tool starts.
resume_figures measure_resume(console_under_test& c, const std::string& floor_dir,
                              std::size_t samples, const std::string& prefix = "resume-") {
  resume_figures f;
  test::http_probe http(c.port());
  for (std::size_t i = 0; i <= samples; ++i) {  // sample 0 warms both paths up
    auto floor = floor_commit_latency(floor_dir, durability::sync, 5, 5 * i + 1);
    auto id = prefix + std::to_string(i);
    if (!park(c.rt(), id, static_cast<int>(i))) {
      ++f.bad;
      continue;
    }
    bool over_http = i % 2 == 1;
    auto before = publish_starts();
    auto t0 = bench_clock::now();
    bool ok = false;
    if (over_http) {
      http.send(test::http_text("POST", "/api/v1/requests/" + url_id(request_of(id)) + "/decision",
                                c.token(), R"({"decision":"approve"})"));
      ok = http.read().status == 200;
    } else {
      ok = c.rt().decide(request_of(id), approver, "approve").has_value();
    }
    if (!ok || !await_publish(before.count, 10s)) {
      ++f.bad;
      continue;
    }
    auto us = std::chrono::duration<double, std::micro>(publish_starts().last - t0).count();
    auto end = c.rt().wait(id, 10s);
    if (!end || end->status != run_status::completed)
      ++f.bad;
    if (i == 0)
      continue;
    (over_http ? f.http_us : f.local_us).push_back(us);
    f.floor_us.insert(f.floor_us.end(), floor.micros.begin(), floor.micros.end());
  }
  return f;
}

/// Figure 2: `clients` threads, each with its own keep-alive connection,
/// GET `target` for `seconds`; answers per second (non-200 ones counted bad).
double reads_per_second(console_under_test& c, const std::string& target, int clients,
                        double seconds, int& bad) {
  std::atomic<std::uint64_t> done{0};
  std::atomic<int> failures{0};
  auto until = bench_clock::now() + std::chrono::duration_cast<bench_clock::duration>(
                                      std::chrono::duration<double>(seconds));
  auto t0 = bench_clock::now();
  std::vector<std::thread> threads;
  for (int k = 0; k < clients; ++k)
    threads.emplace_back([&] {
      test::http_probe http(c.port());
      auto request = test::http_text("GET", target, c.token());
      while (bench_clock::now() < until) {
        http.send(request);
        if (http.read().status != 200) {
          ++failures;
          return;
        }
        ++done;
      }
    });
  for (auto& t : threads)
    t.join();
  bad += failures.load();
  return static_cast<double>(done.load()) / seconds_since(t0);
}

/// Figure 1 over HTTP again while 200 clients hold connections with half a
/// request sent and say nothing more (within the server's 10 s read
/// timeout): its p50 in ms.
double with_slow_clients(console_under_test& c, const std::string& floor_dir,
                         std::size_t samples, int& bad) {
  std::vector<std::unique_ptr<test::http_probe>> slow;
  for (int i = 0; i < 200; ++i) {
    slow.push_back(std::make_unique<test::http_probe>(c.port()));
    slow.back()->send("GET /api/v1/inbox HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Be");
  }
  auto f = measure_resume(c, floor_dir, samples, "slow-");
  bad += f.bad;
  for (auto& p : slow)
    bad += p->closed(std::chrono::milliseconds(1));  // the server must not have dropped them
  return quantile(f.http_us, 0.5) / 1000;
}

struct rep_figures {
  double http_p50 = 0, local_p50 = 0, floor_p50 = 0;
  double http_p99 = 0, local_p99 = 0;
  double http_slow_p50 = 0;  ///< figure 1 over HTTP with 200 slow clients connected
  double request_reads = 0, timeline_reads = 0, inbox_reads = 0;
  stream_figures streams;       ///< as the page opens them: run and request events
  stream_figures step_streams;  ///< ?steps=all: every step event too
  int bad = 0;
};

rep_figures one_rep(const scratch_dir& scratch, const console_options& o, int rep) {
  auto dir = scratch.fresh("rep-" + std::to_string(rep));
  auto floor_dir = scratch.fresh("floor-" + std::to_string(rep));
  rep_figures r;
  console_under_test c(dir, o.streams + 64);
  auto resume = measure_resume(c, floor_dir, o.samples);
  r.http_p50 = quantile(resume.http_us, 0.5) / 1000;
  r.local_p50 = quantile(resume.local_us, 0.5) / 1000;
  r.http_p99 = quantile(resume.http_us, 0.99) / 1000;
  r.local_p99 = quantile(resume.local_us, 0.99) / 1000;
  r.floor_p50 = quantile(resume.floor_us, 0.5) / 1000;
  r.bad = resume.bad;
  r.http_slow_p50 = with_slow_clients(c, scratch.fresh("floor-slow-" + std::to_string(rep)),
                                      o.samples, r.bad);
  // Reads: a pending request and a finished run's timeline (the last
  // figure-1 run has 2 steps and a decided request), and the inbox.
  if (!park(c.rt(), "pending-read", 1))
    ++r.bad;
  auto last = "resume-" + std::to_string(o.samples);
  r.request_reads = reads_per_second(c, "/api/v1/requests/" + url_id(request_of("pending-read")),
                                     o.clients, o.read_seconds, r.bad);
  r.timeline_reads = reads_per_second(c, "/api/v1/runs/" + url_id(last), o.clients,
                                      o.read_seconds, r.bad);
  r.inbox_reads = reads_per_second(c, "/api/v1/inbox?limit=20", o.clients, o.read_seconds, r.bad);
  r.streams = measure_streams(c, o.streams, o.stream_runs, o.stream_pairs, "/api/v1/events");
  r.step_streams = measure_streams(c, o.streams, o.stream_runs, o.stream_pairs, "/api/v1/events?steps=all");
  for (auto* f : {&r.streams, &r.step_streams}) {
    r.bad += f->bad;
    if (!f->refusal.empty())
      std::printf("an event stream was refused: %s\n", f->refusal.c_str());
  }
  return r;
}

template <class F>
double median_of(const std::vector<rep_figures>& reps, F field) {
  std::vector<double> v;
  for (auto& r : reps)
    v.push_back(field(r));
  return median(v);
}

} // namespace

/// Figure 3 holds two descriptors per stream (the client's and the
/// server's) in this one process: raise the soft limit to the hard one.
void raise_fd_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

int main(int argc, char** argv) {
  console_options o;
  if (!parse(argc, argv, o))
    return 2;
  raise_fd_limit();
  scratch_dir scratch(o.dir);
  std::vector<rep_figures> reps;
  int bad = 0;
  for (int rep = 0; rep < o.reps; ++rep) {
    reps.push_back(one_rep(scratch, o, rep));
    bad += reps.back().bad;
    auto& r = reps.back();
    std::printf("rep %d: decision->resumed p50 http %.3f ms, in process %.3f ms, floor %.3f ms; "
                "reads/s request %.0f timeline %.0f inbox %.0f; %zu streams: +%.1f MiB idle, "
                "+%.1f MiB busy, steps/s %.0f with, %.0f without, %zu dropped, %.1f MiB "
                "sent; with ?steps=all: steps/s %.0f with, %.0f without, %zu dropped, %.1f MiB "
                "sent\n",
                rep + 1, r.http_p50, r.local_p50, r.floor_p50, r.request_reads,
                r.timeline_reads, r.inbox_reads, r.streams.opened, r.streams.open_mib,
                r.streams.busy_mib, r.streams.steps_with, r.streams.steps_without,
                r.streams.dropped, r.streams.events_mib, r.step_streams.steps_with,
                r.step_streams.steps_without, r.step_streams.dropped, r.step_streams.events_mib);
  }
  auto m = [&](auto f) { return median_of(reps, f); };
  auto http = m([](auto& r) { return r.http_p50; });
  auto local = m([](auto& r) { return r.local_p50; });
  auto floor = m([](auto& r) { return r.floor_p50; });
  std::printf("\nbench/console: medians of %d repetitions, sync commits, %zu decisions each "
              "(half over HTTP), %d keep-alive client(s)\n\n", o.reps, o.samples, o.clients);
  std::printf("| figure | target | measured |\n|---|---|---|\n");
  std::printf("| decision over HTTP -> run resumed, p50 | < 3 ms | %.3f ms (p99 %.3f) |\n", http,
              m([](auto& r) { return r.http_p99; }));
  std::printf("| same decision over HTTP with 200 slow clients connected, p50 | not delayed | "
              "%.3f ms |\n",
              m([](auto& r) { return r.http_slow_p50; }));
  std::printf("| same decision in process (runtime::decide), p50 | (baseline) | %.3f ms (p99 "
              "%.3f); HTTP adds %.3f ms, %.2fx |\n",
              local, m([](auto& r) { return r.local_p99; }), http - local, http / local);
  std::printf("| one-put synced commit (floor), p50 | | %.3f ms |\n", floor);
  std::printf("| API reads/s, GET /api/v1/requests/ID | >= 10,000 | %.0f |\n",
              m([](auto& r) { return r.request_reads; }));
  std::printf("| API reads/s, GET /api/v1/runs/ID (timeline) | | %.0f |\n",
              m([](auto& r) { return r.timeline_reads; }));
  std::printf("| API reads/s, GET /api/v1/inbox?limit=20 | | %.0f |\n",
              m([](auto& r) { return r.inbox_reads; }));
  auto with = m([](auto& r) { return r.streams.steps_with; });
  auto without = m([](auto& r) { return r.streams.steps_without; });
  // Slowdowns as the median of each repetition's own ratio (its with and
  // without batches interleaved on the same machine moments).
  auto slowdown = m([](auto& r) { return r.streams.steps_with / r.streams.steps_without - 1; });
  auto all_slowdown =
    m([](auto& r) { return r.step_streams.steps_with / r.step_streams.steps_without - 1; });
  std::printf("| %zu open event streams: memory (PSS added, idle / after a step batch) | < 50 MiB "
              "| %.1f / %.1f MiB |\n",
              o.streams, m([](auto& r) { return r.streams.open_mib; }),
              m([](auto& r) { return r.streams.busy_mib; }));
  std::printf("| step throughput with them open / without (%zu runs x %d steps a batch; the "
              "page's streams: run and request events, one also a run's steps) | slowdown < 5%% "
              "| %.0f / %.0f steps/s, %+.1f%% |\n",
              o.stream_runs, steps_per_run, with, without, slowdown * 100);
  auto all_with = m([](auto& r) { return r.step_streams.steps_with; });
  auto all_without = m([](auto& r) { return r.step_streams.steps_without; });
  std::printf("| the same, every stream asking for every step event (?steps=all) | | %.0f / %.0f "
              "steps/s, %+.1f%% (%.1f MiB of events) |\n\n(slowdowns: the median of each "
              "repetition's ratio)\n",
              all_with, all_without, all_slowdown * 100,
              m([](auto& r) { return r.step_streams.events_mib; }));
  if (bad)
    std::printf("\n%d sample(s) went wrong (not counted)\n", bad);
  return 0;
}
