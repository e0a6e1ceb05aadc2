// `endure pipeline` killed with SIGKILL at random moments, again and again,
// with the default limits a user runs it with: every run completes (none is
// taken for a poison step), the digest is the one an uninterrupted run
// prints, and every step body that ran again is accounted for by an attempt
// the journal shows cut off by a kill.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "endure/cli/journal_view.hpp"
#include "endure/cli/run_timeline.hpp"
#include "endure/cli/seed_pipeline.hpp"
#include "endure/net/sha256.hpp"
#include "support/child_process.hpp"
#include "support/eventually.hpp"
#include "support/temp_dir.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

constexpr int steps_per_run = 20;

std::string run_name(int i) { return "pipeline-" + std::to_string(i); }

/// (run, step index, attempt)
using attempt_id = std::tuple<std::string, std::uint64_t, std::uint32_t>;
/// (run, step index) -> how many times its body ran, from the counter file.
using execution_counts = std::map<std::pair<std::string, std::uint64_t>, int>;

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

execution_counts executions(const std::string& counter) {
  execution_counts out;
  for (auto& line : lines_of(counter)) {
    std::istringstream in{line};
    std::string run;
    std::uint64_t k = 0;
    in >> run >> k;
    ++out[{run, k - 1}];  // the seed pipeline's step k is the run's step k-1
  }
  return out;
}

std::string expected_line(int runs) {
  std::string all;
  for (int i = 0; i < runs; ++i)
    all += cli::seed_expected(run_name(i));
  return "completed " + std::to_string(runs) + " runs, digest " + net::sha256_hex(all);
}

constexpr int max_kills = 12;

std::vector<std::string> pipeline_args(const std::string& data, const std::string& counter,
                                       int runs, int concurrency) {
  // Half the kills strike right after a restart, while the resumed runs'
  // first steps are in flight: one step can be cut off at every one of the
  // (at most 12) kills. The poison-step rule would rightly quarantine it
  // after 5; a limit above the number of kills keeps that rule (tested on
  // its own with poison_child) out of a test of what kills cost.
  std::vector<std::string> args{ENDURE_BIN_PATH, "--data", data, "--mode", "nosync",
                                "pipeline", "--runs", std::to_string(runs),
                                "--counter", counter, "--max-step-crashes",
                                std::to_string(max_kills + 1)};
  if (concurrency > 0) {
    args.push_back("--concurrency");
    args.push_back(std::to_string(concurrency));
  }
  return args;
}

/// What the journal says about every attempt, by its outcome ("in flight",
/// "cut off", ...), and each run's status, read as `endure inspect` does.
struct journal_attempts {
  std::map<std::string, std::set<attempt_id>> by_outcome;
  std::map<std::string, run_meta> runs;
};

journal_attempts read_attempts(const std::string& data, int runs) {
  journal_attempts out;
  auto j = cli::open_journal_view(data);
  if (!j && j.error().code == errc::not_found)
    return out;  // killed before the journal was made
  REQUIRE(j);
  for (int i = 0; i < runs; ++i) {
    auto meta = (*j)->run(run_name(i));
    if (!meta)
      continue;  // not created before the kill
    out.runs[run_name(i)] = *meta;
    auto events = cli::read_events(**j, run_name(i));
    REQUIRE(events);
    for (auto& [index, step] : cli::build_timeline(*events).steps)
      for (auto& a : step.attempts)
        out.by_outcome[a.outcome].insert({run_name(i), index, a.attempt});
  }
  return out;
}

/// A data directory the pipeline was killed in, again and again, then
/// finished in: what the kills cut off and what the last invocation said.
struct campaign {
  std::unique_ptr<temp_dir> dir = std::make_unique<temp_dir>();
  std::vector<std::string> args;
  int kills = 0;
  /// Attempts the journal showed started and unfinished after some kill.
  std::set<attempt_id> in_flight_at_kills;
  int code = -1;
  std::string out;  ///< the last invocation's stdout
  journal_attempts final_state;

  std::string data() const { return dir->file("data"); }
  std::string counter() const { return dir->file("counter"); }
};

