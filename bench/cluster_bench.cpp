// bench/cluster: issue 19's figures, the latency a cluster adds and the
// steps/s of three nodes with and without journal replication.
//
//   cluster [--runs N] [--reps R] [--pipeline-runs P] [--takeover-only | --throughput-only]
//
// This process is node a of a three-node cluster on 127.0.0.1 (TLS, the
// test certificates of tests/cluster/certs); b and c are this program
// re-executed as `cluster node FILE NAME DIR`. Each node runs a runtime
// (nosync journal, so the figures are the routing's, not the disk's) with
// a workflow that waits for a signal. From a CAF actor in this process it
// times, one request at a time, --runs (300) starts and then the same
// runs' signals:
//   local:      to this node's runtime::handle() directly;
//   cross-node: to this node's cluster handle for run ids that node b
//               owns (start: one lookup round to every node, then the
//               start at b; signal: straight to b, the run's node known).
// Median and p99 per repetition; --reps (3) repetitions; the cross-node
// minus local difference is the figure (target: under 1 ms).
//
// Then steps/s: per repetition, a fresh cluster without replication and
// one with `replication: {mode: standby}` (each node's journal streamed to
// the next node, a commit acknowledged once the standby applied it), in
// turn. From node a, 200 runs of the seed pipeline (cli/seed_pipeline.hpp:
// 20 steps each) untimed, then --pipeline-runs (3000) runs started at once
// through a's cluster handle (placement spreads them over the three nodes)
// and waited for; steps/s = 20 x runs / seconds from the first start to
// the last result. Target: replicated at least half of unreplicated. The
// timed batch lasts about a second: a shorter one measures the ramp and
// the tail (the last runs' 20 steps one after another) more than the rate.
//
// Then takeover: per repetition, a fresh cluster in `replication: {mode:
// takeover, takeover_ms: 1000}` where this process is node b (a's
// standby) and a and c are children. 20 runs of a workflow of many short
// steps (2 ms each) run at a; a is killed with SIGKILL; the figure is the
// time from the kill to the first step body this process runs of a's runs
// (from a's replica). Target: under 3 s beyond takeover_ms.
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <algorithm>
#include <map>
#include <thread>

#include "bench/bench_support.hpp"
#include "endure/actors/service/protocol.hpp"
#include "endure/endure.hpp"
#include "endure/net/cluster/cluster_node.hpp"
#include "endure/net/cluster/placement.hpp"
#include "endure/net/cluster/replication/replication.hpp"
#include "endure/cli/hosted_replicas.hpp"
#include "endure/cli/seed_pipeline.hpp"
#include "support/child_process.hpp"
#include "support/free_port.hpp"

using namespace endure;
using namespace std::chrono_literals;
namespace svc = endure::service;

namespace {

const std::vector<std::string> names = {"a", "b", "c"};

/// When a was killed (takeover), and when this process first ran a step
/// of a ticker after it (0: not yet).
std::atomic<std::int64_t> killed_at_us{0};
std::atomic<std::int64_t> first_step_after_us{0};

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           bench::bench_clock::now().time_since_epoch())
    .count();
}

