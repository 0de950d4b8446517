// reference.cpp — the oracle's cumsum along the last axis (the normal form):
// each running sum in double (long double for f64) in index order, rounded
// once per element; integers wrap. Exclusive sums start at 0; reversed ones
// run from the end of the row.
#include <vector>

#include "reference_common.hpp"

namespace chorus::ops::cumsum {
namespace {

using namespace chorus::reference;

template <typename T>
void float_loop(const Tensor& x, const Tensor& y, bool exclusive, bool reverse) {
  const uint32_t last = x.rank - 1;
  const int64_t n = x.shape[last];
  std::vector<T> out(static_cast<size_t>(n));
  for_each_index(last, x.shape, [&](const int64_t* row) {
    const int64_t x0 = element_of(x, row);
    T sum = 0;
    for (int64_t step = 0; step < n; ++step) {
      const int64_t j = reverse ? n - 1 - step : step;
      const T v = load_as<T>(x, x0 + j * x.strides[last]);
      if (!exclusive) sum += v;
      out[static_cast<size_t>(j)] = sum;
      if (exclusive) sum += v;
    }
    const int64_t y0 = element_of(y, row);  // written after the row is read: y may be x
    for (int64_t j = 0; j < n; ++j)
      store_rounded(y, y0 + j * y.strides[last], out[static_cast<size_t>(j)]);
  });
}

void integer_loop(const Tensor& x, const Tensor& y, bool exclusive, bool reverse) {
  const uint32_t last = x.rank - 1;
  const int64_t n = x.shape[last];
  std::vector<uint64_t> out(static_cast<size_t>(n));
  for_each_index(last, x.shape, [&](const int64_t* row) {
    const int64_t x0 = element_of(x, row);
    uint64_t sum = 0;  // wraps, like integer add
    for (int64_t step = 0; step < n; ++step) {
      const int64_t j = reverse ? n - 1 - step : step;
      const auto v = static_cast<uint64_t>(load_integer(x, x0 + j * x.strides[last]));
      if (!exclusive) sum += v;
      out[static_cast<size_t>(j)] = sum;
      if (exclusive) sum += v;
    }
    const int64_t y0 = element_of(y, row);
    for (int64_t j = 0; j < n; ++j)
      store_wrapped(y, y0 + j * y.strides[last], out[static_cast<size_t>(j)]);
  });
}

chorus_status run_cumsum(const BoundOp& op) {
  const auto& a = op.attrs_as<chorus_cumsum_attrs>();
  const Tensor& x = op[0];
  const Tensor& y = op[1];
  if (is_integer(y.dtype))
    integer_loop(x, y, a.exclusive != 0, a.reverse != 0);
  else if (y.dtype == CHORUS_DTYPE_F64)
    float_loop<long double>(x, y, a.exclusive != 0, a.reverse != 0);
  else
    float_loop<double>(x, y, a.exclusive != 0, a.reverse != 0);
  return CHORUS_OK;
}

}  // namespace

void register_reference() { chorus::reference::register_op(CHORUS_OP_CUMSUM, run_cumsum); }

}  // namespace chorus::ops::cumsum
