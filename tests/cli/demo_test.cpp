// `endure demo` end to end, as a user runs it: the worker is killed with
// SIGKILL part way, restarted, and the summary shows the runs completed and
// steps replayed from the journal; `inspect` then shows retried steps with
// their error classes.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "cli/cli_runner.hpp"
#include "net/fake_openai_server.hpp"
#include "support/temp_dir.hpp"

using namespace endure::test;
using namespace std::chrono_literals;

namespace {

long number_after(const std::string& text, const std::string& label) {
  std::smatch m;
  std::regex re{label + R"(\s*(\d+))"};
  return std::regex_search(text, m, re) ? std::stol(m[1]) : -1;
}

} // namespace

SCENARIO("the demo survives its own SIGKILL and replays completed steps", "[cli][demo]") {
  temp_dir dir;
  auto demo = run_endure({"--data", dir.path(), "demo", "--latency-ms", "30",
                          "--timeout-ms", "400"}, 180s);
  INFO(demo.out << demo.err);
  REQUIRE(demo.code == 0);
  CHECK_THAT(demo.out, Catch::Contains("model: sim"));
  CHECK_THAT(demo.out, Catch::Contains("killed worker pid"));
  CHECK_THAT(demo.out, Catch::Contains("runs completed: 4 of 4"));
  CHECK(number_after(demo.out, "steps completed:") == 80);
  CHECK(number_after(demo.out, "steps replayed from the journal instead of re-run:") > 0);
  CHECK_THAT(demo.out, Catch::Contains("cost a restart from scratch would have spent again: $"));

  // Each run's timeline: some steps failed retryably, then succeeded.
  {
    std::size_t failed_then_completed = 0;
    std::set<std::string> classes;
    for (auto run : {"demo-durable-execution", "demo-llm-agents", "demo-lmdb-journal",
                     "demo-actor-model"}) {
      auto r = run_endure({"--data", dir.file("demo"), "inspect", run, "--json"});
      REQUIRE(r.code == 0);
      auto j = nlohmann::json::parse(r.out);
      CHECK(j["status"] == "completed");
      CHECK(j["steps"].size() == 20);
      for (auto& step : j["steps"]) {
        auto& attempts = step["attempts"];
        if (attempts.size() > 1 && attempts.back()["outcome"] == "completed"
            && attempts.front().contains("error_class")) {
          ++failed_then_completed;
          classes.insert(attempts.front()["error_class"].get<std::string>());
        }
      }
    }
    CHECK(failed_then_completed > 0);
    CHECK_FALSE(classes.empty());
    for (auto& c : classes)
      CHECK((c == "retryable" || c == "rate_limited"));
  }
  // The text timeline names the error class of a retried attempt.
  {
    std::string all;
    for (auto run : {"demo-durable-execution", "demo-llm-agents", "demo-lmdb-journal",
                     "demo-actor-model"})
      all += run_endure({"--data", dir.file("demo"), "inspect", run}).out;
    CHECK(std::regex_search(all, std::regex{"failed after .*: (retryable|rate_limited)"}));
  }
  // Run twice on the same data directory: a fresh demo.
  {
    auto again = run_endure({"--data", dir.path(), "demo", "--latency-ms", "20",
                             "--timeout-ms", "400", "--keyword", "rust"}, 180s);
    INFO(again.out << again.err);
    CHECK(again.code == 0);
    CHECK_THAT(again.out, Catch::Contains("runs completed: 1 of 1"));
  }
}

SCENARIO("the demo runs against an OpenAI-compatible endpoint", "[cli][demo]") {
  endure::net::fake_server_options opts;
  opts.sim.latency = 20ms;
  opts.sim.rate_limit_rate = 0.05;
  opts.sim.retry_after = 100ms;
  opts.sim.server_error_rate = 0.05;
  opts.hang = 2s;
  endure::net::fake_openai_server server{opts};
  temp_dir dir;
  auto demo = run_endure({"--data", dir.path(), "demo", "--endpoint", server.base_url(),
                          "--model", "test-model", "--api-key-env", "", "--timeout-ms", "1000",
                          "--keyword", "rust", "--keyword", "lmdb"}, 180s);
  INFO(demo.out << demo.err);
  REQUIRE(demo.code == 0);
  CHECK_THAT(demo.out, Catch::Contains("OpenAI-compatible endpoint " + server.base_url()));
  CHECK_THAT(demo.out, !Catch::Contains("model: sim"));
  CHECK_THAT(demo.out, Catch::Contains("runs completed: 2 of 2"));
  CHECK(number_after(demo.out, "steps replayed from the journal instead of re-run:") > 0);
  CHECK(server.requests() >= 40);
}

SCENARIO("demo usage errors", "[cli][demo]") {
  temp_dir dir;
  auto r = run_endure({"--data", dir.path(), "demo", "--endpoint", "http://127.0.0.1:1/v1"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("--model"));
}
