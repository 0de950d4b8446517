// reference.cpp — the oracle's layer norm and RMS norm over the last axis
// (the normal form): two passes (the mean, then squares around it), double
// (long double for f64), rounded once. Slots: x, gamma?, beta?, y (layer
// norm); x, gamma?, y (RMS norm).
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
}

}  // namespace chorus::ops::norm
