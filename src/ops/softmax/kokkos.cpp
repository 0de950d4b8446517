// kokkos.cpp — softmax and log-softmax, and their gradient, on the Kokkos
// backend, in the rows
// normal form (backend.h): the axis is the last one, the outer axes arrive
// collapsed (possibly none).
//
// One TeamPolicy team per row. A row's maximum is a nested parallel_reduce
// with an exact (order-free) IEEE-maximum reducer; its sum of exponentials is
// a fixed-chunk sum (kokkos_rows.hpp), so the result is deterministic on
// every execution space. Writes come after every read of the row, so y may be
// x itself (in place).
#include <string>

#include "kokkos_ops.hpp"
#include "kokkos_rows.hpp"

namespace chorus::ops::softmax {

// Kernels live in this named namespace, not an unnamed one: device compilers
// (nvcc) refuse extended lambdas in unnamed namespaces.
using namespace chorus::kokkos;

template <chorus_dtype D>
void softmax_kernel(const Exec& exec, const Walk<2>& rows, int64_t n, int64_t x_stride,
                    int64_t y_stride, bool log_softmax, const unsigned char* x, unsigned char* y) {
  using S = Storage<D>;
  using T = typename S::compute;
  Kokkos::parallel_for(
      "chorus::softmax", row_policy<T>(exec, rows.count), KOKKOS_LAMBDA(const Member& team) {
        int64_t at[2];
        rows.locate(team.league_rank(), at);
        const Scratch<T> partial(team.team_scratch(0), kRowChunks);
        const auto x_at = [&](int64_t j) { return S::load(x, at[0] + j * x_stride); };
        // No special cases: an infinite maximum gives inf - inf = NaN in the
        // sum, and so does a NaN anywhere, so such a row comes out all NaN.
        const T m = row_max<T>(team, n, x_at);
        const T s = chunked_sum<T>(team, partial, n, [&](int64_t j) { return math::exp(x_at(j) - m); });
        const T log_s = math::log(s);
        Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n), [&](int64_t j) {
          const T shifted = x_at(j) - m;
          S::store(y, at[1] + j * y_stride, log_softmax ? shifted - log_s : math::exp(shifted) / s);
        });
      });
}

// The gradient: s = sum of dy*y (softmax) or dy (log-softmax), a fixed-chunk
// sum; then dx_j = y_j (dy_j - s) or dy_j - exp(y_j) s. Every read of a row's
// dy comes before its writes, so dx may be dy itself.
template <chorus_dtype D>
void backward_kernel(const Exec& exec, const Walk<3>& rows, int64_t n, const int64_t* stride,
                     bool log_softmax, const unsigned char* y, const unsigned char* dy,
                     unsigned char* dx) {
  using S = Storage<D>;
  using T = typename S::compute;
  const int64_t ys = stride[0], gs = stride[1], xs = stride[2];
  Kokkos::parallel_for(
      "chorus::softmax_backward", row_policy<T>(exec, rows.count),
      KOKKOS_LAMBDA(const Member& team) {
        int64_t at[3];
        rows.locate(team.league_rank(), at);
        const Scratch<T> partial(team.team_scratch(0), kRowChunks);
        const auto y_at = [&](int64_t j) { return S::load(y, at[0] + j * ys); };
        const auto dy_at = [&](int64_t j) { return S::load(dy, at[1] + j * gs); };
        const T s = chunked_sum<T>(team, partial, n, [&](int64_t j) {
          return log_softmax ? dy_at(j) : dy_at(j) * y_at(j);
        });
        Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n), [&](int64_t j) {
          const T v = y_at(j), g = dy_at(j);
          S::store(dx, at[2] + j * xs, log_softmax ? g - math::exp(v) * s : v * (g - s));
        });
      });
}

chorus_status check_softmax(const BoundOp& op) {
  const chorus_backend_tensor& x = op[0];
  const int32_t axis = attrs_of<chorus_softmax_attrs>(op).axis;
  if (x.rank == 0 || axis != static_cast<int32_t>(x.rank) - 1)
    return unsupported("softmax", "axis " + std::to_string(axis) +
                                      " is not the last axis of x (rank " + std::to_string(x.rank) +
                                      ")");
  for (uint32_t t = 0; t < op.count; ++t)
    if (!is_float_dtype(op[t].dtype) || op[t].dtype != x.dtype)
      return unsupported_dtype("softmax", op[t].dtype != x.dtype ? op[t].dtype : x.dtype);
  return CHORUS_OK;
}

chorus_status run_backward(const Exec& exec, const BoundOp& op) {
  const chorus_backend_tensor& y = op[0];
  const uint32_t last = y.rank - 1;
  const chorus_backend_tensor* const all[3] = {&op[0], &op[1], &op[2]};
  const Walk<3> rows = make_walk<3>(0, last, y.shape, all);
  const int64_t stride[3] = {op[0].strides[last], op[1].strides[last], op[2].strides[last]};
  const bool log_softmax = attrs_of<chorus_softmax_attrs>(op).log != 0;
  const bool ok = with_float_dtype(y.dtype, [&]<chorus_dtype D>() {
    backward_kernel<D>(exec, rows, y.shape[last], stride, log_softmax, data_of(op[0]),
                       data_of(op[1]), data_of(op[2]));
  });
  if (!ok) return check_softmax(op);
  return CHORUS_OK;
}

chorus_status run_softmax(const Exec& exec, const BoundOp& op) {
  const chorus_backend_tensor& x = op[0];
  const chorus_backend_tensor& y = op[1];
  const bool log_softmax = attrs_of<chorus_softmax_attrs>(op).log != 0;
  const uint32_t last = x.rank - 1;
  const chorus_backend_tensor* const both[2] = {&x, &y};
  const Walk<2> rows = make_walk<2>(0, last, x.shape, both);
  const bool ok = with_float_dtype(x.dtype, [&]<chorus_dtype D>() {
    softmax_kernel<D>(exec, rows, x.shape[last], x.strides[last], y.strides[last], log_softmax,
                      data_of(x), data_of(y));
  });
  if (!ok) return check_softmax(op);
  return CHORUS_OK;
}

void register_kokkos() {
  register_op(CHORUS_OP_SOFTMAX, {sizeof(chorus_softmax_attrs), check_softmax, run_softmax});
  register_op(CHORUS_OP_SOFTMAX_BACKWARD,
              {sizeof(chorus_softmax_attrs), check_softmax, run_backward});
}

}  // namespace chorus::ops::softmax
