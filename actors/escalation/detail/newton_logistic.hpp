// Weighted, ridge-penalised logistic regression by Newton's method, for any
// small number of inputs D (the matrix's weights: D = 4 with the
// intercept; Platt calibration: D = 2). One implementation behind
// fit_logistic and fit_platt. Header-only because it is a template; pure.
//
//   P(y = 1 | x) = sigmoid(offset + w . x)
//
// minimising  sum_i weight_i * logloss(y_i, P_i) + ridge/2 * |w|^2  from
// w = 0. The offset lets a caller shrink toward a prior other than zero
// (Platt toward "the model's confidence is right": offset = logit(c)).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <utility>

namespace endure::escalation::detail {

template <std::size_t D>
struct logistic_row {
  std::array<double, D> x{};
  double offset = 0;
  double weight = 1;
  bool y = false;
};

template <std::size_t D>
struct newton_result {
  std::array<double, D> w{};
  std::size_t iterations = 0;
  bool converged = false;
};

template <std::size_t D>
double linear(const std::array<double, D>& w, const logistic_row<D>& r) {
  double z = r.offset;
  for (std::size_t i = 0; i < D; ++i)
    z += w[i] * r.x[i];
  return z;
}

/// log(1 + exp(z)) without overflow.
inline double softplus(double z) {
  return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
}

inline double sigmoid(double z) { return 1 / (1 + std::exp(-z)); }

template <std::size_t D>
double objective(std::span<const logistic_row<D>> rows, const std::array<double, D>& w,
                 double ridge) {
  double sum = 0;
  for (auto& r : rows) {
    double z = linear(w, r);
    sum += r.weight * (softplus(z) - (r.y ? z : 0.0));
  }
  for (double wj : w)
    sum += ridge / 2 * wj * wj;
  return sum;
}

/// Solves a * x = b by Gaussian elimination with partial pivoting; a is the
/// penalised Hessian, symmetric positive definite when ridge > 0.
template <std::size_t D>
std::array<double, D> solve(std::array<std::array<double, D>, D> a, std::array<double, D> b) {
  for (std::size_t col = 0; col < D; ++col) {
    std::size_t pivot = col;
    for (std::size_t r = col + 1; r < D; ++r)
      if (std::abs(a[r][col]) > std::abs(a[pivot][col]))
        pivot = r;
    std::swap(a[col], a[pivot]);
    std::swap(b[col], b[pivot]);
    for (std::size_t r = col + 1; r < D; ++r) {
      double f = a[r][col] / a[col][col];
      for (std::size_t c = col; c < D; ++c)
        a[r][c] -= f * a[col][c];
      b[r] -= f * b[col];
    }
  }
  std::array<double, D> x{};
  for (std::size_t i = D; i-- > 0;) {
    double s = b[i];
    for (std::size_t c = i + 1; c < D; ++c)
      s -= a[i][c] * x[c];
    x[i] = s / a[i][i];
  }
  return x;
}

/// The Newton direction H^-1 * gradient at w; NaN when the inputs are too
/// large for doubles (the Hessian overflowed), never a zero step that would
/// read as convergence.
template <std::size_t D>
std::array<double, D> newton_step(std::span<const logistic_row<D>> rows,
                                  const std::array<double, D>& w, double ridge) {
  std::array<double, D> grad{};
  std::array<std::array<double, D>, D> hess{};
  for (auto& r : rows) {
    double p = sigmoid(linear(w, r));
    double y = r.y ? 1.0 : 0.0;
    for (std::size_t i = 0; i < D; ++i) {
      grad[i] += r.weight * (p - y) * r.x[i];
      for (std::size_t j = 0; j < D; ++j)
        hess[i][j] += r.weight * p * (1 - p) * r.x[i] * r.x[j];
    }
  }
  for (std::size_t i = 0; i < D; ++i) {
    grad[i] += ridge * w[i];
    hess[i][i] += ridge;
  }
  for (std::size_t i = 0; i < D; ++i)
    for (std::size_t j = 0; j < D; ++j)
      if (!std::isfinite(hess[i][j]) || !std::isfinite(grad[i])) {
        std::array<double, D> nan;
        nan.fill(std::nan(""));
        return nan;
      }
  return solve<D>(hess, grad);
}

/// Newton steps from w = 0, each halved (at most 30 times) while it would
/// raise the objective; with ridge > 0 the objective is strictly convex.
template <std::size_t D>
newton_result<D> fit_newton(std::span<const logistic_row<D>> rows, double ridge,
                            std::size_t max_iterations, double tolerance) {
  newton_result<D> m;
  auto& w = m.w;
  double current = objective<D>(rows, w, ridge);
  for (; m.iterations < max_iterations && !m.converged; ++m.iterations) {
    auto step = newton_step<D>(rows, w, ridge);
    if (!std::all_of(step.begin(), step.end(), [](double x) { return std::isfinite(x); }))
      break;  // the Hessian overflowed: not converged
    auto next = w;
    double next_obj = current;
    for (int halvings = 0; halvings <= 30; ++halvings) {
      for (std::size_t i = 0; i < D; ++i)
        next[i] = w[i] - step[i];
      next_obj = objective<D>(rows, next, ridge);
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
    for (std::size_t i = 0; i < D; ++i)
      moved = std::max(moved, std::abs(next[i] - w[i]));
    w = next;
    current = next_obj;
    m.converged = moved < tolerance;
  }
  return m;
}

} // namespace endure::escalation::detail
