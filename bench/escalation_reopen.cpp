// bench/escalation --reopen N (escalation_reopen.hpp).
#include "escalation_reopen.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "endure/actors/escalation/embedder.hpp"
#include "endure/actors/escalation/store.hpp"
#include "endure/persistence/journal.hpp"

namespace endure::bench {

namespace {

using namespace endure::escalation;
using clock = std::chrono::steady_clock;

double secs(clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string text(std::size_t i) {
  return "refund request order " + std::to_string(i * 2654435761u % 1000003) + " item " +
         std::to_string(i % 977) + " customer " + std::to_string(i % 7919);
}

matrix_options bench_options() {
  matrix_options o;
  o.grey_zone = 0;
  if (const char* b = std::getenv("BUILD_BREADTH"))
    o.novelty.build_breadth = std::stoul(b);
  return o;
}

std::unique_ptr<journal> open_store(const std::string& dir) {
  auto j = journal::open({.data_dir = dir, .mode = durability::sync});
  if (!j) {
    std::fprintf(stderr, "reopen bench: %s\n", j.error().to_string().c_str());
    std::exit(1);
  }
  register_record_types((*j)->types());
  return std::move(*j);
}

/// The child: N inputs stored as the actor stores them, then "ready" on
/// `ready_fd` and a wait for the SIGKILL.
[[noreturn]] void fill(const std::string& dir, std::size_t n, int ready_fd) {
  auto j = open_store(dir);
  matrix m(bench_options());
  matrix_store rows(*j, {});
  write_batch batch;
  auto t0 = clock::now();
  for (std::size_t i = 1; i <= n; ++i) {
    auto unit = hashed_ngram_embedding(text(i));
    features f{0.3, 0.5, 0.4};
    if (!m.restore_input("refund", unit, i, f))
      std::_Exit(1);
    assessment a;
    a.input_id = i;
    a.features = f;
    batch.splice(rows.assessment_rows("refund", unit, a));
    if (i % 1000 == 0 || i == n) {
      if (!j->commit(std::move(batch)))
        std::_Exit(1);
      batch = write_batch{};
      if (!rows.checkpoint(m))
        std::_Exit(1);
    }
    if (i % 100000 == 0)
      std::fprintf(stderr, "  stored %zu inputs (%.0f s)\n", i, secs(clock::now() - t0));
  }
  std::fprintf(stderr, "  stored %zu inputs in %.0f s; waiting for SIGKILL\n", n, secs(clock::now() - t0));
  char c = 'r';
  (void)!write(ready_fd, &c, 1);
  for (;;)
    pause();
}

} // namespace

int run_reopen(std::size_t n) {
  auto dir = (std::filesystem::temp_directory_path()
              / ("endure-escalation-reopen-" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(dir);
  int fds[2];
  if (pipe(fds) != 0)
    return 1;
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    fill(dir, n, fds[1]);
  }
  close(fds[1]);
  char c = 0;
  if (read(fds[0], &c, 1) != 1) {
    std::fprintf(stderr, "reopen bench: the filling child died\n");
    return 1;
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);

  auto t0 = clock::now();
  auto j = open_store(dir);
  matrix m(bench_options());
  matrix_store rows(*j, {});
  auto report = rows.restore(m);
  auto reopen_s = secs(clock::now() - t0);
  if (!report) {
    std::fprintf(stderr, "reopen bench: %s\n", report.error().to_string().c_str());
    return 1;
  }
  std::vector<double> decide_ms;
  for (std::size_t q = 0; q < 2000; ++q) {
    proposal p;
    p.task_type = "refund";
    p.input = text(n + 1 + q * 37);
    p.confidence = 0.8;
    auto s = clock::now();
    if (!m.assess(p))
      return 1;
    decide_ms.push_back(secs(clock::now() - s) * 1e3);
  }
  std::printf("escalation store, %zu inputs of one task type (dim 128), writer killed with "
              "SIGKILL: reopened and queryable in %.2f s (checkpoint through %llu loaded, %llu "
              "inputs inserted after it); decision (novelty query + insert) p50 %.3f ms, p99 "
              "%.3f ms over 2,000; LMDB %.0f MiB, graph files %.0f MiB\n",
              n, reopen_s, static_cast<unsigned long long>(report->checkpoint_through),
              static_cast<unsigned long long>(report->inserted), quantile(decide_ms, 0.5),
              quantile(decide_ms, 0.99),
              std::filesystem::file_size(dir + "/data.mdb") / 1048576.0,
              [&] {
                double total = 0;
                for (auto& e : std::filesystem::directory_iterator(rows.graph_dir()))
                  total += e.file_size();
                return total / 1048576.0;
              }());
  j.reset();
  std::filesystem::remove_all(dir);
  return 0;
}

} // namespace endure::bench
