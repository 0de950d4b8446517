// unary_grad_math.hpp — host math for the REFERENCE and SCALE columns of
// unary_grad_table.h, shared by the reference (the oracle's derivatives) and
// the conformance cases (the bounds' magnitudes). Templates on T (double, or
// long double for f64 outputs), written in the forms that neither overflow
// nor cancel, so the oracle's derivative is accurate to T's precision
// wherever it is representable.
#pragma once

#include <cmath>
#include <numbers>

namespace chorus::ops::elementwise::grad_math {

// The logistic function and its derivative from e = e^-|x|: sigma(x) =
// 1/(1+e) (x >= 0) or e/(1+e); sigma'(x) = e/(1+e)^2.
template <typename T>
T gm_sigmoid(T x) {
  const T e = std::exp(-std::fabs(x));
  return (x >= 0 ? T(1) : e) / (1 + e);
}
template <typename T>
T gm_dsigmoid(T x) {
  const T e = std::exp(-std::fabs(x));
  return e / ((1 + e) * (1 + e));
}

// gelu_erf(x) = x Phi(x): Phi(x) = erfc(-x/sqrt2)/2 (no cancellation for
// x < 0) and phi(x) = e^(-x^2/2)/sqrt(2 pi).
template <typename T>
T gm_gelu_erf_cdf(T x) {
  return std::erfc(-x / std::numbers::sqrt2_v<T>) / 2;
}
template <typename T>
T gm_gelu_erf_pdf(T x) {
  return std::exp(-x * x / 2) / std::sqrt(2 * std::numbers::pi_v<T>);
}

// gelu_tanh(x) = x sigma(w), w = 2 sqrt(2/pi) (x + 0.044715 x^3): the
// gradient sigma(w) + x w' sigma'(w), w' = 2 sqrt(2/pi) (1 + 0.134145 x^2),
// with x clamped to +-1e4 as the kernels do (beyond it the gradient is 0 or
// 1 to every precision; unclamped, x w' overflows and meets sigma'(w) = 0).
template <typename T>
T gm_gelu_tanh_clamped(T x) {
  return x < T(-1e4) ? T(-1e4) : x > T(1e4) ? T(1e4) : x;
}
template <typename T>
T gm_gelu_tanh_w(T c) {
  return 2 * std::sqrt(2 / std::numbers::pi_v<T>) * (c + T(0.044715L) * c * c * c);
}
template <typename T>
T gm_gelu_tanh_dw(T c) {
  return 2 * std::sqrt(2 / std::numbers::pi_v<T>) * (1 + T(0.134145L) * c * c);
}
template <typename T>
T gm_gelu_tanh_grad(T x) {
  const T c = gm_gelu_tanh_clamped(x);
  const T w = gm_gelu_tanh_w(c);
  return gm_sigmoid(w) + c * gm_gelu_tanh_dw(c) * gm_dsigmoid(w);
}
// The bound's magnitude for the kernel's form (cases_unary_grad.cpp derives
// it): 17 sigma(w) + 7 |w| sigma'(w) + (30 + 7 |w|) |x w' sigma'(w)|.
template <typename T>
T gm_gelu_tanh_scale(T x) {
  const T c = gm_gelu_tanh_clamped(x);
  const T w = gm_gelu_tanh_w(c);
  const T b = std::fabs(c * gm_gelu_tanh_dw(c) * gm_dsigmoid(w));
  return 17 * gm_sigmoid(w) + 7 * std::fabs(w) * gm_dsigmoid(w) + (30 + 7 * std::fabs(w)) * b;
}

}  // namespace chorus::ops::elementwise::grad_math
