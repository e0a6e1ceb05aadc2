// The Prometheus text format 0.0.4 as metrics_text renders it, and the
// catalogue of endure's metrics (runtime_metric_families): what a scraper
// relies on, checked on the text itself.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "endure/net/console/metrics_text.hpp"
#include "endure/net/console/runtime_metric_families.hpp"

using namespace endure;
using namespace endure::console;

namespace {

metrics::histogram_snapshot snapshot(std::vector<double> bounds, std::vector<std::uint64_t> counts,
                                     double sum) {
  return {std::move(bounds), std::move(counts), sum};
}

} // namespace

SCENARIO("label values and help text are escaped", "[console][metrics]") {
  metric_family f{"endure_x_total", "a \\ help\nwith \"quotes\"", metric_type::counter, {}, {}};
  f.samples.push_back({{{"a", "back\\slash"}, {"b", "quo\"te"}, {"c", "new\nline"}}, 3});
  CHECK(render_metrics({f}) ==
        "# HELP endure_x_total a \\\\ help\\nwith \"quotes\"\n"
        "# TYPE endure_x_total counter\n"
        "endure_x_total{a=\"back\\\\slash\",b=\"quo\\\"te\",c=\"new\\nline\"} 3\n");
}

SCENARIO("a histogram has cumulative buckets, +Inf equal to its count, a sum and a count",
         "[console][metrics]") {
  metric_family f{"endure_h_seconds", "h", metric_type::histogram, {}, {}};
  f.histograms.push_back({{{"k", "v"}}, snapshot({0.005, 0.5, 2}, {1, 0, 3, 2}, 7.25)});
  CHECK(render_metrics({f}) ==
        "# HELP endure_h_seconds h\n"
        "# TYPE endure_h_seconds histogram\n"
        "endure_h_seconds_bucket{k=\"v\",le=\"0.005\"} 1\n"
        "endure_h_seconds_bucket{k=\"v\",le=\"0.5\"} 1\n"
        "endure_h_seconds_bucket{k=\"v\",le=\"2\"} 4\n"
        "endure_h_seconds_bucket{k=\"v\",le=\"+Inf\"} 6\n"
        "endure_h_seconds_sum{k=\"v\"} 7.25\n"
        "endure_h_seconds_count{k=\"v\"} 6\n");
  WHEN("it has no labels and no observations") {
    metric_family empty{"endure_e", "e", metric_type::histogram, {}, {}};
    empty.histograms.push_back({{}, snapshot({1}, {0, 0}, 0)});
    CHECK(render_metrics({empty}) ==
          "# HELP endure_e e\n# TYPE endure_e histogram\n"
          "endure_e_bucket{le=\"1\"} 0\nendure_e_bucket{le=\"+Inf\"} 0\n"
          "endure_e_sum 0\nendure_e_count 0\n");
  }
}

SCENARIO("numbers read back as the same value", "[console][metrics]") {
  CHECK(metric_number(0) == "0");
  CHECK(metric_number(42) == "42");
  CHECK(metric_number(0.25) == "0.25");
  CHECK(metric_number(18446744073709551616.0) == "18446744073709551616");  // 2^64, exact
  CHECK(std::stod(metric_number(0.0001)) == 0.0001);
  CHECK(metric_number(INFINITY) == "+Inf");
  CHECK(metric_number(-INFINITY) == "-Inf");
  CHECK(metric_number(NAN) == "NaN");
}

SCENARIO("a family without samples still says what it is", "[console][metrics]") {
  metric_family g{"endure_g", "", metric_type::gauge, {}, {}};
  CHECK(render_metrics({g}) == "# HELP endure_g \n# TYPE endure_g gauge\n");
}

SCENARIO("names are checked against the format's grammar", "[console][metrics]") {
  CHECK(valid_metric_name("endure_steps_total"));
  CHECK(valid_metric_name("a:b_c9"));
  CHECK_FALSE(valid_metric_name(""));
  CHECK_FALSE(valid_metric_name("9lives"));
  CHECK_FALSE(valid_metric_name("a-b"));
  CHECK_FALSE(valid_metric_name("a b"));
  CHECK(valid_label_name("class"));
  CHECK_FALSE(valid_label_name("a:b"));
  CHECK_FALSE(valid_label_name(""));
}

SCENARIO("endure's catalogue: valid unique names with units, every label value present",
         "[console][metrics]") {
  runtime_metrics m;
  m.journal = journal_metrics{};
  m.pending_requests = 0;
  auto families = runtime_metric_families(m);
  std::set<std::string> names;
  for (auto& f : families) {
    INFO(f.name);
    CHECK(valid_metric_name(f.name));
    CHECK(f.name.rfind("endure_", 0) == 0);
    CHECK(names.insert(f.name).second);
    CHECK_FALSE(f.help.empty());
    bool total = f.name.size() > 6 && f.name.substr(f.name.size() - 6) == "_total";
    CHECK(total == (f.type == metric_type::counter));  // counters and only they end in _total
    for (auto& s : f.samples)
      for (auto& [label, value] : s.labels)
        CHECK(valid_label_name(label));
  }
  auto find = [&](const std::string& name) -> const metric_family& {
    for (auto& f : families)
      if (f.name == name)
        return f;
    FAIL("no family " << name);
    throw;
  };
  CHECK(find("endure_runs").samples.size() == 6);
  CHECK(find("endure_steps_failed_total").samples.size() == all_failure_classes.size());
  CHECK(find("endure_step_retries_total").samples.size() == all_failure_classes.size());
  CHECK(find("endure_decisions_total").samples.size() == 4);
  CHECK(find("endure_pending_requests").samples.size() == 1);
  WHEN("the gauges' sources could not be read") {
    runtime_metrics none;
    auto partial = runtime_metric_families(none);
    for (auto& f : partial) {
      INFO(f.name);
      if (f.name == "endure_runs" || f.name == "endure_pending_requests")
        CHECK(f.samples.empty());  // no sample rather than a made-up zero
      CHECK(f.name.rfind("endure_journal_", 0) != 0);
    }
  }
}
