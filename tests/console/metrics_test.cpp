// GET /metrics over real loopback HTTP on a real runtime: who may scrape,
// and that the counters move by exactly what the runs did. The text is
// parsed as a scraper would (HELP/TYPE lines, samples with escaped
// labels), not grepped.
#include <catch2/catch.hpp>

#include <map>
#include <sstream>

#include "console/console_fixture.hpp"

using namespace endure;
using namespace endure::test;
using namespace std::chrono_literals;

namespace {

/// A scrape parsed: each series ("name" plus its labels) and its value,
/// and each family's TYPE.
struct scrape {
  std::map<std::pair<std::string, std::map<std::string, std::string>>, double> series;
  std::map<std::string, std::string> types;

  double at(const std::string& name, std::map<std::string, std::string> labels = {}) const {
    auto it = series.find({name, labels});
    INFO("series " << name << " with " << labels.size() << " labels");
    REQUIRE(it != series.end());
    return it->second;
  }
};

/// Parses one `{a="x",b="y"}` starting at text[i] (the '{'); i ends past '}'.
std::map<std::string, std::string> parse_labels(const std::string& text, std::size_t& i) {
  std::map<std::string, std::string> labels;
  ++i;
  while (text.at(i) != '}') {
    auto eq = text.find('=', i);
    auto name = text.substr(i, eq - i);
    REQUIRE(text.at(eq + 1) == '"');
    std::string value;
    for (i = eq + 2; text.at(i) != '"'; ++i) {
      if (text[i] != '\\') {
        value += text[i];
        continue;
      }
      char e = text.at(++i);
      REQUIRE((e == '\\' || e == '"' || e == 'n'));
      value += e == 'n' ? '\n' : e;
    }
    labels[name] = value;
    ++i;
    if (text.at(i) == ',')
      ++i;
  }
  ++i;
  return labels;
}

scrape parse(const std::string& body) {
  scrape s;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    INFO("line: " << line);
    REQUIRE_FALSE(line.empty());
    if (line.rfind("# TYPE ", 0) == 0) {
      auto rest = line.substr(7);
      s.types[rest.substr(0, rest.find(' '))] = rest.substr(rest.find(' ') + 1);
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0)
      continue;
    std::size_t i = line.find_first_of("{ ");
    REQUIRE(i != std::string::npos);
    auto name = line.substr(0, i);
    auto labels = line[i] == '{' ? parse_labels(line, i) : std::map<std::string, std::string>{};
    REQUIRE(line.at(i) == ' ');
    auto value = line.substr(i + 1);
    double v = value == "+Inf" ? INFINITY : value == "NaN" ? NAN : std::stod(value);
    REQUIRE(s.series.emplace(std::pair{name, labels}, v).second);  // no series twice
  }
  return s;
}

/// Checks a histogram's shape in `s`: buckets cumulative in bound order,
/// +Inf equal to _count.
void check_histogram(const scrape& s, const std::string& name) {
  INFO("histogram " << name);
  REQUIRE(s.types.at(name) == "histogram");
  std::map<double, double> buckets;  // by bound, as a number
  for (auto& [key, value] : s.series)
    if (key.first == name + "_bucket")
      buckets[key.second.at("le") == "+Inf" ? INFINITY : std::stod(key.second.at("le"))] = value;
  REQUIRE(buckets.size() > 1);
  double previous = 0;
  for (auto& [bound, value] : buckets) {
    CHECK(value >= previous);
    previous = value;
  }
  CHECK(buckets.rbegin()->first == INFINITY);
  CHECK(buckets.rbegin()->second == s.at(name + "_count"));
}

struct metrics_client {
  console_fixture& c;
  scrape get() {
    auto r = c.call("GET", "/metrics", c.vic);
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8");
    return parse(r.body);
  }
};

/// Seconds since `t0`.
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Seconds the attempts of run `id` ran, as its journal says.
double journaled_seconds(console_fixture& c, const std::string& id) {
  std::int64_t us = 0;
  for (auto& e : c.rt().events<step_completed_event>(id))
    us += e.duration_us;
  for (auto& e : c.rt().events<step_failed_event>(id))
    us += e.duration_us;
  return static_cast<double>(us) / 1e6;
}

double diff(const scrape& a, const scrape& b, const std::string& name,
            std::map<std::string, std::string> labels = {}) {
  return b.at(name, labels) - a.at(name, labels);
}

} // namespace

SCENARIO("GET /metrics needs a token like the API", "[console][metrics]") {
  console_fixture c;
  WHEN("no token, a wrong one or another scheme is sent") {
    for (auto token : {std::string{}, std::string{"nope"}}) {
      auto r = c.call("GET", "/metrics", token);
      CHECK(r.status == 401);
      CHECK(r.headers["www-authenticate"] == "Bearer");
      CHECK(body_of(r)["error"] == "unauthorized");
    }
  }
  WHEN("a viewer asks with another method") {
    CHECK(c.call("POST", "/metrics", c.vic).status == 405);
  }
  WHEN("every role reads it") {
    for (auto* token : {&c.vic, &c.ann, &c.ada})
      CHECK(c.call("GET", "/metrics", *token).status == 200);
  }
  WHEN("the runtime is detached") {
    c.api().detach();
    CHECK(c.call("GET", "/metrics", c.vic).status == 503);
    CHECK(c.call("GET", "/metrics").status == 401);  // the door first
    c.api().attach(c.rt().rt());
  }
}

