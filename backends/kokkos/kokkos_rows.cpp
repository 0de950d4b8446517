// kokkos_rows.cpp — the row-wise op families: softmax / log-softmax over the
// last axis, layer norm and RMS norm over the last axis.
//
// One TeamPolicy team per row. A row's maximum is a nested parallel_reduce
// with an exact (order-free) IEEE-maximum reducer. A row's sums (softmax's
// denominator, the norms' mean and variance) are fixed-chunk sums: the row is
// cut into at most kRowChunks chunks by its length alone, team threads sum
// whole chunks in order into team scratch memory, and one thread adds the
// partials in order. So the result does not depend on the team size, and
// every execution space gives the same bits run after run. Variance takes a
// second pass around the mean (one-pass E[x^2] - mean^2 cancels). Writes come
// after every read of the row, so y may be x itself (in place).
#include <string>

#include "kokkos_ops.hpp"

namespace chorus::kokkos {

namespace {
constexpr int64_t kRowChunks = 32;
}  // namespace

template <typename T>
struct MaxCombine {
  using value_type = Boxed<T>;
  KOKKOS_INLINE_FUNCTION static Boxed<T> identity() { return Boxed<T>{-infinity<T>()}; }
  KOKKOS_INLINE_FUNCTION static Boxed<T> combine(const Boxed<T>& a, const Boxed<T>& b) {
    return Boxed<T>{maximum(a.value, b.value)};
  }
};

// Sum of term(j) for j in [0, n), in a fixed order (see the file comment).
// Every thread of the team gets the total.
template <typename T, typename Term>
KOKKOS_INLINE_FUNCTION T chunked_sum(const Member& team, const Scratch<T>& partial, int64_t n,
                                     const Term& term) {
  const int64_t chunks = n < kRowChunks ? n : kRowChunks;
  Kokkos::parallel_for(Kokkos::TeamThreadRange(team, chunks), [&](int64_t c) {
    // Four interleaved sums per chunk, joined in a fixed order: independent
    // dependency chains, and the order still depends on n alone.
    const int64_t end = (c + 1) * n / chunks;
    T s0 = T(0), s1 = T(0), s2 = T(0), s3 = T(0);
    int64_t j = c * n / chunks;
    for (; j + 4 <= end; j += 4) {
      s0 += term(j);
      s1 += term(j + 1);
      s2 += term(j + 2);
      s3 += term(j + 3);
    }
    for (; j < end; ++j) s0 += term(j);
    partial(c) = (s0 + s1) + (s2 + s3);
  });
  team.team_barrier();
  T total = T(0);
  Kokkos::single(
      Kokkos::PerTeam(team),
      [&](T& sum) {
        sum = T(0);
        for (int64_t c = 0; c < chunks; ++c) sum += partial(c);
      },
      total);
  return total;
}

template <typename T>
TeamPolicy row_policy(const Exec& exec, int64_t rows) {
  TeamPolicy policy(exec, rows, Kokkos::AUTO);
  policy.set_scratch_size(0, Kokkos::PerTeam(Scratch<T>::shmem_size(kRowChunks)));
  return policy;
}

// ---------------------------------------------------------------- softmax

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
        Boxed<T> m = MaxCombine<T>::identity();
        Kokkos::parallel_reduce(
            Kokkos::TeamThreadRange(team, n),
            [&](int64_t j, Boxed<T>& local) { local.value = maximum(local.value, x_at(j)); },
            ExactReducer<MaxCombine<T>>(m));
        const T s = chunked_sum<T>(team, partial, n,
                                   [&](int64_t j) { return math::exp(x_at(j) - m.value); });
        const T log_s = math::log(s);
        Kokkos::parallel_for(Kokkos::TeamThreadRange(team, n), [&](int64_t j) {
          const T shifted = x_at(j) - m.value;
          S::store(y, at[1] + j * y_stride, log_softmax ? shifted - log_s : math::exp(shifted) / s);
        });
      });
}

chorus_status run_softmax(const Exec& exec, const chorus_op_desc& d) {
  const chorus_backend_tensor& x = d.tensors[0];
  const chorus_backend_tensor& y = d.tensors[1];
  if (d.subop != 0 && d.subop != 1)
    return report(CHORUS_ERROR_INVALID_ARGUMENT, "kokkos: softmax: subop " +
                                                     std::to_string(d.subop) +
                                                     " is neither 0 (softmax) nor 1 (log-softmax)");
  if (x.rank == 0 || d.axis != static_cast<int32_t>(x.rank) - 1)
    return report(CHORUS_ERROR_INVALID_ARGUMENT, "kokkos: softmax: axis " + std::to_string(d.axis) +
                                                     " is not the last axis of x (rank " +
                                                     std::to_string(x.rank) + ")");
  const uint32_t last = x.rank - 1;
  const chorus_backend_tensor* const both[2] = {&x, &y};
  const Walk<2> rows = make_walk<2>(0, last, x.shape, both);
  const bool ok = with_float_dtype(x.dtype, [&]<chorus_dtype D>() {
    softmax_kernel<D>(exec, rows, x.shape[last], x.strides[last], y.strides[last], d.subop == 1,
                      data_of(x), data_of(y));
  });
  if (!ok)
    return report(CHORUS_ERROR_INVALID_ARGUMENT,
                  std::string("kokkos: softmax needs a float dtype, got ") + dtype_name(x.dtype));
  return CHORUS_OK;
}

// ------------------------------------------------- layer norm, RMS norm

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

chorus_status run_norm(const Exec& exec, const chorus_op_desc& d, bool subtract_mean) {
  const char* name = subtract_mean ? "layer_norm" : "rms_norm";
  const chorus_backend_tensor& x = d.tensors[0];
  const chorus_backend_tensor& y = d.tensors[1];
  if (x.rank == 0)
    return report(CHORUS_ERROR_INVALID_ARGUMENT, std::string("kokkos: ") + name + ": x has rank 0");
  const bool has_gamma = d.has_gamma && d.tensor_count > 2 && d.tensors[2].buffer;
  const bool has_beta = subtract_mean && d.has_beta && d.tensor_count > 3 && d.tensors[3].buffer;
  const chorus_backend_tensor* gamma = has_gamma ? &d.tensors[2] : nullptr;
  const chorus_backend_tensor* beta = has_beta ? &d.tensors[3] : nullptr;
  const uint32_t last = x.rank - 1;
  const chorus_backend_tensor* const views[4] = {&x, &y, gamma, beta};
  const Walk<4> rows = make_walk<4>(0, last, x.shape, views);
  const NormParams p{x.shape[last],
                     {x.strides[last], y.strides[last], gamma ? gamma->strides[last] : 0,
                      beta ? beta->strides[last] : 0},
                     subtract_mean,
                     has_gamma,
                     has_beta,
                     d.eps};
  const bool ok = with_float_dtype(x.dtype, [&]<chorus_dtype D>() {
    norm_kernel<D>(exec, rows, p, data_of(x), data_of(y), gamma ? data_of(*gamma) : nullptr,
                   beta ? data_of(*beta) : nullptr);
  });
  if (!ok)
    return report(
        CHORUS_ERROR_INVALID_ARGUMENT,
        std::string("kokkos: ") + name + " needs a float dtype, got " + dtype_name(x.dtype));
  return CHORUS_OK;
}

}  // namespace chorus::kokkos
