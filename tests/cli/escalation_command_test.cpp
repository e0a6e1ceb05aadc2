// `endure escalation eval LOG` as a user runs it: a decision log in, the
// evaluator's report out on stdout (a table for a person, JSON with
// --json), exit 0; a log it cannot read
// says which file and line and why, exit 1, nothing on stdout.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "cli/cli_runner.hpp"
#include "support/temp_dir.hpp"

using namespace endure::test;

namespace {

/// A decision log line; `error` is the outcome.
std::string line(int t, double score, bool escalated, bool error) {
  return nlohmann::json{{"t", t},
                        {"task_type", "refund"},
                        {"features", {{"uncertainty", score}, {"novelty", 0.5}, {"benefit", 0.5}}},
                        {"score", score},
                        {"decision", escalated ? "escalate" : "proceed"},
                        {"outcome", {{"error", error}}}}
           .dump() + "\n";
}

std::string write(const temp_dir& dir, const std::string& name, const std::string& text) {
  auto path = dir.file(name);
  std::ofstream(path) << text;
  return path;
}

/// Errors score 0.9 and 0.8, the others 0.1 to 0.4 (a perfect ranking),
/// with a blank line in the middle.
std::string perfect_ranking_log(const temp_dir& dir) {
  return write(dir, "decisions.jsonl",
               line(1, 0.9, true, true) + line(2, 0.1, false, false) +
                 line(3, 0.2, false, false) + "\n" + line(4, 0.8, true, true) +
                 line(5, 0.3, false, false) + line(6, 0.4, false, false));
}

} // namespace

SCENARIO("escalation eval prints the report of a decision log as JSON", "[cli][escalation]") {
  temp_dir dir;
  auto log = perfect_ranking_log(dir);
  auto r = run_endure({"escalation", "eval", log, "--resamples", "50", "--json"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto report = nlohmann::json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(report.is_discarded());
  CHECK(report["records"] == 6);
  CHECK(report["errors"] == 2);
  CHECK(report["escalated"] == 2);
  auto& score = report["rankings"][0];
  CHECK(score["name"] == "score");
  CHECK(score["auroc"]["value"] == 1.0);
  CHECK(score["auroc"]["ci"]["resamples_used"].get<int>() > 0);
  CHECK(score["auroc"]["ci"]["resamples_used"].get<int>() <= 50);
  AND_WHEN("it is run again with the same seed") {
    auto again = run_endure({"escalation", "eval", log, "--resamples", "50", "--json"});
    THEN("the report is the same, intervals included") { CHECK(again.out == r.out); }
  }
}

SCENARIO("escalation eval shows a person a table of the same report", "[cli][escalation]") {
  temp_dir dir;
  auto r = run_endure({"escalation", "eval", perfect_ranking_log(dir), "--resamples", "50"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("6 decisions, 2 silently wrong, 2 escalated\n"));
  // The perfect ranking: AUROC 1; 30% of 6 rounds down to 1 escalation,
  // which catches one of the 2 errors (0.500, the row's last column).
  CHECK_THAT(r.out, Catch::Contains("\nscore        1.000 ["));
  CHECK_THAT(r.out, Catch::Contains("0.500\n"));
  CHECK_THAT(r.out, Catch::Contains("ECE "));
  CHECK_THAT(r.out, Catch::Contains("fit on the first 4 records by t, judged on the last 2"));
  CHECK(r.out.find(" \n") == std::string::npos);   // no padding left at line ends
  CHECK(r.out.find("\n\n\n") == std::string::npos);  // one blank line between parts
}

SCENARIO("escalation eval refuses a log it cannot read, saying where and why",
         "[cli][escalation][errors]") {
  temp_dir dir;
  auto bad = write(dir, "bad.jsonl",
                   line(1, 0.9, true, true) + R"({"t": 2, "task_type": "refund"})" + "\n");
  auto r = run_endure({"escalation", "eval", bad});
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains(bad) && Catch::Contains("line 2"));

  auto missing = run_endure({"escalation", "eval", dir.file("nothing.jsonl")});
  CHECK(missing.code == 1);
  CHECK_THAT(missing.err, Catch::Contains("nothing.jsonl"));

  auto past = write(dir, "ok.jsonl", line(1, 0.9, true, true) + line(2, 0.1, false, false));
  auto r2 = run_endure({"escalation", "eval", past, "--past", "1.5"});
  CHECK(r2.code == 1);
  CHECK_THAT(r2.err, Catch::Contains("past"));

  auto negative = run_endure({"escalation", "eval", past, "--resamples", "-1"});
  CHECK(negative.code != 0);
  CHECK_THAT(negative.err, Catch::Contains("resamples"));
}
