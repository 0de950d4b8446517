// kokkos.cpp — layer norm and RMS norm on the Kokkos backend, in the rows
// normal form (backend.h): the row is the last axis, the outer axes arrive
// collapsed (possibly none); gamma and beta, when present, have x's shape
// with stride 0 on every axis but the row.
//
// One TeamPolicy team per row. The mean and the variance are fixed-chunk
// sums (kokkos_rows.hpp), so the result is deterministic on every execution
// space. Variance takes a second pass around the mean (one-pass E[x^2] -
// mean^2 cancels). Writes come after every read of the row, so y may be x
// itself (in place).
#include <string>

#include "kokkos_ops.hpp"
#include "kokkos_rows.hpp"

namespace chorus::ops::norm {

// Kernels live in this named namespace, not an unnamed one: device compilers
// (nvcc) refuse extended lambdas in unnamed namespaces.
using namespace chorus::kokkos;

struct NormParams {
  int64_t n;
  int64_t stride[4];  // last-axis strides of x, y, gamma, beta
  bool subtract_mean, has_gamma, has_beta;
  double eps;
};

template <chorus_dtype D>
void norm_kernel(const Exec& exec, const Walk<4>& rows, const NormParams& p, const unsigned char* x,
                 unsigned char* y, const unsigned char* gamma, const unsigned char* beta) {
  using S = Storage<D>;
  using T = typename S::compute;
  Kokkos::parallel_for(
      "chorus::norm", row_policy<T>(exec, rows.count), KOKKOS_LAMBDA(const Member& team) {
        int64_t at[4];
        rows.locate(team.league_rank(), at);
        const Scratch<T> partial(team.team_scratch(0), kRowChunks);
        const auto x_at = [&](int64_t j) { return S::load(x, at[0] + j * p.stride[0]); };
        const T count = static_cast<T>(p.n);
        T centre = T(0);
        if (p.subtract_mean) centre = chunked_sum<T>(team, partial, p.n, x_at) / count;
        const T squares = chunked_sum<T>(team, partial, p.n, [&](int64_t j) {
          const T centred = x_at(j) - centre;
          return centred * centred;
        });
        const T spread = math::sqrt(squares / count + static_cast<T>(p.eps));
        Kokkos::parallel_for(Kokkos::TeamThreadRange(team, p.n), [&](int64_t j) {
          T v = (x_at(j) - centre) / spread;
          if (p.has_gamma) v *= S::load(gamma, at[2] + j * p.stride[2]);
          if (p.has_beta) v += S::load(beta, at[3] + j * p.stride[3]);
          S::store(y, at[1] + j * p.stride[1], v);
        });
      });
}

// Slots: layer_norm [x, gamma?, beta?, y], rms_norm [x, gamma?, y].
template <bool SubtractMean>
chorus_status check_norm(const BoundOp& op) {
  const char* name = SubtractMean ? "layer_norm" : "rms_norm";
  const chorus_backend_tensor& x = op[0];
  if (op.count != (SubtractMean ? 4u : 3u))
    return unsupported(name, std::to_string(op.count) + " tensors; the op has " +
                                 (SubtractMean ? "4" : "3") + " slots");
  if (x.rank == 0) return unsupported(name, "x has rank 0");
  if (!is_float_dtype(x.dtype)) return unsupported_dtype(name, x.dtype);
  for (uint32_t i = 1; i < op.count; ++i) {
    if (!op.has(i)) continue;  // an absent gamma or beta
    if (op[i].dtype != x.dtype) return unsupported_dtype(name, op[i].dtype);
    if (op[i].rank != x.rank)
      return unsupported(name, "every tensor must have x's rank (the normal form)");
  }
  return CHORUS_OK;
}

template <bool SubtractMean>
chorus_status run_norm(const Exec& exec, const BoundOp& op) {
  const chorus_backend_tensor& x = op[0];
  const chorus_backend_tensor& y = op[op.count - 1];
  const chorus_backend_tensor* gamma = op.has(1) ? &op[1] : nullptr;
  const chorus_backend_tensor* beta = SubtractMean && op.has(2) ? &op[2] : nullptr;
  const uint32_t last = x.rank - 1;
  const chorus_backend_tensor* const views[4] = {&x, &y, gamma, beta};
  const Walk<4> rows = make_walk<4>(0, last, x.shape, views);
  const NormParams p{x.shape[last],
                     {x.strides[last], y.strides[last], gamma ? gamma->strides[last] : 0,
                      beta ? beta->strides[last] : 0},
                     SubtractMean,
                     gamma != nullptr,
                     beta != nullptr,
                     attrs_of<chorus_norm_attrs>(op).eps};
  const bool ok = with_float_dtype(x.dtype, [&]<chorus_dtype D>() {
    norm_kernel<D>(exec, rows, p, data_of(x), data_of(y), gamma ? data_of(*gamma) : nullptr,
                   beta ? data_of(*beta) : nullptr);
  });
  if (!ok) return check_norm<SubtractMean>(op);
  return CHORUS_OK;
}

void register_kokkos() {
  register_op(CHORUS_OP_LAYER_NORM, {sizeof(chorus_norm_attrs), check_norm<true>, run_norm<true>});
  register_op(CHORUS_OP_RMS_NORM, {sizeof(chorus_norm_attrs), check_norm<false>, run_norm<false>});
}

}  // namespace chorus::ops::norm
