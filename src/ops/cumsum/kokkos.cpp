// kokkos.cpp — cumsum on the Kokkos backend, in the rows normal form
// (backend.h): the scan axis is the last one, the outer axes arrive
// collapsed (possibly none), y has x's shape and may be x itself.
//
// A flat RangePolicy over the rows; each work item scans its row alone, in
// index order (reversed: from the end), so every running sum is added in one
// fixed order whatever the execution space: repeated runs give identical
// bits. Floats accumulate in the compute type (f32 for f32, f16 and bf16,
// f64 for f64) and each element is rounded once to y's dtype; integers wrap
// as 64-bit two's complement and y keeps the low bits. Element j of x is
// read before element j of y is written, and nothing before it is read
// again, so a scan in place is safe.
#include <string>

#include "kokkos_ops.hpp"

namespace chorus::ops::cumsum {

// Kernels live in this named namespace, not an unnamed one: device compilers
// (nvcc) refuse extended lambdas in unnamed namespaces.
using namespace chorus::kokkos;

// How a value enters a running sum: plainly for floats, wrapping for
// integers (on uint64 bits, as every integer op of chorus).
template <typename T>
KOKKOS_INLINE_FUNCTION T accumulate(T sum, T v) {
  return sum + v;
}
template <>
KOKKOS_INLINE_FUNCTION int64_t accumulate<int64_t>(int64_t sum, int64_t v) {
  return static_cast<int64_t>(static_cast<uint64_t>(sum) + static_cast<uint64_t>(v));
}

struct ScanRow {
  int64_t n;
  int64_t x_stride, y_stride;
};

template <chorus_dtype D, bool Exclusive, bool Reverse>
void cumsum_kernel(const Exec& exec, const Walk<2>& rows, const ScanRow& row,
                   const unsigned char* x, unsigned char* y) {
  using S = Storage<D>;
  using T = typename S::compute;
  Kokkos::parallel_for(
      "chorus::cumsum", Range(exec, 0, rows.count), KOKKOS_LAMBDA(int64_t r) {
        int64_t at[2];
        rows.locate(r, at);
        // Reversed, the scan starts at the row's last element and steps back.
        const int64_t first = Reverse ? row.n - 1 : 0;
        const int64_t x_step = Reverse ? -row.x_stride : row.x_stride;
        const int64_t y_step = Reverse ? -row.y_stride : row.y_stride;
        int64_t xi = at[0] + first * row.x_stride;
        int64_t yi = at[1] + first * row.y_stride;
        T sum = T(0);
        for (int64_t step = 0; step < row.n; ++step, xi += x_step, yi += y_step) {
          const T v = S::load(x, xi);
          if constexpr (Exclusive) {
            S::store(y, yi, sum);
            sum = accumulate(sum, v);
          } else {
            sum = accumulate(sum, v);
            S::store(y, yi, sum);
          }
        }
      });
}

chorus_status check_cumsum(const BoundOp& op) {
  const chorus_backend_tensor& x = op[0];
  const int32_t axis = attrs_of<chorus_cumsum_attrs>(op).axis;
  if (x.rank == 0 || axis != static_cast<int32_t>(x.rank) - 1 || op[1].rank != x.rank)
    return unsupported("cumsum", "axis " + std::to_string(axis) +
                                     " is not the last axis of x (rank " + std::to_string(x.rank) +
                                     ")");
  if (!is_float_dtype(x.dtype) && !is_signed_int_dtype(x.dtype))
    return unsupported_dtype("cumsum", x.dtype);
  if (op[1].dtype != x.dtype) return unsupported_dtype("cumsum", op[1].dtype);
  return CHORUS_OK;
}

chorus_status run_cumsum(const Exec& exec, const BoundOp& op) {
  const auto a = attrs_of<chorus_cumsum_attrs>(op);
  const chorus_backend_tensor& x = op[0];
  const chorus_backend_tensor& y = op[1];
  const uint32_t last = x.rank - 1;
  const chorus_backend_tensor* const both[2] = {&x, &y};
  const Walk<2> rows = make_walk<2>(0, last, x.shape, both);
  const ScanRow row{x.shape[last], x.strides[last], y.strides[last]};
  const bool exclusive = a.exclusive != 0;
  const bool reverse = a.reverse != 0;
  const auto launch = [&]<chorus_dtype D>() {
    if (exclusive && reverse)
      cumsum_kernel<D, true, true>(exec, rows, row, data_of(x), data_of(y));
    else if (exclusive)
      cumsum_kernel<D, true, false>(exec, rows, row, data_of(x), data_of(y));
    else if (reverse)
      cumsum_kernel<D, false, true>(exec, rows, row, data_of(x), data_of(y));
    else
      cumsum_kernel<D, false, false>(exec, rows, row, data_of(x), data_of(y));
  };
  if (!with_float_dtype(x.dtype, launch) && !with_signed_int_dtype(x.dtype, launch))
    return check_cumsum(op);
  return CHORUS_OK;
}

void register_kokkos() {
  register_op(CHORUS_OP_CUMSUM, {sizeof(chorus_cumsum_attrs), check_cumsum, run_cumsum});
}

}  // namespace chorus::ops::cumsum
