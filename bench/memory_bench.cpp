// bench/memory: the memory store at size (issue 18; bench/README.md
// "bench/memory"). Fills one namespace with N entries (default 1,000,000)
// of synthetic notes embedded by the built-in hashed n-gram embedder at
// dim 64, in synced commits of 10,000, then times top-10 queries (p50/p99
// over --queries per run, medians over --runs), a reopen of the store after
// the fill, and the top-1 agreement of the graph with an exact scan. With
// --threshold it also times an exact scan against a graph search at small
// sizes: where memory_options::brute_force_below comes from.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "endure/actors/escalation/embedder.hpp"
#include "endure/actors/state/memory_store.hpp"
#include "endure/persistence/journal.hpp"

using namespace endure;
using namespace endure::bench;

namespace {

struct args {
  std::size_t entries = 1'000'000;
  std::size_t dim = 64;
  int queries = 2'000;
  int runs = 5;
  bool threshold = false;
  std::size_t ef = 0, efc = 0;  ///< 0: memory_options' defaults
  std::string dir;
  /// Keep the filled store here (filled only if empty), so later runs
  /// measure queries and the reopen without filling again.
  std::string data;
};

/// Note i: eight words of a 5,000-word vocabulary drawn with a skew (some
/// words are common), so notes share words as real ones do.
class notes {
public:
  explicit notes(std::uint32_t seed) : rng_(seed) {}
  std::string text(int words) {
    std::string out;
    for (int w = 0; w < words; ++w) {
      auto r = std::uniform_real_distribution<double>(0, 1)(rng_);
      auto id = static_cast<int>(5'000 * r * r);  // skewed to the first words
      if (w)
        out += ' ';
      out += 'w';
      out += std::to_string(id);
      out += 'x';
      out += std::to_string(id % 37);
    }
    return out;
  }

private:
  std::mt19937 rng_;
};

std::unique_ptr<journal> open_journal(const std::string& dir, durability mode) {
  auto j = journal::open({.data_dir = dir, .mode = mode});
  if (!j) {
    std::fprintf(stderr, "journal: %s\n", j.error().to_string().c_str());
    std::exit(1);
  }
  return std::move(*j);
}

std::unique_ptr<state::memory_store> open_store(journal& j, state::memory_options o) {
  auto m = state::memory_store::open(j, o);
  if (!m) {
    std::fprintf(stderr, "memory store: %s\n", m.error().to_string().c_str());
    std::exit(1);
  }
  return std::move(*m);
}

void must(const expected<void>& ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "%s: %s\n", what, ok.error().to_string().c_str());
    std::exit(1);
  }
}

/// Fills namespace "bench" with n entries, `batch` per commit.
double fill(state::memory_store& m, std::size_t n, std::size_t dim, std::size_t batch) {
  notes gen(1);
  auto start = bench_clock::now();
  for (std::size_t done = 0; done < n;) {
    std::vector<state::memory_entry> entries;
    for (; done < n && entries.size() < batch; ++done) {
      state::memory_entry e;
      e.ns = "bench";
      e.key = "note-" + std::to_string(done);
      e.text = gen.text(8);
      e.embedding = escalation::hashed_ngram_embedding(e.text, dim);
      e.created_ms = 1;
      entries.push_back(std::move(e));
    }
    must(m.put_all(std::move(entries)), "fill");
  }
  return seconds_since(start);
}

std::vector<std::vector<float>> query_vectors(int count, std::size_t dim, std::uint32_t seed) {
  notes gen(seed);
  std::vector<std::vector<float>> out;
  while (out.size() < static_cast<std::size_t>(count)) {
    auto v = escalation::hashed_ngram_embedding(gen.text(4), dim);
    if (std::any_of(v.begin(), v.end(), [](float x) { return x != 0; }))
      out.push_back(std::move(v));
  }
  return out;
}

double thread_cpu_ms() { return thread_cpu_seconds() * 1e3; }

/// Wall and CPU latencies in ms of one query each.
struct latencies {
  std::vector<double> wall, cpu;
};

