// Rendering of the Prometheus text format 0.0.4 (metrics_text.hpp).
#include "endure/net/console/metrics_text.hpp"

#include <charconv>
#include <cmath>

namespace endure::console {

namespace {

/// `text` with backslash and newline escaped, and `"` too in label values.
void append_escaped(std::string& out, std::string_view text, bool label_value) {
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && label_value)
      out += "\\\"";
    else
      out += c;
  }
}

void append_labels(std::string& out, const metric_labels& labels, const std::string* le) {
  if (labels.empty() && !le)
    return;
  out += '{';
  bool first = true;
  for (auto& [name, value] : labels) {
    if (!first)
      out += ',';
    first = false;
    out += name;
    out += "=\"";
    append_escaped(out, value, true);
    out += '"';
  }
  if (le) {
    out += first ? "le=\"" : ",le=\"";
    out += *le;
    out += '"';
  }
  out += '}';
}

void append_sample(std::string& out, std::string_view name, const metric_labels& labels,
                   double value, const std::string* le = nullptr) {
  out += name;
  append_labels(out, labels, le);
  out += ' ';
  out += metric_number(value);
  out += '\n';
}

void append_histogram(std::string& out, const std::string& name, const histogram_sample& h) {
  auto& v = h.value;
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < v.bounds.size(); ++i) {
    cumulative += i < v.counts.size() ? v.counts[i] : 0;
    auto le = metric_number(v.bounds[i]);
    append_sample(out, name + "_bucket", h.labels, static_cast<double>(cumulative), &le);
  }
  const std::string inf = "+Inf";
  auto count = static_cast<double>(v.count());
  append_sample(out, name + "_bucket", h.labels, count, &inf);
  append_sample(out, name + "_sum", h.labels, v.sum);
  append_sample(out, name + "_count", h.labels, count);
}

std::string_view type_name(metric_type t) {
  switch (t) {
    case metric_type::counter: return "counter";
    case metric_type::gauge: return "gauge";
    case metric_type::histogram: return "histogram";
  }
  return "untyped";
}

bool name_char(char c, bool first, bool colon) {
  bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
  return alpha || (!first && c >= '0' && c <= '9');
}

bool valid_name(std::string_view name, bool colon) {
  if (name.empty())
    return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, colon))
      return false;
  return true;
}

} // namespace

std::string metric_number(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc{} ? std::string(buf, end) : "NaN";
}

bool valid_metric_name(std::string_view name) noexcept { return valid_name(name, true); }
bool valid_label_name(std::string_view name) noexcept { return valid_name(name, false); }

std::string render_metrics(const std::vector<metric_family>& families) {
  std::string out;
  for (auto& f : families) {
    out += "# HELP " + f.name + ' ';
    append_escaped(out, f.help, false);
    out += "\n# TYPE " + f.name + ' ';
    out += type_name(f.type);
    out += '\n';
    for (auto& s : f.samples)
      append_sample(out, f.name, s.labels, s.value);
    for (auto& h : f.histograms)
      append_histogram(out, f.name, h);
  }
  return out;
}

} // namespace endure::console
