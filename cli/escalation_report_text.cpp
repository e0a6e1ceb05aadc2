// The escalation evaluator's report as a person reads it in a terminal
// (`endure escalation eval` without --json): one table row per score, the
// curve every 10%, calibration and the temporal split, each number with
// what it means. --json prints everything (the curve every 1%).
#include "endure/cli/escalation_report_text.hpp"

#include <cstdio>
#include <sstream>

namespace endure::cli {

namespace {

/// "0.854" or "-" for a number with no meaning here.
std::string num(const std::optional<double>& v) {
  if (!v)
    return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", *v);
  return text;
}

/// "0.854 [0.718, 0.967]"
std::string with_ci(const escalation::estimate& e) {
  auto text = num(e.value);
  if (e.ci)
    text += " [" + num(e.ci->low) + ", " + num(e.ci->high) + "]";
  return text;
}

std::string padded(std::string s, std::size_t width) {
  if (s.size() < width)
    s.append(width - s.size(), ' ');
  return s;
}

/// Padded columns leave spaces at line ends; a terminal shows none.
std::string without_trailing_spaces(const std::string& text) {
  std::string out;
  std::size_t line = 0;
  for (std::size_t end; (end = text.find('\n', line)) != std::string::npos; line = end + 1) {
    auto kept = end;
    while (kept > line && text[kept - 1] == ' ')
      --kept;
    out.append(text, line, kept - line);
    out += '\n';
  }
  return out;
}

void rankings(std::ostringstream& out, const escalation::evaluation_report& r) {
  out << "how well each ranks the wrong ones (AUROC: 0.5 is chance, 1 perfect), and the share\n"
         "of them caught when the top N% by it go to a person:\n\n";
  out << padded("", 13) << padded("AUROC [95% ci]", 24) << padded("AUPRC [95% ci]", 24);
  for (auto& c : r.rankings.front().caught)
    out << padded(std::to_string(static_cast<int>(c.escalation_rate * 100 + 0.5)) + "%", 7);
  out << "\n";
  for (auto& k : r.rankings) {
    out << padded(k.name, 13) << padded(with_ci(k.auroc), 24) << padded(with_ci(k.auprc), 24);
    for (auto& c : k.caught)
      out << padded(num(c.caught_rate), 7);
    out << "\n";
  }
}

void curve(std::ostringstream& out, const escalation::ranking_report& score) {
  if (score.curve.empty())
    return;
  out << "\nerrors caught by the score, by share escalated:\n  escalated ";
  auto step = score.curve.size() > 10 ? (score.curve.size() - 1) / 10 : 1;
  for (std::size_t i = 0; i < score.curve.size(); i += step)
    out << padded(std::to_string(static_cast<int>(score.curve[i].escalation_rate * 100 + 0.5)) +
                    "%", 6);
  out << "\n  caught    ";
  for (std::size_t i = 0; i < score.curve.size(); i += step)
    out << padded(num(score.curve[i].caught_rate), 6);
  out << "\n";
}

void temporal(std::ostringstream& out, const escalation::temporal_report& t) {
  auto& w = t.model.weights;
  out << "\nfit on the first " << t.past_records << " records by t, judged on the last "
      << t.future_records << " (from t " << t.split_t << ")"
      << (t.ties_at_split ? "; every record has one t, so the cut splits a moment" : "") << ":\n"
      << "  refit   AUROC " << num(t.refit_auroc) << "  AUPRC " << num(t.refit_auprc)
      << "   weights " << num(w[0]) << " + " << num(w[1]) << " U + " << num(w[2]) << " N + "
      << num(w[3]) << " B" << (t.model.converged ? "" : " (did not converge)") << "\n"
      << "  logged  AUROC " << num(t.logged_auroc) << "  AUPRC " << num(t.logged_auprc) << "\n";
}

} // namespace

std::string escalation_report_text(const escalation::evaluation_report& r) {
  std::ostringstream out;
  out << r.records << " decisions, " << r.errors << " silently wrong, " << r.escalated
      << " escalated\n\n";
  rankings(out, r);
  curve(out, r.rankings.front());
  out << "\ncalibration of the score: ECE " << num(r.ece) << ", Brier " << num(r.brier)
      << " (0 is perfect)\n";
  temporal(out, r.temporal);
  out << "\n(- : no meaning for this log; --json for every number)\n";
  return without_trailing_spaces(out.str());
}

} // namespace endure::cli
