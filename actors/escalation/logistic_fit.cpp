// Newton's method for the penalised logistic regression of logistic_fit.hpp.
#include "endure/actors/escalation/logistic_fit.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace endure::escalation {

namespace {

using vec4 = std::array<double, 4>;
using mat4 = std::array<vec4, 4>;

vec4 inputs(const features& f) {
  return {1.0, f.uncertainty, f.novelty, f.benefit};
}

double linear(const vec4& w, const vec4& x) {
  return w[0] * x[0] + w[1] * x[1] + w[2] * x[2] + w[3] * x[3];
}

/// log(1 + exp(z)) without overflow.
double softplus(double z) {
  return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
}

double objective(std::span<const decision_record> records, const vec4& w, double ridge) {
  double sum = 0;
  for (auto& r : records) {
    double z = linear(w, inputs(r.features));
    sum += softplus(z) - (r.error ? z : 0.0);
  }
  for (double wj : w)
    sum += ridge / 2 * wj * wj;
  return sum;
}

/// Solves a * x = b by Gaussian elimination with partial pivoting. a is
/// the penalised Hessian: symmetric positive definite when ridge > 0.
vec4 solve(mat4 a, vec4 b) {
  for (std::size_t col = 0; col < 4; ++col) {
    std::size_t pivot = col;
    for (std::size_t r = col + 1; r < 4; ++r)
      if (std::abs(a[r][col]) > std::abs(a[pivot][col]))
        pivot = r;
    std::swap(a[col], a[pivot]);
    std::swap(b[col], b[pivot]);
    for (std::size_t r = col + 1; r < 4; ++r) {
      double f = a[r][col] / a[col][col];
      for (std::size_t c = col; c < 4; ++c)
        a[r][c] -= f * a[col][c];
      b[r] -= f * b[col];
    }
  }
  vec4 x{};
  for (std::size_t i = 4; i-- > 0;) {
    double s = b[i];
    for (std::size_t c = i + 1; c < 4; ++c)
      s -= a[i][c] * x[c];
    x[i] = s / a[i][i];
  }
  return x;
}

/// The Newton direction: H^-1 * gradient of the objective at w.
vec4 newton_step(std::span<const decision_record> records, const vec4& w, double ridge) {
  vec4 grad{};
  mat4 hess{};
  for (auto& r : records) {
    auto x = inputs(r.features);
    double p = 1 / (1 + std::exp(-linear(w, x)));
    double y = r.error ? 1.0 : 0.0;
    for (std::size_t i = 0; i < 4; ++i) {
      grad[i] += (p - y) * x[i];
      for (std::size_t j = 0; j < 4; ++j)
        hess[i][j] += p * (1 - p) * x[i] * x[j];
    }
  }
  for (std::size_t i = 0; i < 4; ++i) {
    grad[i] += ridge * w[i];
    hess[i][i] += ridge;
  }
  // Features too large for doubles overflow the Hessian: no direction
  // (NaN), not a zero step that would read as convergence.
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 4; ++j)
      if (!std::isfinite(hess[i][j]) || !std::isfinite(grad[i]))
        return vec4{std::nan(""), std::nan(""), std::nan(""), std::nan("")};
  return solve(hess, grad);
}

} // namespace

double logistic_model::predict(const features& f) const {
  return 1 / (1 + std::exp(-linear(weights, inputs(f))));
}

logistic_model fit_logistic(std::span<const decision_record> records,
                            const logistic_options& options) {
  logistic_model m;
  vec4& w = m.weights;
  double current = objective(records, w, options.ridge);
  for (; m.iterations < options.max_iterations && !m.converged; ++m.iterations) {
    auto step = newton_step(records, w, options.ridge);
    if (!std::all_of(step.begin(), step.end(), [](double x) { return std::isfinite(x); }))
      break;  // features too large for doubles (the Hessian overflowed): not converged
    vec4 next = w;
    double next_obj = current;
    for (int halvings = 0; halvings <= 30; ++halvings) {
      for (std::size_t i = 0; i < 4; ++i)
        next[i] = w[i] - step[i];
      next_obj = objective(records, next, options.ridge);
      if (next_obj <= current)  // false for NaN
        break;
      for (double& s : step)
        s /= 2;
    }
    if (!(next_obj <= current)) {
      // No step lowers the objective: at the minimum to rounding, unless
      // the objective itself is no longer a number.
      m.converged = std::isfinite(current) && std::isfinite(next_obj);
      break;
    }
    double moved = 0;
    for (std::size_t i = 0; i < 4; ++i)
      moved = std::max(moved, std::abs(next[i] - w[i]));
    w = next;
    current = next_obj;
    m.converged = moved < options.tolerance;
  }
  return m;
}

} // namespace endure::escalation
