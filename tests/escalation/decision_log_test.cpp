// Reading a decision log: every kind of bad line is refused with the file,
// the line number and what is wrong; blank lines are skipped; a log with no
// record is an error, not an empty evaluation.
#include <catch2/catch.hpp>

#include <fstream>

#include "endure/actors/escalation/decision_log.hpp"
#include "support/temp_dir.hpp"

using namespace endure::escalation;
using endure::errc;

namespace {

const std::string good_line =
  R"({"t": 1, "task_type": "refund", "features": {"uncertainty": 0.9, "novelty": 0.2, )"
  R"("benefit": 0.7}, "score": 0.8, "decision": "escalate", "outcome": {"error": true}})";

/// The message parse_decision_log gives for `bad` as line 2 after a good line.
std::string second_line_error(const std::string& bad) {
  auto got = parse_decision_log(good_line + "\n" + bad + "\n", "log.jsonl");
  REQUIRE_FALSE(got);
  CHECK(got.error().code == errc::invalid_argument);
  return got.error().message;
}

std::string with(const std::string& from, const std::string& to) {
  auto s = good_line;
  auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

} // namespace

SCENARIO("a line that is not a JSON object names the file and the line", "[escalation][log]") {
  CHECK_THAT(second_line_error("{\"t\": 1,"),
             Catch::StartsWith("log.jsonl line 2: not valid JSON: ") &&
               Catch::Contains("unexpected end of input"));
  // Valid grammar, but no double holds it: said so, with where.
  CHECK_THAT(second_line_error(with("0.8", "1e999")),
             Catch::StartsWith("log.jsonl line 2: not valid JSON: ") &&
               Catch::Contains("number overflow") && Catch::Contains("1e999"));
  CHECK(second_line_error("[1, 2]") == "log.jsonl line 2: not a JSON object");
  CHECK(second_line_error("42") == "log.jsonl line 2: not a JSON object");
}

SCENARIO("a key given twice in one object is refused, not resolved by its last value",
         "[escalation][log]") {
  CHECK(second_line_error(with(R"("error": true)", R"("error": true, "error": false)")) ==
        "log.jsonl line 2: field 'error' appears twice");
  // The same name in different objects is fine.
  CHECK(parse_decision_log(with(R"("task_type": "refund")",
                                R"("task_type": "refund", "x": {"t": 2})"),
                           "log.jsonl"));
}

SCENARIO("a value shown in a message is cut short", "[escalation][log]") {
  auto message = second_line_error(with("\"refund\"", "[\"" + std::string(5000, 'x') + "\"]"));
  CHECK_THAT(message, Catch::StartsWith("log.jsonl line 2: field 'task_type' must be a string"));
  CHECK(message.size() < 200);
}

SCENARIO("a missing field is named with its path", "[escalation][log]") {
  CHECK(second_line_error(with("\"t\": 1, ", "")) == "log.jsonl line 2: missing field 't'");
  CHECK(second_line_error(with("\"score\": 0.8, ", "")) ==
        "log.jsonl line 2: missing field 'score'");
  CHECK(second_line_error(with("\"novelty\": 0.2, ", "")) ==
        "log.jsonl line 2: missing field 'features.novelty'");
  CHECK(second_line_error(with("{\"error\": true}", "{}")) ==
        "log.jsonl line 2: missing field 'outcome.error'");
  CHECK(second_line_error(with(", \"decision\": \"escalate\"", "")) ==
        "log.jsonl line 2: missing field 'decision'");
}

SCENARIO("a field of the wrong type is refused, not read as zero", "[escalation][log]") {
  CHECK(second_line_error(with("\"score\": 0.8", "\"score\": \"0.8\"")) ==
        "log.jsonl line 2: field 'score' must be a finite number, not \"0.8\"");
  CHECK(second_line_error(with("\"t\": 1", "\"t\": null")) ==
        "log.jsonl line 2: field 't' must be a finite number, not null");
  CHECK(second_line_error(with("\"task_type\": \"refund\"", "\"task_type\": 3")) ==
        "log.jsonl line 2: field 'task_type' must be a string, not 3");
  CHECK(second_line_error(with("\"uncertainty\": 0.9", "\"uncertainty\": [0.9]")) ==
        "log.jsonl line 2: field 'features.uncertainty' must be a finite number, not [0.9]");
  CHECK(second_line_error(with("\"outcome\": {\"error\": true}", "\"outcome\": true")) ==
        "log.jsonl line 2: field 'outcome' must be an object, not true");
  CHECK(second_line_error(with("\"decision\": \"escalate\"", "\"decision\": \"ask\"")) ==
        "log.jsonl line 2: field 'decision' must be \"proceed\" or \"escalate\", not \"ask\"");
}

SCENARIO("an outcome that is not a bool is refused", "[escalation][log]") {
  CHECK(second_line_error(with("{\"error\": true}", "{\"error\": 1}")) ==
        "log.jsonl line 2: field 'outcome.error' must be true or false, not 1");
  CHECK(second_line_error(with("{\"error\": true}", "{\"error\": \"true\"}")) ==
        "log.jsonl line 2: field 'outcome.error' must be true or false, not \"true\"");
}

SCENARIO("a log without records is an error", "[escalation][log]") {
  for (std::string text : {"", "\n", "  \n\t\n\r\n"}) {
    auto got = parse_decision_log(text, "empty.jsonl");
    REQUIRE_FALSE(got);
    CHECK(got.error().code == errc::invalid_argument);
    CHECK(got.error().message == "empty.jsonl: no decision records (the log is empty)");
  }
}

SCENARIO("a log file that does not exist is an io_error naming it", "[escalation][log]") {
  endure::test::temp_dir dir;
  auto got = read_decision_log(dir.file("missing.jsonl"));
  REQUIRE_FALSE(got);
  CHECK(got.error().code == errc::io_error);
  CHECK(got.error().message == dir.file("missing.jsonl") + ": cannot open the decision log");
}

SCENARIO("a directory given as the log is an io_error saying so", "[escalation][log]") {
  endure::test::temp_dir dir;
  auto got = read_decision_log(dir.path());
  REQUIRE_FALSE(got);
  CHECK(got.error().code == errc::io_error);
  CHECK_THAT(got.error().message, Catch::Contains("not a file"));
}

SCENARIO("an empty log file is an error naming it", "[escalation][log]") {
  endure::test::temp_dir dir;
  std::ofstream{dir.file("empty.jsonl")};
  auto got = read_decision_log(dir.file("empty.jsonl"));
  REQUIRE_FALSE(got);
  CHECK(got.error().message == dir.file("empty.jsonl") + ": no decision records (the log is empty)");
}

SCENARIO("a good log reads every field, skips blank lines and counts lines across them",
         "[escalation][log]") {
  endure::test::temp_dir dir;
  std::ofstream{dir.file("log.jsonl")}
    << good_line << "\n\n   \n"
    << R"({"t": 2.5, "task_type": "email", "features": {"uncertainty": 0, "novelty": 1, )"
       R"("benefit": 0.25}, "score": 0.1, "decision": "proceed", "outcome": {"error": false}, )"
       R"("extra": "ignored"})"
    << "\n{\"t\": 3}\n";
  auto got = read_decision_log(dir.file("log.jsonl"));
  REQUIRE_FALSE(got); // the last line lacks fields: and it is line 5, blank lines counted
  CHECK(got.error().message == dir.file("log.jsonl") + " line 5: missing field 'task_type'");

  auto text = good_line + "\n\n" +
              R"({"t": 2.5, "task_type": "email", "features": {"uncertainty": 0, "novelty": 1, )"
              R"("benefit": 0.25}, "score": 0.1, "decision": "proceed", "outcome": {"error": false}})";
  auto ok = parse_decision_log(text, "log.jsonl"); // no final newline either
  REQUIRE(ok);
  REQUIRE(ok->size() == 2);
  auto& a = (*ok)[0];
  CHECK(a.t == 1);
  CHECK(a.task_type == "refund");
  CHECK(a.features.uncertainty == 0.9);
  CHECK(a.features.novelty == 0.2);
  CHECK(a.features.benefit == 0.7);
  CHECK(a.score == 0.8);
  CHECK(a.decision == decision::escalate);
  CHECK(a.error);
  auto& b = (*ok)[1];
  CHECK(b.t == 2.5);
  CHECK(b.task_type == "email");
  CHECK(b.features.novelty == 1);
  CHECK(b.features.benefit == 0.25);
  CHECK(b.decision == decision::proceed);
  CHECK_FALSE(b.error);
}
