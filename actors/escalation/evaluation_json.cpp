// to_json(evaluation_report): the report as JSON for `endure escalation
// eval` and for people. nlohmann stays in this file.
#include "endure/actors/escalation/evaluation.hpp"

#include <nlohmann/json.hpp>

namespace endure::escalation {

namespace {

using json = nlohmann::json;

json or_null(const std::optional<double>& v) {
  return v ? json(*v) : json(nullptr);
}

json to_json_value(const estimate& e) {
  json ci = nullptr;
  if (e.ci)
    ci = {{"low", e.ci->low}, {"high", e.ci->high}, {"resamples_used", e.ci->resamples_used}};
  return {{"value", or_null(e.value)}, {"ci", ci}};
}

json to_json_value(const ranking_report& r) {
  json caught = json::array(), curve = json::array();
  for (auto& c : r.caught)
    caught.push_back({{"escalation_rate", c.escalation_rate}, {"caught_rate", or_null(c.caught_rate)}});
  for (auto& p : r.curve)
    curve.push_back({{"escalation_rate", p.escalation_rate}, {"caught_rate", p.caught_rate}});
  return {{"name", r.name},     {"auroc", to_json_value(r.auroc)}, {"auprc", to_json_value(r.auprc)},
          {"caught", caught}, {"curve", curve}};
}

json to_json_value(const temporal_report& t) {
  auto& w = t.model.weights;
  return {{"past_records", t.past_records},
          {"future_records", t.future_records},
          {"split_t", t.split_t},
          {"ties_at_split", t.ties_at_split},
          {"model",
           {{"intercept", w[0]},
            {"uncertainty", w[1]},
            {"novelty", w[2]},
            {"benefit", w[3]},
            {"iterations", t.model.iterations},
            {"converged", t.model.converged}}},
          {"refit_auroc", or_null(t.refit_auroc)},
          {"refit_auprc", or_null(t.refit_auprc)},
          {"logged_auroc", or_null(t.logged_auroc)},
          {"logged_auprc", or_null(t.logged_auprc)}};
}

} // namespace

std::string to_json(const evaluation_report& report, int indent) {
  json rankings = json::array();
  for (auto& r : report.rankings)
    rankings.push_back(to_json_value(r));
  json out = {{"records", report.records},
              {"errors", report.errors},
              {"escalated", report.escalated},
              {"rankings", rankings},
              {"ece", or_null(report.ece)},
              {"brier", or_null(report.brier)},
              {"temporal", to_json_value(report.temporal)}};
  return out.dump(indent);
}

} // namespace endure::escalation