SCENARIO("the metrics move by exactly what the runs did", "[console][metrics]") {
  console_fixture c;
  metrics_client m{c};
  auto s0 = m.get();
  for (auto* name : {"endure_step_duration_seconds", "endure_time_to_decision_seconds",
                     "endure_journal_commit_duration_seconds",
                     "endure_journal_batches_per_commit"})
    check_histogram(s0, name);
  CHECK(s0.types.at("endure_steps_completed_total") == "counter");
  CHECK(s0.types.at("endure_runs") == "gauge");

  auto t1 = std::chrono::steady_clock::now();
  REQUIRE(c.rt().rt().start("two_steps", "two", 1));
  REQUIRE(c.rt().ended("two", 10s).status == run_status::completed);
  auto s1 = m.get();
  CHECK(diff(s0, s1, "endure_step_duration_seconds_sum")
        == Approx(journaled_seconds(c, "two")).margin(1e-9));
  CHECK(diff(s0, s1, "endure_step_duration_seconds_sum") <= seconds_since(t1));
  CHECK(diff(s0, s1, "endure_steps_completed_total") == 2);
  CHECK(diff(s0, s1, "endure_step_duration_seconds_count") == 2);
  CHECK(diff(s0, s1, "endure_runs", {{"status", "completed"}}) == 1);
  CHECK(s1.at("endure_runs", {{"status", "running"}}) == 0);

  REQUIRE(c.rt().rt().start("fails", "doomed", 1));
  REQUIRE(c.rt().ended("doomed", 10s).status == run_status::failed);
  auto s2 = m.get();
  CHECK(diff(s1, s2, "endure_steps_completed_total") == 0);
  CHECK(diff(s1, s2, "endure_steps_failed_total", {{"class", "fatal"}}) == 1);
  CHECK(diff(s1, s2, "endure_steps_failed_total", {{"class", "retryable"}}) == 0);
  CHECK(diff(s1, s2, "endure_step_retries_total", {{"class", "fatal"}}) == 0);
  CHECK(diff(s1, s2, "endure_step_duration_seconds_count") == 1);
  CHECK(diff(s1, s2, "endure_runs", {{"status", "failed"}}) == 1);

  REQUIRE(c.rt().rt().start("flaky", "flaky", 7));
  REQUIRE(c.rt().ended("flaky", 10s).status == run_status::completed);
  auto s3 = m.get();
  CHECK(diff(s2, s3, "endure_steps_completed_total") == 1);
  CHECK(diff(s2, s3, "endure_step_retries_total", {{"class", "retryable"}}) == 1);
  CHECK(diff(s2, s3, "endure_step_retries_total", {{"class", "rate_limited"}}) == 1);
  CHECK(diff(s2, s3, "endure_steps_failed_total", {{"class", "retryable"}}) == 0);
  CHECK(diff(s2, s3, "endure_step_duration_seconds_count") == 3);
  CHECK(diff(s2, s3, "endure_step_duration_seconds_sum")
        == Approx(journaled_seconds(c, "flaky")).margin(1e-9));
  CHECK(diff(s2, s3, "endure_runs", {{"status", "completed"}}) == 1);

  auto t4 = std::chrono::steady_clock::now();
  auto id = c.gated_run("gated");
  auto s4 = m.get();
  CHECK(diff(s3, s4, "endure_pending_requests") == 1);
  CHECK(diff(s3, s4, "endure_runs", {{"status", "waiting"}}) == 1);

  auto r = c.call("POST", "/api/v1/requests/" + url_id(id) + "/decision", c.ann,
                  R"({"decision": "approve"})");
  REQUIRE(r.status == 200);
  REQUIRE(c.rt().ended("gated", 10s).status == run_status::completed);
  auto s5 = m.get();
  CHECK(diff(s4, s5, "endure_pending_requests") == -1);
  CHECK(diff(s4, s5, "endure_runs", {{"status", "waiting"}}) == -1);
  CHECK(diff(s4, s5, "endure_decisions_total", {{"decision", "approve"}}) == 1);
  for (auto* other : {"edit", "reject", "respond"})
    CHECK(s5.at("endure_decisions_total", {{"decision", other}}) == 0);
  CHECK(diff(s0, s5, "endure_time_to_decision_seconds_count") == 1);
  CHECK(s5.at("endure_time_to_decision_seconds_sum") >= 0);
  // Times are whole milliseconds of the wall clock: allow one either side.
  CHECK(s5.at("endure_time_to_decision_seconds_sum") <= seconds_since(t4) + 0.002);

  THEN("the journal measured its commits, one histogram entry per transaction") {
    auto commits = s5.at("endure_journal_commit_duration_seconds_count");
    CHECK(commits > s0.at("endure_journal_commit_duration_seconds_count"));
    CHECK(s5.at("endure_journal_commit_duration_seconds_sum") > 0);
    CHECK(s5.at("endure_journal_batches_per_commit_count") == commits);
    CHECK(s5.at("endure_journal_batches_per_commit_sum") >= commits - 1);
    CHECK(s5.at("endure_runs", {{"status", "completed"}}) == 3);
    CHECK(s5.at("endure_runs", {{"status", "failed"}}) == 1);
    for (auto* name : {"endure_step_duration_seconds", "endure_time_to_decision_seconds",
                       "endure_journal_commit_duration_seconds",
                       "endure_journal_batches_per_commit"})
      check_histogram(s5, name);
  }
}
