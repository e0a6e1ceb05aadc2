// The Prometheus text exposition format, version 0.0.4, as a pure function:
// metric families in, the text a scraper reads out. Knows no runtime (the
// families endure exposes are listed in runtime_metric_families.hpp).
//
// For each family: `# HELP name text` (backslash and newline escaped),
// `# TYPE name counter|gauge|histogram`, then its samples, one a line:
// `name{label="value",...} number` (label values escape backslash, double
// quote and newline). A histogram's samples are name_bucket{...,le="B"}
// with cumulative counts, ending with le="+Inf" (= the count), then
// name_sum and name_count. Numbers are the shortest text that reads back
// as the same double; +Inf, -Inf and NaN are spelled that way. Any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "endure/persistence/metrics/histogram.hpp"

namespace endure::console {

/// The Content-Type of the text.
inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

enum class metric_type { counter, gauge, histogram };

/// Label name and value; the value may hold any bytes (escaped on output).
using metric_labels = std::vector<std::pair<std::string, std::string>>;

struct metric_sample {
  metric_labels labels;
  double value = 0;
};

struct histogram_sample {
  metric_labels labels;
  metrics::histogram_snapshot value;
};

struct metric_family {
  /// [a-zA-Z_:][a-zA-Z0-9_:]* (valid_metric_name); label names
  /// [a-zA-Z_][a-zA-Z0-9_]* and not "le" on a histogram.
  std::string name;
  std::string help;
  metric_type type = metric_type::counter;
  /// counter, gauge: the samples.
  std::vector<metric_sample> samples;
  /// histogram: the samples.
  std::vector<histogram_sample> histograms;
};

/// The exposition text of `families`, in their order. A family with no
/// samples still gets its HELP and TYPE lines.
std::string render_metrics(const std::vector<metric_family>& families);

/// True if `name` is a valid metric name (label names: valid_label_name).
bool valid_metric_name(std::string_view name) noexcept;
bool valid_label_name(std::string_view name) noexcept;

/// A number as the format spells it ("1", "0.25", "1e-04", "+Inf", "NaN").
std::string metric_number(double v);

} // namespace endure::console
