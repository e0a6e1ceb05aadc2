// bench/context: the context assembler's figure of issue 18 ("context
// assembly for a 10,000-item ledger and 100,000 memories under 2 ms";
// bench/README.md "bench/context"). A seeded state: 10,000 ledger items (a
// third passing, each with acceptance criteria and a verification), 200
// progress entries, 20 recent tool results and 100,000 memories. The memory
// store (another component) answers a query with its best hits; here the
// top 20 by score stand in for that answer and are what the assembler gets,
// as in a session. A second figure hands the assembler all 100,000 as hits,
// to show what ranking them itself would cost. Each call works on another
// current item. Medians and p99 per call over --runs runs of --calls calls.
// Needs no runtime: the assembler is a plain library. Single-threaded.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <time.h>
#include <vector>

#include "bench_support.hpp"
#include "endure/actors/state/context_assembler.hpp"

using namespace endure;
using namespace endure::state;

namespace {

struct bench_args {
  int runs = 5;
  int calls = 1000;
  std::size_t budget = 32'768;  ///< the sim model's default context window
};

bool parse(int argc, char** argv, bench_args& a) {
  for (int i = 1; i < argc; ++i) {
    auto value = [&](long& out) {
      if (i + 1 >= argc)
        return false;
      char* end = nullptr;
      out = std::strtol(argv[++i], &end, 10);
      return *end == '\0' && out > 0;
    };
    long v = 0;
    if (!std::strcmp(argv[i], "--runs") && value(v))
      a.runs = static_cast<int>(v);
    else if (!std::strcmp(argv[i], "--calls") && value(v))
      a.calls = static_cast<int>(v);
    else if (!std::strcmp(argv[i], "--budget") && value(v))
      a.budget = static_cast<std::size_t>(v);
    else {
      std::fprintf(stderr, "usage: context [--runs N] [--calls N] [--budget TOKENS]\n");
      return false;
    }
  }
  return true;
}

std::string words(std::mt19937_64& rng, std::size_t n) {
  static const char* vocab[] = {"journal", "actor", "replay", "ledger", "commit", "crash",
                                "budget", "session", "memory", "evidence", "verify", "page"};
  std::string out;
  for (std::size_t i = 0; i < n; ++i)
    out.append(i ? " " : "").append(vocab[rng() % std::size(vocab)]);
  return out;
}

struct bench_state {
  std::vector<ledger_item> items;
  std::vector<progress_entry> progress;
  std::vector<memory_hit> memories;  ///< all 100,000
  std::vector<memory_hit> top;       ///< the best 20: the store's answer
  std::vector<std::string> recent;
};

bench_state make_state(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  bench_state s;
  s.items.reserve(10'000);
  for (std::uint32_t i = 0; i < 10'000; ++i) {
    ledger_item it;
    it.id = "item-" + std::to_string(i);
    it.description = "Write docs/" + it.id + ".md: " + words(rng, 12);
    it.priority = static_cast<std::int32_t>(rng() % 5);
    it.order = i;
    it.acceptance = {words(rng, 8), words(rng, 8), words(rng, 6)};
    it.verify.command = "test -s docs/" + it.id + ".md";
    if (i % 3 == 0) {
      it.status = item_status::passing;
      it.last = evidence{"test -s docs/" + it.id + ".md", true, 0, false, "", "", "", 0, 40, 1, "r", ""};
    } else if (i % 3 == 1) {
      it.last = evidence{"test -s docs/" + it.id + ".md", false, 1, false, "",
                         "exit status 1, expected 0", std::string(2048, 'o'), 0, 40, 1, "r", ""};
    }
    s.items.push_back(std::move(it));
  }
  for (std::uint32_t k = 1; k <= 200; ++k)
    s.progress.push_back({k, 0, "sim", {"item-" + std::to_string(k)}, words(rng, 30),
                          words(rng, 10), words(rng, 15), "budget"});
  s.memories.reserve(100'000);
  std::uniform_real_distribution<double> score(0.0, 1.0);
  for (int m = 0; m < 100'000; ++m)
    s.memories.push_back({"mem-" + std::to_string(m), words(rng, 20), score(rng)});
  s.top = s.memories;
  std::partial_sort(s.top.begin(), s.top.begin() + 20, s.top.end(),
                    [](const memory_hit& a, const memory_hit& b) { return a.score > b.score; });
  s.top.resize(20);
  for (int r = 0; r < 20; ++r)
    s.recent.push_back("$ tool call " + std::to_string(r) + "\n" + words(rng, 60));
  return s;
}

double thread_cpu_us() { return bench::thread_cpu_seconds() * 1e6; }

struct figure {
  std::vector<double> us;      ///< per call, wall clock
  std::vector<double> cpu_us;  ///< per call, this thread's CPU time
  std::size_t tokens = 0, manifest = 0, errors = 0;
};

figure measure(const bench_state& s, std::span<const memory_hit> hits, const bench_args& a,
               int calls) {
  figure f;
  context_inputs in;
  in.task = "docs";
  in.goal = "Document endure, one page per ledger item.";
  in.instructions = std::string(2000, 'i');
  in.items = s.items;
  in.progress = s.progress;
  in.memories = hits;
  in.recent = s.recent;
  in.budget_tokens = a.budget;
  for (int c = 0; c < calls; ++c) {
    in.current_item = s.items[(static_cast<std::size_t>(c) * 7919) % s.items.size()].id;
    auto cpu = thread_cpu_us();
    auto start = bench::bench_clock::now();
    auto out = assemble_context(in);
    f.us.push_back(bench::seconds_since(start) * 1e6);
    f.cpu_us.push_back(thread_cpu_us() - cpu);
    if (!out) {
      ++f.errors;
      continue;
    }
    f.tokens = std::max(f.tokens, out->tokens);
    f.manifest = out->manifest.size();
  }
  return f;
}

void print_row(const char* what, const std::vector<figure>& runs) {
  std::vector<double> medians, p99s, cpu_medians, cpu_p99s;
  std::size_t errors = 0;
  for (const auto& f : runs) {
    medians.push_back(bench::median(f.us));
    p99s.push_back(bench::quantile(f.us, 0.99));
    cpu_medians.push_back(bench::median(f.cpu_us));
    cpu_p99s.push_back(bench::quantile(f.cpu_us, 0.99));
    errors += f.errors;
  }
  std::printf("%-36s %8.1f %8.1f %9.1f %8.1f %8.1f %7zu %5zu %s\n", what,
              bench::median(medians), bench::median(p99s),
              *std::max_element(p99s.begin(), p99s.end()), bench::median(cpu_medians),
              bench::median(cpu_p99s), runs.back().tokens, runs.back().manifest,
              errors ? "ERRORS" : "");
}

} // namespace

int main(int argc, char** argv) {
  bench_args a;
  if (!parse(argc, argv, a))
    return 2;
  auto t0 = bench::bench_clock::now();
  auto s = make_state(18);
  std::printf("bench/context: 10,000 ledger items (6,667 failing), 200 progress entries, "
              "20 recent results,\n100,000 memories; budget %zu tokens; %d runs of %d calls, "
              "each on another current item.\nState built in %.2f s.\n\n",
              a.budget, a.runs, a.calls, bench::seconds_since(t0));
  std::vector<figure> top20, all;
  for (int r = 0; r < a.runs; ++r) {
    measure(s, s.top, a, 20);  // warm-up: caches and allocator
    top20.push_back(measure(s, s.top, a, a.calls));
    all.push_back(measure(s, s.memories, a, std::max(1, a.calls / 10)));
  }
  std::printf("%-36s %8s %8s %9s %8s %8s %7s %5s\n", "per assemble_context call (us)",
              "median", "p99", "worst p99", "cpu med", "cpu p99", "tokens", "rows");
  print_row("top 20 of 100,000 memories as hits", top20);
  print_row("all 100,000 memories as hits", all);
  std::printf("\nmedian, p99: medians over the runs of each run's per-call wall-clock figure; "
              "worst p99: the\nlargest run's; cpu: the same of this thread's CPU time (without "
              "preemption by other\nprocesses). tokens: the prompt's estimate; rows: manifest "
              "entries.\n");
  return 0;
}
