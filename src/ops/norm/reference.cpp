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

// Batch norm in its normal form: axis 0 the channel, axes 1.. the values a
// channel spans; per-channel tensors have extent 1 there. Visits every
// element offset of channel c of tensor t.
template <typename Visit>
void channel_walk(const Tensor& t, const Tensor& x, int64_t c, Visit&& visit) {
  int64_t inner = 1;
  for (uint32_t k = 1; k < x.rank; ++k) inner *= x.shape[k];
  if (inner == 0) return;
  for_each_index(x.rank - 1, x.shape + 1, [&](const int64_t* index) {
    int64_t e = t.offset + c * t.strides[0];
    for (uint32_t k = 1; k < x.rank; ++k) e += index[k - 1] * t.strides[k];
    visit(e);
  });
}

// Element c of the per-channel tensor in slot `slot`.
template <typename T>
T channel_param(const BoundOp& op, uint32_t slot, int64_t c) {
  return load_as<T>(op[slot], op[slot].offset + c * op[slot].strides[0]);
}

// Channel c's mean and biased variance, and how many values it has: in
// training the batch's (the mean, then the squares around it), else the
// running statistics in slots mean_slot and mean_slot + 1.
template <typename T>
int64_t channel_moments(const BoundOp& op, bool training, uint32_t mean_slot, int64_t c, T* mean,
                        T* var) {
  const Tensor& x = op[0];
  int64_t n = 1;
  for (uint32_t k = 1; k < x.rank; ++k) n *= x.shape[k];
  if (!training) {
    *mean = channel_param<T>(op, mean_slot, c);
    *var = channel_param<T>(op, mean_slot + 1, c);
    return n;
  }
  T sum = 0;
  channel_walk(x, x, c, [&](int64_t e) { sum += load_as<T>(x, e); });
  *mean = sum / static_cast<T>(n);
  T squares = 0;
  channel_walk(x, x, c, [&](int64_t e) {
    const T d = load_as<T>(x, e) - *mean;
    squares += d * d;
  });
  *var = squares / static_cast<T>(n);
  return n;
}

// Slots: x, gamma?, beta?, running_mean?, running_var?, y.
template <typename T>
void batch_norm_loop(const BoundOp& op) {
  const auto& a = op.attrs_as<chorus_batch_norm_attrs>();
  const Tensor& x = op[0];
  const Tensor& y = op[5];
  const auto param = [&](uint32_t slot, int64_t c) { return channel_param<T>(op, slot, c); };
  std::vector<T> out;
  for (int64_t c = 0; c < x.shape[0]; ++c) {
    T mean = 0, var = 0;
    const int64_t n = channel_moments<T>(op, a.training, 3, c, &mean, &var);
    if (a.training) {
      if (op.has(3)) {
        const T m = static_cast<T>(a.momentum);
        const T unbiased = var * static_cast<T>(n) / static_cast<T>(n - 1);
        const T rm = (1 - m) * param(3, c) + m * mean;
        const T rv = (1 - m) * param(4, c) + m * unbiased;
        store_rounded(op[3], op[3].offset + c * op[3].strides[0], rm);
        store_rounded(op[4], op[4].offset + c * op[4].strides[0], rv);
      }
    }
    const T spread = std::sqrt(var + static_cast<T>(a.eps));
    out.clear();
    channel_walk(x, x, c, [&](int64_t e) {
      T v = (load_as<T>(x, e) - mean) / spread;
      if (op.has(1)) v *= param(1, c);
      if (op.has(2)) v += param(2, c);
      out.push_back(v);  // y may be x itself: written after the channel is read
    });
    size_t i = 0;
    channel_walk(y, x, c, [&](int64_t e) { store_rounded(y, e, out[i++]); });
  }
}

// Slots: x, gamma?, running_mean?, running_var?, dy, dx?, dgamma?, dbeta?.
// With g = dy gamma, d = x - mean, r = 1/sqrt(var + eps), per channel:
//   training: dx = r (g - sum(g)/n - d r^2 sum(g d)/n); inference: dx = g r;
//   dgamma = sum(dy d) r; dbeta = sum(dy) (0 for an empty batch).
template <typename T>
void batch_norm_backward_loop(const BoundOp& op) {
  const auto& a = op.attrs_as<chorus_batch_norm_attrs>();
  const Tensor& x = op[0];
  const Tensor& dy = op[4];
  const auto param = [&](uint32_t slot, int64_t c) { return channel_param<T>(op, slot, c); };
  std::vector<T> out;
  for (int64_t c = 0; c < x.shape[0]; ++c) {
    T mean = 0, var = 0;
    const int64_t n = channel_moments<T>(op, a.training, 2, c, &mean, &var);
    const T r = 1 / std::sqrt(var + static_cast<T>(a.eps));
    const T gamma = op.has(1) ? param(1, c) : T(1);
    std::vector<int64_t> xe, de;
    channel_walk(x, x, c, [&](int64_t e) { xe.push_back(e); });
    channel_walk(dy, x, c, [&](int64_t e) { de.push_back(e); });
    T sum_dy = 0, sum_dy_d = 0;
    for (size_t i = 0; i < xe.size(); ++i) {
      const T g = load_as<T>(dy, de[i]);
      sum_dy += g;
      sum_dy_d += g * (load_as<T>(x, xe[i]) - mean);
    }
    if (op.has(6))
      store_rounded(op[6], op[6].offset + c * op[6].strides[0], n == 0 ? T(0) : sum_dy_d * r);
    if (op.has(7)) store_rounded(op[7], op[7].offset + c * op[7].strides[0], sum_dy);
    if (!op.has(5)) continue;
    out.clear();
    const T c1 = n == 0 ? T(0) : sum_dy / static_cast<T>(n);
    const T c2 = n == 0 ? T(0) : r * r * sum_dy_d / static_cast<T>(n);
    for (size_t i = 0; i < xe.size(); ++i) {
      const T g = load_as<T>(dy, de[i]);
      const T d = load_as<T>(x, xe[i]) - mean;
      out.push_back(a.training ? gamma * r * (g - c1 - d * c2) : gamma * r * g);
    }
    size_t i = 0;
    channel_walk(op[5], x, c, [&](int64_t e) { store_rounded(op[5], e, out[i++]); });
  }
}

template <bool kBackward>
chorus_status run_batch_norm(const BoundOp& op) {
  const bool f64 = op[0].dtype == CHORUS_DTYPE_F64;
  if (kBackward) {
    if (f64)
      batch_norm_backward_loop<long double>(op);
    else
      batch_norm_backward_loop<double>(op);
  } else {
    if (f64)
      batch_norm_loop<long double>(op);
    else
      batch_norm_loop<double>(op);
  }
  return CHORUS_OK;
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
  chorus::reference::register_op(CHORUS_OP_BATCH_NORM, run_batch_norm<false>);
  chorus::reference::register_op(CHORUS_OP_BATCH_NORM_BACKWARD, run_batch_norm<true>);
}

}  // namespace chorus::ops::norm
