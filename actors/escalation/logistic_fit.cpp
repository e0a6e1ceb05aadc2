// The logistic regression of logistic_fit.hpp over the generic Newton
// solver in detail/newton_logistic.hpp.
#include "endure/actors/escalation/logistic_fit.hpp"

#include <vector>

#include "endure/actors/escalation/detail/newton_logistic.hpp"

namespace endure::escalation {

namespace {

using row = detail::logistic_row<4>;

row to_row(const features& f, bool error, double weight) {
  return row{{1.0, f.uncertainty, f.novelty, f.benefit}, 0.0, weight, error};
}

logistic_model fit_rows(const std::vector<row>& rows, const logistic_options& options) {
  auto r = detail::fit_newton<4>(rows, options.ridge, options.max_iterations, options.tolerance);
  logistic_model m;
  m.weights = r.w;
  m.iterations = r.iterations;
  m.converged = r.converged;
  return m;
}

} // namespace

double logistic_model::predict(const features& f) const {
  return detail::sigmoid(detail::linear<4>(weights, to_row(f, false, 1)));
}

logistic_model fit_logistic(std::span<const labelled_case> cases,
                            const logistic_options& options) {
  std::vector<row> rows;
  rows.reserve(cases.size());
  for (auto& c : cases)
    rows.push_back(to_row(c.features, c.error, c.weight));
  return fit_rows(rows, options);
}

logistic_model fit_logistic(std::span<const decision_record> records,
                            const logistic_options& options) {
  std::vector<row> rows;
  rows.reserve(records.size());
  for (auto& r : records)
    rows.push_back(to_row(r.features, r.error, 1));
  return fit_rows(rows, options);
}

} // namespace endure::escalation