/// Many short steps: in flight whenever its node is killed.
task<std::string> ticker(context& ctx, std::string) {
  for (int i = 0; i < 100'000; ++i)
    co_await ctx.step("t" + std::to_string(i), [] {
      if (killed_at_us != 0) {
        std::int64_t none = 0;
        first_step_after_us.compare_exchange_strong(none, now_us());
      }
      std::this_thread::sleep_for(2ms);
      return 0;
    });
  co_return "";
}

task<std::string> await_go(context& ctx, std::string) {
  auto go = co_await ctx.wait_signal<std::string>("go", std::chrono::hours(1));
  co_return go.value_or("");
}

struct node_runtime {
  std::unique_ptr<caf::actor_system_config> cfg = std::make_unique<caf::actor_system_config>();
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<cluster::replication> repl;
  std::unique_ptr<runtime> rt;
  std::shared_ptr<cli::hosted_replicas> hosted;
  std::unique_ptr<cluster::cluster_node> node;
  ~node_runtime() {
    node.reset();
    if (hosted)
      hosted->close();
    if (repl)  // before the journal closes
      repl->stop();
    rt.reset();
  }
};

workflow_registry bench_workflows() {
  workflow_registry reg;
  reg.add("await_go", &await_go);
  reg.add("ticker", &ticker);
  cli::register_seed_pipeline(reg);
  return reg;
}

std::unique_ptr<node_runtime> open_node(const std::string& file, const std::string& name,
                                        const std::string& dir) {
  auto c = cluster::load_cluster_config(file, name);
  if (!c)
    throw std::runtime_error(c.error().message);
  auto n = std::make_unique<node_runtime>();
  cluster::prepare_actor_system(*n->cfg, *c);
  n->sys = std::make_unique<caf::actor_system>(*n->cfg);
  runtime_options opts;
  opts.journal.data_dir = dir;
  opts.journal.mode = durability::nosync;
  auto replica_opts = opts;
  n->repl = cluster::replication::start(*n->sys, *c, opts.journal);
  if (n->repl)
    opts.journal.sink = n->repl->sink();
  auto rt = runtime::open(*n->sys, std::move(opts), bench_workflows());
  if (!rt)
    throw std::runtime_error(rt.error().message);
  n->rt = std::move(*rt);
  auto* r = n->rt.get();
  if (n->repl)
    n->repl->attach(r->store());
  n->hosted = std::make_shared<cli::hosted_replicas>(
    *n->sys, bench_workflows(), [replica_opts](const std::string& replica) {
      auto o = replica_opts;
      o.journal.data_dir = replica;
      return o;
    });
  if (n->repl && c->replication.takeover.count() > 0)
    n->repl->run_replicas_with([h = n->hosted](const std::string& primary, const std::string& d) {
      return h->open(primary, d);
    });
  auto hosted = n->hosted;
  auto node = cluster::cluster_node::start(
    *n->sys, *c, r->handle(), [r, hosted] { return hosted->add_runs(r->store().scan_runs()); },
    n->repl.get());
  if (!node)
    throw std::runtime_error(node.error().message);
  n->node = std::move(*node);
  return n;
}

int node_main(const std::string& file, const std::string& name, const std::string& dir) {
  auto n = open_node(file, name, dir);
  std::cout << "ready" << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  return 0;
}


template <class T, class... Ts>
T ask(caf::scoped_actor& self, const caf::actor& to, Ts&&... xs) {
  std::optional<T> out;
  std::string why;
  self->request(to, 30s, std::forward<Ts>(xs)...)
    .receive([&](T& x) { out = std::move(x); },
             [&](caf::error& e) { why = svc::error_of(e, "request").message; });
  if (!out)
    throw std::runtime_error(why);
  return std::move(*out);
}

struct figures {
  std::vector<double> start, signal;
};

figures measure(caf::actor_system& sys, const caf::actor& to, const std::vector<std::string>& ids) {
  caf::scoped_actor self{sys};
  figures f;
  for (auto& id : ids) {
    auto t0 = bench::bench_clock::now();
    ask<run_meta>(self, to, svc::start_atom::value, std::string{"await_go"}, id,
                  to_bytes(std::string{}));
    f.start.push_back(std::chrono::duration<double, std::micro>(bench::bench_clock::now() - t0)
                        .count());
  }
  for (auto& id : ids) {
    auto t0 = bench::bench_clock::now();
    ask<caf::ok_atom>(self, to, svc::signal_atom::value, id, std::string{"go"},
                      to_bytes(std::string{"x"}));
    f.signal.push_back(std::chrono::duration<double, std::micro>(bench::bench_clock::now() - t0)
                         .count());
  }
  return f;
}


/// Seconds from the first start to the last result of `ids` (the seed
/// pipeline, all started at once through `to`).
double pipeline_seconds(caf::actor_system& sys, const caf::actor& to,
                        const std::vector<std::string>& ids) {
  auto done = std::make_shared<std::promise<std::size_t>>();
  auto result = done->get_future();
  auto t0 = bench::bench_clock::now();
  sys.spawn([to, ids, done](caf::event_based_actor* self) {
    auto left = std::make_shared<std::size_t>(ids.size());
    auto failed = std::make_shared<std::size_t>(0);
    auto finish = [left, failed, done](bool ok) {
      *failed += ok ? 0 : 1;
      if (--*left == 0)
        done->set_value(*failed);
    };
    for (auto& id : ids)
      self->request(to, 300s, svc::start_atom::value, std::string{"seed_pipeline"}, id, to_bytes(id))
        .then(
          [self, to, id, finish](const run_meta&) {
            self->request(to, 300s, svc::wait_atom::value, id, std::int64_t{290'000})
              .then([finish](const run_outcome& o) { finish(o.status == run_status::completed); },
                    [finish](caf::error&) { finish(false); });
          },
          [finish](caf::error&) { finish(false); });
  });
  auto failed = result.get();
  auto seconds = std::chrono::duration<double>(bench::bench_clock::now() - t0).count();
  if (failed != 0)
    throw std::runtime_error(std::to_string(failed) + " seed pipeline runs did not complete");
  return seconds;
}

/// A three-node cluster: b and c re-executed as children, a here.
struct running_cluster {
  std::vector<std::unique_ptr<test::child_process>> others;
  std::vector<std::string> child_names;
  std::unique_ptr<node_runtime> a;  ///< this process's node
  test::child_process& child(const std::string& name) {
    auto it = std::find(child_names.begin(), child_names.end(), name);
    return *others.at(static_cast<std::size_t>(it - child_names.begin()));
  }

  /// `replication`: the cluster file's replication section (empty: none);
  /// `here`: the node this process is (the others are children).
  running_cluster(const std::string& dir, const std::string& replication,
                  const std::string& here = "a") {
    std::map<std::string, std::uint16_t> ports;
    auto picked = test::free_ports(names.size());
    for (std::size_t i = 0; i < names.size(); ++i)
      ports[names[i]] = picked[i];
    std::string certs = CLUSTER_CERTS_DIR;
    for (auto& n : names) {
      std::ofstream out{dir + "/" + n + ".yaml"};
      out << "tls: {certificate: " << certs << "/node-" << n << ".pem, key: " << certs
          << "/node-" << n << ".key, ca: " << certs << "/cluster-ca.pem}\nreconnect_ms: 50\n"
          << replication << "nodes:\n";
      for (auto& m : names)
        out << "  - {name: " << m << ", address: 127.0.0.1:" << ports[m] << "}\n";
    }
    for (auto& n : names) {
      if (n == here)
        continue;
      others.push_back(std::make_unique<test::child_process>(std::vector<std::string>{
        "/proc/self/exe", "node", dir + "/" + n + ".yaml", n, dir + "/data-" + n}));
      child_names.push_back(n);
      auto line = others.back()->read_line(30s);
      if (!line || *line != "ready")
        throw std::runtime_error("node " + n + " did not start");
    }
    a = open_node(dir + "/" + here + ".yaml", here, dir + "/data-" + here);
    caf::scoped_actor self{*a->sys};
    for (int i = 0; i < 2000; ++i) {
      auto nodes = ask<std::vector<std::string>>(self, a->node->handle(), cluster::nodes_atom::value);
      if (std::none_of(nodes.begin(), nodes.end(),
                       [](auto& s) { return s.find(" away") != std::string::npos; }))
        return;
      std::this_thread::sleep_for(10ms);
    }
    throw std::runtime_error("the three nodes did not connect");
  }
  ~running_cluster() {
    a.reset();
    for (auto& o : others) {
      o->close_stdin();
      o->wait(30s);
    }
  }
};

void latency(std::size_t runs, std::size_t reps) {
  bench::scratch_dir dir{""};
  running_cluster cl{dir.path(), ""};
  auto& a = cl.a;
  std::printf("cluster: 3 nodes on 127.0.0.1 over TLS, nosync journals; %zu runs per path, "
              "%zu repetitions (us: median / p99)\n", runs, reps);
  std::printf("%-5s %-22s %-22s %-22s %-22s\n", "rep", "start local", "start cross-node",
              "signal local", "signal cross-node");
  std::vector<double> start_gap, signal_gap;
  for (std::size_t r = 0; r < reps; ++r) {
    std::vector<std::string> local_ids, remote_ids;
    for (std::size_t i = 0; local_ids.size() < runs || remote_ids.size() < runs; ++i) {
      auto id = "r" + std::to_string(r) + "-" + std::to_string(i);
      auto owner = cluster::rank_nodes(id, names).front();
      if (owner == "a" && local_ids.size() < runs)
        local_ids.push_back(id);
      else if (owner == "b" && remote_ids.size() < runs)
        remote_ids.push_back(id);
    }
    auto local = measure(*a->sys, a->rt->handle(), local_ids);
    auto remote = measure(*a->sys, a->node->handle(), remote_ids);
    auto cell = [](const std::vector<double>& v) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.0f / %.0f", bench::median(v), bench::quantile(v, 0.99));
      return std::string{buf};
    };
    std::printf("%-5zu %-22s %-22s %-22s %-22s\n", r + 1, cell(local.start).c_str(),
                cell(remote.start).c_str(), cell(local.signal).c_str(),
                cell(remote.signal).c_str());
    start_gap.push_back(bench::median(remote.start) - bench::median(local.start));
    signal_gap.push_back(bench::median(remote.signal) - bench::median(local.signal));
  }
  std::printf("cross-node minus local, median of the repetitions' medians: start +%.0f us, "
              "signal +%.0f us (target: under 1,000 us)\n",
              bench::median(start_gap), bench::median(signal_gap));
}

void throughput(std::size_t runs, std::size_t reps) {
  constexpr std::size_t warmup_runs = 200;
  std::printf("\nseed pipeline over 3 nodes (nosync journals), %zu runs x 20 steps started at "
              "once through node a after %zu untimed, %zu repetitions (steps/s)\n", runs,
              warmup_runs, reps);
  std::printf("%-5s %-16s %-16s %-8s\n", "rep", "unreplicated", "replicated", "ratio");
  std::vector<double> plain, replicated, ratio;
  for (std::size_t r = 0; r < reps; ++r) {
    double rate[2] = {0, 0};
    for (int mode = 0; mode < 2; ++mode) {
      bench::scratch_dir dir{""};
      running_cluster cl{dir.path(),
                         mode == 1 ? "replication: {mode: standby, wait_ms: 10000}\n" : ""};
      auto batch = [&](const std::string& prefix, std::size_t n) {
        std::vector<std::string> ids;
        for (std::size_t i = 0; i < n; ++i)
          ids.push_back(prefix + std::to_string(r) + "-" + std::to_string(i));
        return ids;
      };
      // Untimed first: every node connected, every stream past its first
      // copy and attach, the journals' first pages touched.
      pipeline_seconds(*cl.a->sys, cl.a->node->handle(), batch("w", warmup_runs));
      rate[mode] = 20.0 * static_cast<double>(runs)
                   / pipeline_seconds(*cl.a->sys, cl.a->node->handle(), batch("p", runs));
    }
    plain.push_back(rate[0]);
    replicated.push_back(rate[1]);
    ratio.push_back(rate[1] / rate[0]);
    std::printf("%-5zu %-16.0f %-16.0f %-8.2f\n", r + 1, rate[0], rate[1], rate[1] / rate[0]);
  }
  std::printf("median: unreplicated %.0f steps/s, replicated %.0f steps/s, ratio %.2f "
              "(target: at least 0.5)\n",
              bench::median(plain), bench::median(replicated), bench::median(ratio));
}

void takeover(std::size_t reps) {
  constexpr int takeover_ms = 1000;
  std::printf("\ntakeover: 3 nodes, replication mode takeover (takeover_ms %d), 20 runs of "
              "2 ms steps at node a killed with SIGKILL; time from the kill to the first step "
              "its standby b runs\n", takeover_ms);
  std::vector<double> beyond;
  for (std::size_t r = 0; r < reps; ++r) {
    bench::scratch_dir dir{""};
    running_cluster cl{dir.path(),
                       "replication: {mode: takeover, takeover_ms: "
                         + std::to_string(takeover_ms) + "}\n",
                       "b"};
    caf::scoped_actor self{*cl.a->sys};
    for (int i = 0, started = 0; started < 20; ++i) {
      auto id = "t" + std::to_string(r) + "-" + std::to_string(i);
      if (cluster::rank_nodes(id, names).front() != "a")
        continue;
      ask<run_meta>(self, cl.a->node->handle(), svc::start_atom::value, std::string{"ticker"}, id,
                    to_bytes(id));
      ++started;
    }
    std::this_thread::sleep_for(500ms);  // the runs are well into their steps
    first_step_after_us = 0;
    killed_at_us = now_us();
    cl.child("a").kill_hard();
    for (int i = 0; i < 3000 && first_step_after_us == 0; ++i)
      std::this_thread::sleep_for(10ms);
    if (first_step_after_us == 0)
      throw std::runtime_error("b ran no step of a's runs within 30 s of the kill");
    double ms = static_cast<double>(first_step_after_us - killed_at_us) / 1000.0;
    killed_at_us = 0;
    beyond.push_back(ms - takeover_ms);
    std::printf("rep %zu: %.0f ms from the kill to b's first step (takeover_ms + %.0f ms)\n",
                r + 1, ms, ms - takeover_ms);
  }
  std::printf("median: takeover_ms + %.0f ms (target: under 3,000 ms beyond takeover_ms)\n",
              bench::median(beyond));
}

} // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string{argv[1]} == "node")
    return node_main(argv[2], argv[3], argv[4]);
  std::size_t runs = 300, reps = 3, pipeline_runs = 3000;
  bool takeover_only = false, throughput_only = false;
  auto usage = [] {
    std::fprintf(stderr, "usage: cluster [--runs N] [--reps R] [--pipeline-runs P] "
                         "[--takeover-only | --throughput-only]   (N, R, P at least 1)\n");
    return 2;
  };
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--takeover-only" || flag == "--throughput-only") {
      (flag == "--takeover-only" ? takeover_only : throughput_only) = true;
      continue;
    }
    std::size_t* value = flag == "--runs"            ? &runs
                         : flag == "--reps"          ? &reps
                         : flag == "--pipeline-runs" ? &pipeline_runs
                                                     : nullptr;
    if (!value || i + 1 >= argc)
      return usage();
    try {
      *value = std::stoul(argv[++i]);
    } catch (const std::exception&) {
      return usage();
    }
    if (*value == 0)
      return usage();
  }
  if (takeover_only && throughput_only)
    return usage();
  if (takeover_only)
    return takeover(reps), 0;
  if (throughput_only)
    return throughput(pipeline_runs, reps), 0;
  latency(runs, reps);
  throughput(pipeline_runs, reps);
  takeover(reps);
  return 0;
}
