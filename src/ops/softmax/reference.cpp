// reference.cpp — the oracle's softmax and log-softmax, and their gradient,
// along the last axis
// (the normal form): the row maximum subtracted first, sums in double (long
// double for f64), rounded once.
#include <vector>

#include "reference_common.hpp"

namespace chorus::ops::softmax {
namespace {

using namespace chorus::reference;

template <typename T>
void softmax_loop(bool log_softmax, const Tensor& x, const Tensor& y) {
  const uint32_t last = x.rank - 1;
  const int64_t n = x.shape[last];
  for_each_index(last, x.shape, [&](const int64_t* row) {
    const int64_t x0 = element_of(x, row);
    const int64_t y0 = element_of(y, row);
    const auto x_at = [&](int64_t j) { return load_as<T>(x, x0 + j * x.strides[last]); };
    // No special cases: an infinite max gives inf - inf = NaN in s, and so
    // does a NaN anywhere in the row, so such a row comes out all NaN.
    T m = -std::numeric_limits<T>::infinity();
    for (int64_t j = 0; j < n; ++j) m = maximum(m, x_at(j));
    T s = 0;
    for (int64_t j = 0; j < n; ++j) s += std::exp(x_at(j) - m);
    // Computed before writing: y may be x itself.
    std::vector<T> out(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) {
      const T shifted = x_at(j) - m;
      out[static_cast<size_t>(j)] = log_softmax ? shifted - std::log(s) : std::exp(shifted) / s;
    }
    for (int64_t j = 0; j < n; ++j)
      store_rounded(y, y0 + j * y.strides[last], out[static_cast<size_t>(j)]);
  });
}

chorus_status run_softmax(const BoundOp& op) {
  const bool log = op.attrs_as<chorus_softmax_attrs>().log != 0;
  const Tensor& x = op[0];
  const Tensor& y = op[1];
  if (y.dtype == CHORUS_DTYPE_F64)
    softmax_loop<long double>(log, x, y);
  else
    softmax_loop<double>(log, x, y);
  return CHORUS_OK;
}

// The gradient: s = sum of dy*y (softmax) or of dy (log-softmax) over the
// row, in T, then dx_j = y_j (dy_j - s) or dy_j - exp(y_j) s, rounded once.
template <typename T>
void backward_loop(bool log_softmax, const Tensor& y, const Tensor& dy, const Tensor& dx) {
  const uint32_t last = y.rank - 1;
  const int64_t n = y.shape[last];
  for_each_index(last, y.shape, [&](const int64_t* row) {
    const int64_t y0 = element_of(y, row), dy0 = element_of(dy, row), dx0 = element_of(dx, row);
    const auto y_at = [&](int64_t j) { return load_as<T>(y, y0 + j * y.strides[last]); };
    const auto dy_at = [&](int64_t j) { return load_as<T>(dy, dy0 + j * dy.strides[last]); };
    T s = 0;
    for (int64_t j = 0; j < n; ++j) s += log_softmax ? dy_at(j) : dy_at(j) * y_at(j);
    std::vector<T> out(static_cast<size_t>(n));  // dx may be dy itself
    for (int64_t j = 0; j < n; ++j)
      out[static_cast<size_t>(j)] =
          log_softmax ? dy_at(j) - std::exp(y_at(j)) * s : y_at(j) * (dy_at(j) - s);
    for (int64_t j = 0; j < n; ++j)
      store_rounded(dx, dx0 + j * dx.strides[last], out[static_cast<size_t>(j)]);
  });
}

chorus_status run_backward(const BoundOp& op) {
  const bool log = op.attrs_as<chorus_softmax_attrs>().log != 0;
  if (op[2].dtype == CHORUS_DTYPE_F64)
    backward_loop<long double>(log, op[0], op[1], op[2]);
  else
    backward_loop<double>(log, op[0], op[1], op[2]);
  return CHORUS_OK;
}

}  // namespace

void register_reference() {
  chorus::reference::register_op(CHORUS_OP_SOFTMAX, run_softmax);
  chorus::reference::register_op(CHORUS_OP_SOFTMAX_BACKWARD, run_backward);
}

}  // namespace chorus::ops::softmax
