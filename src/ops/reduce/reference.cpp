// reference.cpp — the oracle's reductions: sum, mean, max, min over the
// trailing axes that axes_mask names, and argmax over the last axis. Floats
// accumulate in double (long double for f64), integer sums wrap.
#include <bit>

#include "reference_common.hpp"

namespace chorus::ops::reduce {
namespace {

using namespace chorus::reference;

template <typename T>
void reduce_float_loop(chorus_reduce_op op, uint32_t reduced, const Tensor& x, const Tensor& out) {
  const uint32_t first = x.rank - reduced;  // the reduced axes are the last ones
  const int64_t n = row_length(x, reduced);
  for_each_index(out.rank, out.shape, [&](const int64_t* o) {
    // o is 0 on the reduced axes (extent 1 in out), so it indexes x's first
    // element of this reduction too.
    const int64_t base = element_of(x, o);
    T acc = op == CHORUS_REDUCE_MAX   ? -std::numeric_limits<T>::infinity()
            : op == CHORUS_REDUCE_MIN ? std::numeric_limits<T>::infinity()
                                      : T(0);
    for_each_index(reduced, x.shape + first, [&](const int64_t* r) {
      int64_t element = base;
      for (uint32_t k = 0; k < reduced; ++k) element += r[k] * x.strides[first + k];
      const T v = load_as<T>(x, element);
      if (op == CHORUS_REDUCE_MAX)
        acc = maximum(acc, v);
      else if (op == CHORUS_REDUCE_MIN)
        acc = minimum(acc, v);
      else
        acc += v;
    });
    if (op == CHORUS_REDUCE_MEAN) acc /= static_cast<T>(n);
    store_rounded(out, element_of(out, o), acc);
  });
}

void reduce_integer_loop(chorus_reduce_op op, uint32_t reduced, const Tensor& x,
                         const Tensor& out) {
  const uint32_t first = x.rank - reduced;
  for_each_index(out.rank, out.shape, [&](const int64_t* o) {
    const int64_t base = element_of(x, o);
    uint64_t sum = 0;  // wraps, like integer add
    int64_t extreme = op == CHORUS_REDUCE_MAX ? std::numeric_limits<int64_t>::min()
                                              : std::numeric_limits<int64_t>::max();
    for_each_index(reduced, x.shape + first, [&](const int64_t* r) {
      int64_t element = base;
      for (uint32_t k = 0; k < reduced; ++k) element += r[k] * x.strides[first + k];
      const int64_t v = load_integer(x, element);
      sum += static_cast<uint64_t>(v);
      if (op == CHORUS_REDUCE_MAX ? v > extreme : v < extreme) extreme = v;
    });
    store_wrapped(out, element_of(out, o),
                  op == CHORUS_REDUCE_SUM ? sum : static_cast<uint64_t>(extreme));
  });
}

chorus_status run_reduce(const BoundOp& bound) {
  const auto& a = bound.attrs_as<chorus_reduce_attrs>();
  const int32_t code = a.op;
  if (code < 0 || code >= CHORUS_REDUCE_COUNT_)
    return unsupported("reduce op " + std::to_string(code) + " is not one the reference knows");
  const auto op = static_cast<chorus_reduce_op>(code);
  const Tensor& x = bound[0];
  const Tensor& out = bound[1];
  const auto reduced = static_cast<uint32_t>(std::popcount(a.axes_mask));
  if (is_integer(x.dtype))
    reduce_integer_loop(op, reduced, x, out);
  else if (out.dtype == CHORUS_DTYPE_F64)
    reduce_float_loop<long double>(op, reduced, x, out);
  else
    reduce_float_loop<double>(op, reduced, x, out);
  return CHORUS_OK;
}

// Index of the first largest of n values; the first NaN beats everything.
template <typename V, typename Load>
int64_t first_largest(int64_t n, Load load) {
  int64_t best = 0;
  V best_value = load(0);
  if (std::isnan(best_value)) return 0;
  for (int64_t j = 1; j < n; ++j) {
    const V v = load(j);
    if (std::isnan(v)) return j;
    if (v > best_value) {
      best = j;
      best_value = v;
    }
  }
  return best;
}

chorus_status run_argmax(const BoundOp& bound) {
  const Tensor& x = bound[0];
  const Tensor& out = bound[1];
  const uint32_t last = x.rank - 1;  // the normal form: the row is the last axis
  const int64_t n = x.shape[last];
  for_each_index(last, x.shape, [&](const int64_t* row) {
    const int64_t start = element_of(x, row);
    const int64_t stride = x.strides[last];
    const int64_t index =
        is_integer(x.dtype) ? first_largest<int64_t>(
                                  n, [&](int64_t j) { return load_integer(x, start + j * stride); })
                            : first_largest<long double>(n, [&](int64_t j) {
                                return load_as<long double>(x, start + j * stride);
                              });
    store_wrapped(out, element_of(out, row), static_cast<uint64_t>(index));
  });
  return CHORUS_OK;
}

}  // namespace

void register_reference() {
  chorus::reference::register_op(CHORUS_OP_REDUCE, run_reduce);
  chorus::reference::register_op(CHORUS_OP_ARGMAX, run_argmax);
}

}  // namespace chorus::ops::reduce
