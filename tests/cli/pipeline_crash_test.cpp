// `endure pipeline` killed with SIGKILL at random moments, again and again:
// every invocation after the last kill ends with the same digest line, every
// step ran at least once, and the only re-executions are steps that were in
// flight at a kill (at most one per run per kill).
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "cli/seed_pipeline.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

std::string expected_line(int runs) {
  std::string all;
  for (int i = 0; i < runs; ++i)
    all += cli::seed_expected("pipeline-" + std::to_string(i));
  return "completed " + std::to_string(runs) + " runs, digest " + cli::sha256_hex(all);
}

std::vector<std::string> pipeline_args(const temp_dir& dir, int runs, int concurrency) {
  std::vector<std::string> args{ENDURE_BIN_PATH, "--data", dir.file("data"), "--mode", "nosync",
                                "pipeline", "--runs", std::to_string(runs),
                                "--counter", dir.file("counter"),
                                "--max-step-crashes", "1000"};
  if (concurrency > 0) {
    args.push_back("--concurrency");
    args.push_back(std::to_string(concurrency));
  }
  return args;
}

void crash_and_finish(int runs, int concurrency) {
  temp_dir dir;
  std::mt19937 rng{std::random_device{}()};
  int kills = 0;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  for (int i = 0; i < 12 && std::chrono::steady_clock::now() < deadline; ++i) {
    auto before = lines_of(dir.file("counter")).size();
    auto target = before + 1 + rng() % 150;
    if (target >= static_cast<std::size_t>(runs) * 20)
      break;
    child_process child{pipeline_args(dir, runs, concurrency)};
    for (int polls = 0; polls < 2000 && lines_of(dir.file("counter")).size() < target; ++polls)
      std::this_thread::sleep_for(1ms);
    child.kill_hard();
    ++kills;
  }
  auto [code, out] = run_command(pipeline_args(dir, runs, concurrency), 60s);
  CHECK(code == 0);
  CHECK(out == expected_line(runs) + "\n");

  auto executions = lines_of(dir.file("counter"));
  std::set<std::string> distinct(executions.begin(), executions.end());
  CHECK(distinct.size() == static_cast<std::size_t>(runs) * 20);
  auto reexecuted = executions.size() - distinct.size();
  INFO("kills: " << kills << ", re-executed steps: " << reexecuted);
  WARN("pipeline: " << kills << " kills, " << reexecuted << " re-executed steps of " << executions.size());
  CHECK(kills >= 3);
  CHECK(reexecuted <= static_cast<std::size_t>(kills * runs));

  // Invoked again on a finished directory: same line, nothing re-executed.
  auto [code2, out2] = run_command(pipeline_args(dir, runs, concurrency), 60s);
  CHECK(code2 == 0);
  CHECK(out2 == out);
  CHECK(lines_of(dir.file("counter")).size() == executions.size());
}

} // namespace

SCENARIO("the pipeline survives repeated SIGKILLs with no journaled step re-run",
         "[crash][pipeline]") {
  // Enough steps that a kill lands before the end although a child runs
  // ~100 steps per millisecond and the test polls once per millisecond.
  crash_and_finish(200, 0);
}

SCENARIO("the pipeline with a concurrency limit survives repeated SIGKILLs",
         "[crash][pipeline]") {
  crash_and_finish(100, 5);
}