/// Starts the pipeline, kills it (SIGKILL) once the counter file grew by a
/// random number of executions, up to 12 times, then lets one invocation
/// finish. Every other kill lands within the first 30 executions, while
/// the restarted runs resume their steps; the others later.
campaign kill_repeatedly(int runs, int concurrency) {
  campaign c;
  c.args = pipeline_args(c.data(), c.counter(), runs, concurrency);
  std::mt19937 rng{std::random_device{}()};
  const std::size_t total = static_cast<std::size_t>(runs) * steps_per_run;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  for (int i = 0; i < max_kills && std::chrono::steady_clock::now() < deadline; ++i) {
    auto before = lines_of(c.counter()).size();
    auto target = before + 1 + rng() % (i % 2 == 0 ? 30 : 1000);
    if (target >= total)
      break;
    child_process child{c.args};
    // A bounded poll of the counter file: the child reports nothing else
    // while it runs. Killed at the target, or at the deadline if it ends.
    eventually([&] { return lines_of(c.counter()).size() >= target; }, 10s, 200us);
    child.kill_hard();
    ++c.kills;
    auto in_flight = read_attempts(c.data(), runs).by_outcome["in flight"];
    c.in_flight_at_kills.insert(in_flight.begin(), in_flight.end());
  }
  std::tie(c.code, c.out) = run_command(c.args, 60s);
  c.final_state = read_attempts(c.data(), runs);
  return c;
}

void check_campaign(int runs, int concurrency) {
  auto c = kill_repeatedly(runs, concurrency);
  INFO("kills: " << c.kills << ", attempts in flight at a kill: " << c.in_flight_at_kills.size());
  CHECK(c.kills >= 3);
  // Every run completed: none was quarantined.
  std::vector<std::string> not_completed;
  for (auto& [id, meta] : c.final_state.runs)
    if (meta.status != run_status::completed)
      not_completed.push_back(id + " " + std::string{to_string(meta.status)} + ": " + meta.detail);
  CHECK(not_completed.empty());
  CHECK(c.final_state.runs.size() == static_cast<std::size_t>(runs));
  CHECK(c.code == 0);
  // The digest of the test vectors, which an uninterrupted run prints too.
  CHECK(c.out == expected_line(runs) + "\n");
  temp_dir calm;
  auto [calm_code, calm_out] = run_command(
    pipeline_args(calm.file("data"), calm.file("counter"), runs, concurrency), 60s);
  CHECK(calm_code == 0);
  CHECK(c.out == calm_out);

  // The attempts the journal shows cut off are exactly those that were
  // unfinished when some kill struck; every step ran. (That every body run
  // again is one of them: the scenario below.)
  CHECK(c.final_state.by_outcome["cut off"] == c.in_flight_at_kills);
  CHECK(c.final_state.by_outcome["in flight"].empty());
  auto counts = executions(c.counter());
  for (int i = 0; i < runs; ++i)
    for (std::uint64_t s = 0; s < steps_per_run; ++s)
      REQUIRE(counts[{run_name(i), s}] >= 1);

  // Invoked again on a finished directory: same line, nothing re-executed.
  auto executed = lines_of(c.counter()).size();
  auto [again_code, again_out] = run_command(c.args, 60s);
  CHECK(again_code == 0);
  CHECK(again_out == c.out);
  CHECK(lines_of(c.counter()).size() == executed);
}

} // namespace

SCENARIO("the pipeline survives repeated SIGKILLs with no journaled step re-run",
         "[crash][pipeline]") {
  check_campaign(200, 0);
}

SCENARIO("the pipeline with a concurrency limit survives repeated SIGKILLs",
         "[crash][pipeline]") {
  check_campaign(100, 5);
}

// A step body runs only once its attempt's start is durable (also the first
// step of a new run and the first pending step of a resumed one), so a
// kill can re-run only bodies whose attempts the journal shows cut off.
SCENARIO("every step body that ran again is an attempt the journal shows cut off",
         "[crash][pipeline]") {
  constexpr int runs = 100;
  auto c = kill_repeatedly(runs, 0);
  REQUIRE(c.code == 0);
  std::map<std::pair<std::string, std::uint64_t>, int> cut_per_step;
  for (auto& [run, step, attempt] : c.final_state.by_outcome["cut off"])
    ++cut_per_step[{run, step}];
  std::size_t reexecuted = 0, unaccounted = 0;  // steps re-run more often than cut off
  for (auto& [run_step, n] : executions(c.counter())) {
    reexecuted += n - 1;
    auto cuts = cut_per_step[run_step];
    if (n - 1 > cuts && unaccounted++ < 10)
      UNSCOPED_INFO(run_step.first << " step " << run_step.second << " ran " << n
                                   << " times, with " << cuts << " attempts cut off");
  }
  INFO(c.kills << " kills; " << reexecuted << " bodies re-run; "
                << c.final_state.by_outcome["cut off"].size() << " attempts cut off");
  CHECK(unaccounted == 0);
}
