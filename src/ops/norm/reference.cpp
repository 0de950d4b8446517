// reference.cpp — the oracle's layer norm and RMS norm over the last axis
// (the normal form): two passes (the mean, then squares around it), double
// (long double for f64), rounded once. Slots: x, gamma?, beta?, y (layer
// norm); x, gamma?, y (RMS norm); the gradients x, gamma?, dy, dx?, dgamma?
// and (layer norm) dbeta?.
#include <vector>

#include "reference_common.hpp"

namespace chorus::ops::norm {
namespace {

using namespace chorus::reference;

// Layer norm (subtract_mean) and RMS norm share the row walk and the
// scaling; they differ only in the centre and the spread.
template <typename T>
void norm_loop(const BoundOp& op, bool subtract_mean) {
  const uint32_t y_slot = op.count - 1;
  const Tensor& x = op[0];
  const Tensor& y = op[y_slot];
  const Tensor* gamma = op.has(1) ? &op[1] : nullptr;
  const Tensor* beta = subtract_mean && op.has(2) ? &op[2] : nullptr;
  const uint32_t last = x.rank - 1;
  const int64_t n = x.shape[last];
  const T eps = static_cast<T>(op.attrs_as<chorus_norm_attrs>().eps);
  std::vector<T> out(static_cast<size_t>(n));
  for_each_index(last, x.shape, [&](const int64_t* row) {
    const int64_t x0 = element_of(x, row);
    const auto x_at = [&](int64_t j) { return load_as<T>(x, x0 + j * x.strides[last]); };
    T centre = 0;
    if (subtract_mean) {
      for (int64_t j = 0; j < n; ++j) centre += x_at(j);
      centre /= static_cast<T>(n);
    }
    // Second pass around the mean: E[x²] - E[x]² would cancel catastrophically.
    T squares = 0;
    for (int64_t j = 0; j < n; ++j) squares += (x_at(j) - centre) * (x_at(j) - centre);
    const T spread = std::sqrt(squares / static_cast<T>(n) + eps);
    for (int64_t j = 0; j < n; ++j) {
      T v = (x_at(j) - centre) / spread;
      if (gamma != nullptr)
        v *= load_as<T>(*gamma, element_of(*gamma, row) + j * gamma->strides[last]);
      if (beta != nullptr) v += load_as<T>(*beta, element_of(*beta, row) + j * beta->strides[last]);
      out[static_cast<size_t>(j)] = v;  // y may be x itself: written after the row is read
    }
    for (int64_t j = 0; j < n; ++j)
      store_rounded(y, element_of(y, row) + j * y.strides[last], out[static_cast<size_t>(j)]);
  });
}

// The gradients (slots x, gamma?, dy, dx?, dgamma?, dbeta?), with the
// statistics recomputed as the forward computes them:
//   g = dy * gamma, d = x - mean (RMS norm: d = x), r = 1 / sqrt(var + eps),
//   dx = r * (g - sum(g)/n [layer norm only] - d * r^2 * sum(g * d)/n),
//   dgamma = sum over rows of dy * d * r, dbeta = sum over rows of dy.
// The row is finished before dx is stored (dx may be dy itself).
template <typename T>
void norm_backward_loop(const BoundOp& op, bool subtract_mean) {
  const Tensor& x = op[0];
  const Tensor* gamma = op.has(1) ? &op[1] : nullptr;
  const Tensor& dy = op[2];
  const Tensor* dx = op.has(3) ? &op[3] : nullptr;
  const Tensor* dgamma = op.has(4) ? &op[4] : nullptr;
  const Tensor* dbeta = subtract_mean && op.count > 5 && op.has(5) ? &op[5] : nullptr;
  const uint32_t last = x.rank - 1;
  const int64_t n = x.shape[last];
  const T eps = static_cast<T>(op.attrs_as<chorus_norm_attrs>().eps);
  std::vector<T> sum_g_z(static_cast<size_t>(n), T(0)), sum_dy(static_cast<size_t>(n), T(0));
  std::vector<T> out(static_cast<size_t>(n));
  int64_t rows = 1;
  for (uint32_t k = 0; k < last; ++k) rows *= x.shape[k];
  if (rows > 0 && n > 0)
    for_each_index(last, x.shape, [&](const int64_t* row) {
      const int64_t x0 = element_of(x, row), dy0 = element_of(dy, row);
      const auto x_at = [&](int64_t j) { return load_as<T>(x, x0 + j * x.strides[last]); };
      const auto dy_at = [&](int64_t j) { return load_as<T>(dy, dy0 + j * dy.strides[last]); };
      const auto g_at = [&](int64_t j) {
        T g = dy_at(j);
        if (gamma != nullptr)
          g *= load_as<T>(*gamma, element_of(*gamma, row) + j * gamma->strides[last]);
        return g;
      };
      T centre = 0;
      if (subtract_mean) {
        for (int64_t j = 0; j < n; ++j) centre += x_at(j);
        centre /= static_cast<T>(n);
      }
      T squares = 0, sum_g = 0, sum_g_d = 0;
      for (int64_t j = 0; j < n; ++j) {
        const T d = x_at(j) - centre;
        squares += d * d;
        sum_g += g_at(j);
        sum_g_d += g_at(j) * d;
      }
      const T r = 1 / std::sqrt(squares / static_cast<T>(n) + eps);
      const T c1 = subtract_mean ? sum_g / static_cast<T>(n) : T(0);
      const T c2 = r * r * sum_g_d / static_cast<T>(n);
      for (int64_t j = 0; j < n; ++j) {
        const T d = x_at(j) - centre;
        out[static_cast<size_t>(j)] = r * (g_at(j) - c1 - d * c2);
        sum_g_z[static_cast<size_t>(j)] += dy_at(j) * (d * r);
        sum_dy[static_cast<size_t>(j)] += dy_at(j);
      }
      if (dx != nullptr)
        for (int64_t j = 0; j < n; ++j)
          store_rounded(*dx, element_of(*dx, row) + j * dx->strides[last],
                        out[static_cast<size_t>(j)]);
    });
  const int64_t zero[CHORUS_MAX_RANK] = {};
  for (int64_t j = 0; j < n; ++j) {
    if (dgamma != nullptr)
      store_rounded(*dgamma, element_of(*dgamma, zero) + j * dgamma->strides[last],
                    sum_g_z[static_cast<size_t>(j)]);
    if (dbeta != nullptr)
      store_rounded(*dbeta, element_of(*dbeta, zero) + j * dbeta->strides[last],
                    sum_dy[static_cast<size_t>(j)]);
  }
}

template <bool kLayer>
chorus_status run_norm_backward(const BoundOp& op) {
  if (op[0].dtype == CHORUS_DTYPE_F64)
    norm_backward_loop<long double>(op, kLayer);
  else
    norm_backward_loop<double>(op, kLayer);
  return CHORUS_OK;
}

template <bool kLayer>
chorus_status run_norm(const BoundOp& op) {
  if (op[op.count - 1].dtype == CHORUS_DTYPE_F64)
    norm_loop<long double>(op, kLayer);
  else
    norm_loop<double>(op, kLayer);
  return CHORUS_OK;
}

}  // namespace

void register_reference() {
  chorus::reference::register_op(CHORUS_OP_LAYER_NORM, run_norm<true>);
  chorus::reference::register_op(CHORUS_OP_RMS_NORM, run_norm<false>);
  chorus::reference::register_op(CHORUS_OP_LAYER_NORM_BACKWARD, run_norm_backward<true>);
  chorus::reference::register_op(CHORUS_OP_RMS_NORM_BACKWARD, run_norm_backward<false>);
}

}  // namespace chorus::ops::norm