latencies time_queries(const state::memory_store& m, const std::vector<std::vector<float>>& qs,
                       std::size_t k) {
  latencies out;
  for (auto& q : qs) {
    auto cpu = thread_cpu_ms();
    auto start = bench_clock::now();
    auto hits = m.query("bench", q, k, 0);
    out.wall.push_back(seconds_since(start) * 1e3);
    out.cpu.push_back(thread_cpu_ms() - cpu);
    if (!hits || hits->empty()) {
      std::fprintf(stderr, "query: %s\n", hits ? "no hits" : hits.error().to_string().c_str());
      std::exit(1);
    }
  }
  return out;
}

void threshold_table(const args& a, const std::string& parent) {
  std::printf("\nexact scan vs graph search, one namespace, dim %zu, top-10 (p50 us, CPU):\n",
              a.dim);
  std::printf("%10s %10s %10s\n", "entries", "exact", "graph");
  for (std::size_t n : {250, 500, 1'000, 2'000, 4'000, 8'000, 16'000}) {
    scratch_dir dir(parent);
    auto path = dir.fresh("t");
    double exact = 0, graph = 0;
    for (bool scan : {true, false}) {
      auto j = open_journal(path, durability::nosync);
      state::memory_options o;
      o.dim = a.dim;
      o.checkpoint_every = 0;
      o.brute_force_below = scan ? std::numeric_limits<std::size_t>::max() : 0;
      auto m = open_store(*j, o);
      if (m->size() == 0)
        fill(*m, n, a.dim, 10'000);
      auto ms = time_queries(*m, query_vectors(2'000, a.dim, 7), 10);
      (scan ? exact : graph) = median(ms.cpu) * 1e3;
    }
    std::printf("%10zu %10.1f %10.1f\n", n, exact, graph);
  }
}

/// Fills the store in `path` unless it holds entries, then checkpoints.
void fill_store(const std::string& path, const args& a, const state::memory_options& o) {
  auto j = open_journal(path, durability::sync);
  auto m = open_store(*j, o);
  if (m->size() != 0) {
    std::printf("fill: skipped, %zu entries in %s already\n", m->size(), path.c_str());
    return;
  }
  auto secs = fill(*m, a.entries, a.dim, 10'000);
  std::printf("fill: %.1f s (%.0f entries/s, graph checkpoints included)\n", secs,
              static_cast<double>(a.entries) / secs);
  auto start = bench_clock::now();
  if (auto saved = m->checkpoint(true); !saved)
    must(saved.error(), "checkpoint");
  std::printf("final checkpoint: %.2f s\n", seconds_since(start));
}

args parse(int argc, char** argv) {
  args a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool more = i + 1 < argc;
    if (arg == "--entries" && more)
      a.entries = std::strtoull(argv[++i], nullptr, 10);
    else if (arg == "--dim" && more)
      a.dim = std::strtoull(argv[++i], nullptr, 10);
    else if (arg == "--queries" && more)
      a.queries = std::atoi(argv[++i]);
    else if (arg == "--runs" && more)
      a.runs = std::atoi(argv[++i]);
    else if (arg == "--dir" && more)
      a.dir = argv[++i];
    else if (arg == "--data" && more)
      a.data = argv[++i];
    else if (arg == "--ef" && more)
      a.ef = std::strtoull(argv[++i], nullptr, 10);
    else if (arg == "--efc" && more)
      a.efc = std::strtoull(argv[++i], nullptr, 10);
    else if (arg == "--threshold")
      a.threshold = true;
    else {
      std::fprintf(stderr, "usage: %s [--entries N] [--dim D] [--queries Q] [--runs R] "
                           "[--ef N] [--efc N] [--threshold] [--dir DIR] [--data DIR]\n", argv[0]);
      std::exit(arg == "--help" ? 0 : 2);
    }
  }
  if (a.entries == 0 || a.dim == 0 || a.queries <= 0 || a.runs <= 0) {
    std::fprintf(stderr, "--entries, --dim, --queries and --runs must be positive\n");
    std::exit(2);
  }
  return a;
}

} // namespace

int main(int argc, char** argv) {
  auto a = parse(argc, argv);
  const char* tmp = std::getenv("TMPDIR");
  auto parent = a.dir.empty() ? std::string{tmp ? tmp : "/tmp"} : a.dir;
  if (a.threshold)
    threshold_table(a, parent);
  scratch_dir dir(parent);
  auto path = a.data.empty() ? dir.fresh("memory") : a.data;
  state::memory_options o;
  o.dim = a.dim;
  if (a.ef)
    o.search_breadth = a.ef;
  if (a.efc)
    o.build_breadth = a.efc;
  std::printf("\nhnswlib M %zu, ef_construction %zu, ef %zu", o.graph_degree, o.build_breadth,
              o.search_breadth);
  std::printf("\nmemory store: %zu entries in one namespace, dim %zu (built-in embedder), "
              "durability sync, commits of 10,000\n", a.entries, a.dim);
  fill_store(path, a, o);
  // Reopen after the fill: journal, then the store (graphs + every row).
  auto start = bench_clock::now();
  auto j = open_journal(path, durability::sync);
  auto journal_secs = seconds_since(start);
  start = bench_clock::now();
  auto m = open_store(*j, o);
  std::printf("reopen: journal %.2f s, memory store %.2f s (%llu entries, %llu inserted, "
              "checkpoint %llu%s%s)\n", journal_secs, seconds_since(start),
              static_cast<unsigned long long>(m->opened().entries),
              static_cast<unsigned long long>(m->opened().inserted),
              static_cast<unsigned long long>(m->opened().checkpoint),
              m->opened().checkpoint_problem.empty() ? "" : ", ",
              m->opened().checkpoint_problem.c_str());
  std::vector<double> p50s, p99s, cpu50s, cpu99s;
  for (int r = 0; r < a.runs; ++r) {
    auto ms = time_queries(*m, query_vectors(a.queries, a.dim, 100 + r), 10);
    p50s.push_back(quantile(ms.wall, 0.5));
    p99s.push_back(quantile(ms.wall, 0.99));
    cpu50s.push_back(quantile(ms.cpu, 0.5));
    cpu99s.push_back(quantile(ms.cpu, 0.99));
    std::printf("  run %d: %d queries, top-10, wall p50 %.3f ms p99 %.3f ms, "
                "CPU p50 %.3f ms p99 %.3f ms\n", r + 1, a.queries, p50s.back(), p99s.back(),
                cpu50s.back(), cpu99s.back());
  }
  std::printf("query top-10 over %zu entries (medians of %d runs): wall p50 %.3f ms, "
              "p99 %.3f ms; CPU p50 %.3f ms, p99 %.3f ms\n", a.entries, a.runs, median(p50s),
              median(p99s), median(cpu50s), median(cpu99s));
  std::fflush(stdout);
  // Top-1 of the graph against an exact scan of the same rows.
  auto qs = query_vectors(200, a.dim, 999);
  std::vector<double> graph_best;
  for (auto& q : qs)
    graph_best.push_back((*m->query("bench", q, 1, 0))[0].score);
  m.reset();
  o.brute_force_below = std::numeric_limits<std::size_t>::max();
  o.checkpoint_every = 0;
  auto exact = open_store(*j, o);
  int agree = 0;
  double worst_gap = 0;
  for (std::size_t i = 0; i < qs.size(); ++i) {
    // Ties are common (notes sharing the same words): a graph answer as
    // similar as the exact one counts as the same.
    auto gap = (*exact->query("bench", qs[i], 1, 0))[0].score - graph_best[i];
    agree += gap <= 1e-6 ? 1 : 0;
    worst_gap = std::max(worst_gap, gap);
  }
  std::printf("graph top-1 as similar as the exact top-1 for %d of %zu queries "
              "(largest similarity gap %.3f)\n", agree, qs.size(), worst_gap);
  return 0;
}
