// The child scenarios of bench/gateway (gateway_child.hpp). The main thread
// drives them; the gated tool reports its start from an activity thread.
#include "bench/gateway_child.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <cstdio>
#include <filesystem>
#include <latch>
#include <stdexcept>
#include <thread>

#include "bench/bench_support.hpp"
#include "bench/gateway_workload.hpp"
#include "bench/lmdb_floor.hpp"
#include "endure/actors/gateway/human_request.hpp"

namespace endure::bench {

namespace {

using namespace std::chrono_literals;

/// Polls `done` every 100 us for at most `limit`. Only to set a sample up
/// (a run parked, an actor passivated): never inside a timed span.
template <class F>
bool settle(F done, std::chrono::milliseconds limit = 10s) {
  auto until = bench_clock::now() + limit;
  while (!done()) {
    if (bench_clock::now() > until)
      return false;
    std::this_thread::sleep_for(100us);
  }
  return true;
}

bool delivered(const journal& store, const std::string& id) {
  auto row = store.row(side_table::requests, id);
  if (!row || !*row)
    return false;
  auto r = gateway::from_record(**row, id);
  return r && r->delivered;
}

double micros(bench_clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

/// One decision, timed from the call of runtime::decide until the gated
/// tool starts (the run has read the row and resumed). Returns false when
/// anything went wrong.
struct resume_sample {
  double resume_us = 0, decide_us = 0, commits = 0;
};
bool one_resume(runtime& rt, std::size_t i, bool passivated, resume_sample& out) {
  auto id = "resume-" + std::to_string(i);
  if (!rt.start(gated_workflow, id, static_cast<int>(i)))
    return false;
  if (!settle([&] {
        auto meta = rt.store().run(id);
        return meta && meta->status == run_status::waiting;
      }))
    return false;
  if (passivated && !settle([&] { return rt.stats().live_actors == 0; }))
    return false;
  auto before = publish_starts();
  auto commits0 = rt.store().stats().commits;
  auto t0 = bench_clock::now();
  auto verdict = rt.decide(request_of(id), approver, "approve");
  auto t_decided = bench_clock::now();
  if (!verdict || !await_publish(before.count, 10s))
    return false;
  auto started = publish_starts();
  out = {micros(started.last - t0), micros(t_decided - t0),
         static_cast<double>(started.commits_at_last - commits0)};
  // Let the run end and the delivery be marked before the next sample, so
  // no write of this one overlaps the next one's timed span.
  auto end = rt.wait(id, 10s);
  return end && end->status == run_status::completed
         && settle([&] { return delivered(rt.store(), request_of(id)); });
}

int resume(runtime& rt, const gateway_child_args& a) {
  bool passivated = a.scenario == "resume_passivated";
  auto floor_dir = a.data_dir + "-floor";
  std::filesystem::create_directories(floor_dir);
  std::vector<double> resume_us, decide_us, commits, floor_us;
  int bad = 0;
  for (std::size_t i = 0; i <= a.count; ++i) {  // sample 0 is the warm-up
    // Raw commits between the samples: the same disk moments as the runs.
    auto floor = floor_commit_latency(floor_dir, durability_of(a.mode), 10, 10 * i + 1);
    resume_sample s;
    if (!one_resume(rt, i, passivated, s)) {
      ++bad;
      continue;
    }
    if (i == 0)
      continue;
    floor_us.insert(floor_us.end(), floor.micros.begin(), floor.micros.end());
    resume_us.push_back(s.resume_us);
    decide_us.push_back(s.decide_us);
    commits.push_back(s.commits);
  }
  std::printf("%s p50_us %.1f p99_us %.1f decide_p50_us %.1f floor_p50_us %.1f "
              "floor_p99_us %.1f commits_p50 %.1f commits_max %.1f bad %d\n",
              a.scenario.c_str(), quantile(resume_us, 0.5), quantile(resume_us, 0.99),
              quantile(decide_us, 0.5), quantile(floor_us, 0.5), quantile(floor_us, 0.99),
              quantile(commits, 0.5), quantile(commits, 1.0), bad);
  return bad == 0 ? 0 : 1;
}

/// How many pending requests the table holds (a check, not timed).
std::size_t count_pending(const journal& store) {
  std::size_t n = 0;
  std::string after;
  for (;;) {
    auto page = store.rows(side_table::requests, "", after, 1000);
    if (!page || page->rows.empty())
      return n;
    for (auto& row : page->rows) {
      auto r = gateway::from_record(row.rec, row.key);
      n += r && r->status == gateway::request_status::pending;
    }
    after = page->rows.back().key;
  }
}

int populate(runtime& rt, const gateway_child_args& a) {
  auto t0 = bench_clock::now();
  std::latch started{static_cast<std::ptrdiff_t>(a.count)};
  for (std::size_t i = 0; i < a.count; ++i)
    rt.start_async(gated_workflow, pending_run(i), to_bytes(static_cast<int>(i)),
                   [&started](expected<run_status>) { started.count_down(); });
  started.wait();
  settle([&] { return rt.stats().live_actors == 0; }, 30min);
  double seconds = seconds_since(t0);
  auto at_zero = pss_kib("self");
  // The resting state: the runtime returns the parked actors' freed heap a
  // second after the burst (runtime_options::trim_heap_after_stops).
  std::this_thread::sleep_for(1500ms);
  auto at_rest = pss_kib("self");
  auto anon = pss_kib("self", "Pss_Anon:");
  auto file = pss_kib("self", "Pss_File:");
  auto live = rt.stats().live_actors;
  auto pending = count_pending(rt.store());  // reads every row: after the figures
  std::printf("populate seconds %.3f pss_at_zero_kib %ld pss_kib %ld anon_kib %ld file_kib %ld "
              "live %llu pending %zu\n",
              seconds, at_zero, at_rest, anon, file, static_cast<unsigned long long>(live),
              pending);
  std::fflush(stdout);
  return 0;
}

/// Two decisions: the first may overtake the gateway's start (sent before
/// the gateway's thread ran its first line, it is queued ahead of the start
/// work the gateway sends itself), the second, sent once the first is
/// answered, is queued behind that work: its answer is "ready".
int restart(runtime& rt, const gateway_child_args& a, bench_clock::time_point t0,
            bench_clock::time_point opened) {
  auto first = rt.decide(request_of(pending_run(a.decide)), approver, "approve");
  auto answered = bench_clock::now();
  auto verdict = rt.decide(request_of(pending_run(a.decide + 1)), approver, "approve");
  auto ready = bench_clock::now();
  auto pss_ready = pss_kib("self");
  std::this_thread::sleep_for(1500ms);
  std::printf("restart open_s %.4f first_s %.4f ready_s %.4f pss_ready_kib %ld pss_kib %ld "
              "anon_kib %ld file_kib %ld bad %d\n",
              std::chrono::duration<double>(opened - t0).count(),
              std::chrono::duration<double>(answered - t0).count(),
              std::chrono::duration<double>(ready - t0).count(), pss_ready, pss_kib("self"),
              pss_kib("self", "Pss_Anon:"), pss_kib("self", "Pss_File:"),
              first && *first == "decided" && verdict && *verdict == "decided" ? 0 : 1);
  std::fflush(stdout);
  return verdict ? 0 : 1;
}

std::size_t activity_threads_for(const std::string& scenario) {
  // Populating: the gate steps commit their rows from activity threads
  // (blocking), so more of them let group commit fold more rows together.
  // Otherwise one per core, as the CLI's serve would for quick tools.
  if (scenario == "populate")
    return 32;
  return std::max(1u, std::thread::hardware_concurrency());
}

std::chrono::milliseconds passivate_after_for(const std::string& scenario) {
  if (scenario == "resume")
    return 10min;  // the run's actor stays, waiting
  if (scenario == "restart")
    return 60s;  // the default
  return 20ms;
}

int run_scenario(const gateway_child_args& a) {
  workflow_registry workflows;
  register_gated_workflow(workflows);
  auto opts = gated_options(a.data_dir, a.mode, passivate_after_for(a.scenario),
                            activity_threads_for(a.scenario));
  caf::actor_system_config cfg;
  apply_recommended_settings(cfg);  // as the endure CLI does
  caf::actor_system sys{cfg};
  auto t0 = bench_clock::now();
  auto rt = runtime::open(sys, opts, std::move(workflows));
  if (!rt)
    throw std::runtime_error(rt.error().message);
  auto opened = bench_clock::now();
  watch_commits(&(*rt)->store());
  int rc = 0;
  if (a.scenario == "resume" || a.scenario == "resume_passivated")
    rc = resume(**rt, a);
  else if (a.scenario == "populate")
    rc = populate(**rt, a);
  else if (a.scenario == "restart")
    rc = restart(**rt, a, t0, opened);
  else
    throw std::runtime_error("unknown scenario " + a.scenario);
  watch_commits(nullptr);
  return rc;
}

} // namespace

std::string pending_run(std::size_t i) { return "pending-" + std::to_string(i); }

std::vector<std::string> gateway_child_argv(const gateway_child_args& a) {
  return {"/proc/self/exe", "--child", a.scenario, "--data", a.data_dir, "--mode", a.mode,
          "--count", std::to_string(a.count), "--decide", std::to_string(a.decide)};
}

int gateway_child_main(int argc, char** argv) try {
  gateway_child_args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i], value = argv[i + 1];
    if (key == "--child") a.scenario = value;
    else if (key == "--data") a.data_dir = value;
    else if (key == "--mode") a.mode = value;
    else if (key == "--count") a.count = std::strtoull(value.c_str(), nullptr, 10);
    else if (key == "--decide") a.decide = std::strtoull(value.c_str(), nullptr, 10);
    else throw std::runtime_error("unknown child argument " + key);
  }
  return run_scenario(a);
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench/gateway child: %s\n", e.what());
  return 1;
}

} // namespace endure::bench
