// kokkos.cpp — layer norm, RMS norm and batch norm, and their gradients, on the Kokkos
// backend, in the rows normal form (backend.h): the row is the last axis, the
// outer axes arrive collapsed (possibly none); gamma and beta, when present,
// have x's shape with stride 0 on every axis but the row.
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

// ------------------------------------------------------------- gradients
//
// Slots: layer_norm_backward [x, gamma?, dy, dx?, dgamma?, dbeta?],
// rms_norm_backward [x, gamma?, dy, dx?, dgamma?]. dy and dx have x's shape;
// dgamma and dbeta have extent 1 on every outer axis and n on the row (the
// sum over x's rows). With g = dy * gamma, d = x - mean (RMS norm: d = x),
// r = 1 / sqrt(var + eps):
//   dx = r * (g - sum(g)/n [layer norm only] - d * r^2 * sum(g * d)/n),
//   dgamma = sum over rows of dy * d * r, dbeta = sum over rows of dy.
// Three kernels, in queue order: each row's mean and r (the forward's
// fixed-chunk sums, so the statistics are the forward's bits) into a
// scratch view; then dgamma and dbeta, one thread per feature summing its
// column over the rows in row order (deterministic, no atomics); then dx,
// one team per row. dx may be dy itself: the column sums read dy before the
// dx kernel writes it, and that kernel reads each row before writing it.

struct NormBackwardParams {
  int64_t n;
  int64_t stride[6];  // last-axis strides of x, gamma, dy, dx, dgamma, dbeta
  int64_t dgamma_offset, dbeta_offset;
  bool subtract_mean, has_gamma, has_dx, has_dgamma, has_dbeta;
  double eps;
};

template <chorus_dtype D>
void norm_backward_kernel(const Exec& exec, const Walk<4>& rows, const NormBackwardParams& p,
                          const unsigned char* x, const unsigned char* gamma,
                          const unsigned char* dy, unsigned char* dx, unsigned char* dgamma,
                          unsigned char* dbeta) {
  using S = Storage<D>;
  using T = typename S::compute;
  const bool stats_needed = rows.count > 0 && (p.has_dx || p.has_dgamma);
  // Row r's mean at 2r, its r = 1 / sqrt(var + eps) at 2r + 1.
  Kokkos::View<T*, Memory> stats(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "chorus::norm_backward stats"),
      stats_needed ? 2 * rows.count : 0);
  if (stats_needed)
    Kokkos::parallel_for(
        "chorus::norm_backward_stats", row_policy<T>(exec, rows.count),
        KOKKOS_LAMBDA(const Member& team) {
          int64_t at[4];
          const int64_t row = team.league_rank();
          rows.locate(row, at);
          const Scratch<T> partial(team.team_scratch(0), kRowChunks);
          const auto x_at = [&](int64_t j) { return S::load(x, at[0] + j * p.stride[0]); };
          const T count = static_cast<T>(p.n);
          T centre = T(0);
          if (p.subtract_mean) centre = chunked_sum<T>(team, partial, p.n, x_at) / count;
          const T squares = chunked_sum<T>(team, partial, p.n, [&](int64_t j) {
            const T centred = x_at(j) - centre;
            return centred * centred;
          });
          const T r = T(1) / math::sqrt(squares / count + static_cast<T>(p.eps));
          Kokkos::single(Kokkos::PerTeam(team), [&]() {
            stats(2 * row) = centre;
            stats(2 * row + 1) = r;
          });
        });
  if (p.has_dgamma || p.has_dbeta)
    Kokkos::parallel_for(
        "chorus::norm_backward_columns", Range(exec, 0, p.n), KOKKOS_LAMBDA(int64_t j) {
          T sum_g_z = T(0), sum_dy = T(0);
          for (int64_t row = 0; row < rows.count; ++row) {
            int64_t at[4];
            rows.locate(row, at);
            const T g = S::load(dy, at[2] + j * p.stride[2]);
            if (p.has_dgamma) {
              const T d = S::load(x, at[0] + j * p.stride[0]) - stats(2 * row);
              sum_g_z += g * (d * stats(2 * row + 1));
            }
            sum_dy += g;
          }
          if (p.has_dgamma) S::store(dgamma, p.dgamma_offset + j * p.stride[4], sum_g_z);
          if (p.has_dbeta) S::store(dbeta, p.dbeta_offset + j * p.stride[5], sum_dy);
        });
  if (p.has_dx && rows.count > 0)
    Kokkos::parallel_for(
        "chorus::norm_backward_dx", row_policy<T>(exec, rows.count),
        KOKKOS_LAMBDA(const Member& team) {
          int64_t at[4];
          const int64_t row = team.league_rank();
          rows.locate(row, at);
          const Scratch<T> partial(team.team_scratch(0), kRowChunks);
          const T centre = stats(2 * row), r = stats(2 * row + 1);
          const T count = static_cast<T>(p.n);
          const auto d_at = [&](int64_t j) { return S::load(x, at[0] + j * p.stride[0]) - centre; };
          const auto g_at = [&](int64_t j) {
            T g = S::load(dy, at[2] + j * p.stride[2]);
            if (p.has_gamma) g *= S::load(gamma, at[1] + j * p.stride[1]);
            return g;
          };
          T c1 = T(0);
          if (p.subtract_mean) c1 = chunked_sum<T>(team, partial, p.n, g_at) / count;
          const T sum_g_d =
              chunked_sum<T>(team, partial, p.n, [&](int64_t j) { return g_at(j) * d_at(j); });
          const T c2 = r * r * sum_g_d / count;
          Kokkos::parallel_for(Kokkos::TeamThreadRange(team, p.n), [&](int64_t j) {
            S::store(dx, at[3] + j * p.stride[3], r * (g_at(j) - c1 - d_at(j) * c2));
          });
        });
  // The statistics are freed on return; a device space may still be running.
  if (stats_needed) exec.fence();
}

template <bool SubtractMean>
chorus_status check_norm_backward(const BoundOp& op) {
  const char* name = SubtractMean ? "layer_norm_backward" : "rms_norm_backward";
  const uint32_t slots = SubtractMean ? 6u : 5u;
  const chorus_backend_tensor& x = op[0];
  if (op.count != slots)
    return unsupported(name, std::to_string(op.count) + " tensors; the op has " +
                                 std::to_string(slots) + " slots");
  if (x.rank == 0) return unsupported(name, "x has rank 0");
  if (!is_float_dtype(x.dtype)) return unsupported_dtype(name, x.dtype);
  if (!op.has(2)) return unsupported(name, "dy is absent");
  const uint32_t last = x.rank - 1;
  for (uint32_t i = 1; i < op.count; ++i) {
    if (!op.has(i)) continue;  // an absent gamma, dx, dgamma or dbeta
    const chorus_backend_tensor& t = op[i];
    if (t.dtype != x.dtype) return unsupported_dtype(name, t.dtype);
    if (t.rank != x.rank)
      return unsupported(name, "every tensor must have x's rank (the normal form)");
    for (uint32_t k = 0; k < x.rank; ++k) {
      // dgamma and dbeta (slots 4, 5) are one row: extent 1 on the outer axes.
      const int64_t want = i >= 4 && k < last ? 1 : x.shape[k];
      if (t.shape[k] != want)
        return unsupported(name, "tensor " + std::to_string(i) + " has extent " +
                                     std::to_string(t.shape[k]) + " on axis " + std::to_string(k) +
                                     "; the normal form has " + std::to_string(want));
    }
  }
  return CHORUS_OK;
}

template <bool SubtractMean>
chorus_status run_norm_backward(const Exec& exec, const BoundOp& op) {
  const chorus_backend_tensor& x = op[0];
  const chorus_backend_tensor* gamma = op.has(1) ? &op[1] : nullptr;
  const chorus_backend_tensor& dy = op[2];
  const chorus_backend_tensor* dx = op.has(3) ? &op[3] : nullptr;
  const chorus_backend_tensor* dgamma = op.has(4) ? &op[4] : nullptr;
  const chorus_backend_tensor* dbeta = SubtractMean && op.has(5) ? &op[5] : nullptr;
  const uint32_t last = x.rank - 1;
  const chorus_backend_tensor* const views[4] = {&x, gamma, &dy, dx};
  const Walk<4> rows = make_walk<4>(0, last, x.shape, views);
  const auto stride_of = [&](const chorus_backend_tensor* t) { return t ? t->strides[last] : 0; };
  const NormBackwardParams p{x.shape[last],
                             {x.strides[last], stride_of(gamma), dy.strides[last], stride_of(dx),
                              stride_of(dgamma), stride_of(dbeta)},
                             dgamma ? dgamma->offset : 0,
                             dbeta ? dbeta->offset : 0,
                             SubtractMean,
                             gamma != nullptr,
                             dx != nullptr,
                             dgamma != nullptr,
                             dbeta != nullptr,
                             attrs_of<chorus_norm_attrs>(op).eps};
  const bool ok = with_float_dtype(x.dtype, [&]<chorus_dtype D>() {
    norm_backward_kernel<D>(exec, rows, p, data_of(x), gamma ? data_of(*gamma) : nullptr,
                            data_of(dy), dx ? data_of(*dx) : nullptr,
                            dgamma ? data_of(*dgamma) : nullptr, dbeta ? data_of(*dbeta) : nullptr);
  });
  if (!ok) return check_norm_backward<SubtractMean>(op);
  return CHORUS_OK;
}

// ------------------------------------------------------------ batch norm
//
// The normal form of schema.cpp (NormalForm::custom): axis 0 the channel,
// axes 1.. the values a channel spans (N and the spatial axes, merged where
// they can be); the per-channel tensors have extent 1 and stride 0 there.
// One team per channel; its sums are the fixed-chunk sums above, so the
// bits do not depend on the execution space. Slots: batch_norm [x, gamma?,
// beta?, running_mean?, running_var?, y], batch_norm_backward [x, gamma?,
// running_mean?, running_var?, dy, dx?, dgamma?, dbeta?]. y may be x, dx may
// be dy: each thread writes only the elements it has just read, after the
// channel's sums.

// Element c of a per-channel tensor (absent: offset 0, stride 0, unused).
struct ChannelAt {
  int64_t offset = 0, stride = 0;
  KOKKOS_INLINE_FUNCTION int64_t at(int64_t c) const { return offset + c * stride; }
};

inline ChannelAt channel_at(const BoundOp& op, uint32_t slot) {
  ChannelAt a;
  if (op.has(slot)) {
    a.offset = op[slot].offset;
    a.stride = op[slot].strides[0];
  }
  return a;
}

struct BatchNormParams {
  int64_t n;  // values per channel
  ChannelAt gamma, beta, mean, var, dgamma, dbeta;
  bool training, has_gamma, has_beta, update, has_dx, has_dgamma, has_dbeta;
  double eps, momentum;
};

// The channel's values, walked from its base: view v of walk w at index j.
template <int N>
KOKKOS_INLINE_FUNCTION int64_t inner_at(const Walk<N>& w, int v, int64_t base, int64_t j) {
  int64_t at[N];
  w.locate(j, at);
  return base + at[v];
}

template <chorus_dtype D>
void batch_norm_kernel(const Exec& exec, int64_t channels, const int64_t (&channel_stride)[2],
                       const Walk<2>& inner, const BatchNormParams& p, const unsigned char* x,
                       unsigned char* y, const unsigned char* gamma, const unsigned char* beta,
                       unsigned char* running_mean, unsigned char* running_var) {
  using S = Storage<D>;
  using T = typename S::compute;
  const int64_t xs = channel_stride[0], ys = channel_stride[1];
  Kokkos::parallel_for(
      "chorus::batch_norm", row_policy<T>(exec, channels), KOKKOS_LAMBDA(const Member& team) {
        const int64_t c = team.league_rank();
        const Scratch<T> partial(team.team_scratch(0), kRowChunks);
        const auto x_at = [&](int64_t j) { return S::load(x, inner_at(inner, 0, c * xs, j)); };
        const T count = static_cast<T>(p.n);
        T mean, var;
        if (p.training) {
          mean = chunked_sum<T>(team, partial, p.n, x_at) / count;
          var = chunked_sum<T>(team, partial, p.n, [&](int64_t j) {
                  const T d = x_at(j) - mean;
                  return d * d;
                }) /
                count;
          if (p.update)
            Kokkos::single(Kokkos::PerTeam(team), [&]() {
              const T m = static_cast<T>(p.momentum);
              const T rm = S::load(running_mean, p.mean.at(c));
              const T rv = S::load(running_var, p.var.at(c));
              S::store(running_mean, p.mean.at(c), (T(1) - m) * rm + m * mean);
              S::store(running_var, p.var.at(c),
                       (T(1) - m) * rv + m * (var * count / static_cast<T>(p.n - 1)));
            });
        } else {
          mean = S::load(running_mean, p.mean.at(c));
          var = S::load(running_var, p.var.at(c));
        }
        const T rstd = T(1) / math::sqrt(var + static_cast<T>(p.eps));
        const T g = p.has_gamma ? S::load(gamma, p.gamma.at(c)) : T(1);
        const T b = p.has_beta ? S::load(beta, p.beta.at(c)) : T(0);
        Kokkos::parallel_for(Kokkos::TeamThreadRange(team, p.n), [&](int64_t j) {
          int64_t at[2];
          inner.locate(j, at);
          const T v = S::load(x, c * xs + at[0]);
          S::store(y, c * ys + at[1], (v - mean) * rstd * g + b);
        });
      });
}

template <chorus_dtype D>
void batch_norm_backward_kernel(const Exec& exec, int64_t channels,
                                const int64_t (&channel_stride)[3], const Walk<3>& inner,
                                const BatchNormParams& p, const unsigned char* x,
                                const unsigned char* dy, unsigned char* dx,
                                const unsigned char* gamma, const unsigned char* running_mean,
                                const unsigned char* running_var, unsigned char* dgamma,
                                unsigned char* dbeta) {
  using S = Storage<D>;
  using T = typename S::compute;
  const int64_t xs = channel_stride[0], gs = channel_stride[1], ds = channel_stride[2];
  Kokkos::parallel_for(
      "chorus::batch_norm_backward", row_policy<T>(exec, channels),
      KOKKOS_LAMBDA(const Member& team) {
        const int64_t c = team.league_rank();
        const Scratch<T> partial(team.team_scratch(0), kRowChunks);
        const auto x_at = [&](int64_t j) { return S::load(x, inner_at(inner, 0, c * xs, j)); };
        const auto g_at = [&](int64_t j) { return S::load(dy, inner_at(inner, 1, c * gs, j)); };
        const T count = static_cast<T>(p.n);
        const T mean = p.training ? chunked_sum<T>(team, partial, p.n, x_at) / count
                                  : S::load(running_mean, p.mean.at(c));
        T var;
        if (p.training)
          var = chunked_sum<T>(team, partial, p.n, [&](int64_t j) {
                  const T d = x_at(j) - mean;
                  return d * d;
                }) /
                count;
        else
          var = S::load(running_var, p.var.at(c));
        const T sum_g = chunked_sum<T>(team, partial, p.n, g_at);
        const T sum_gd =
            chunked_sum<T>(team, partial, p.n, [&](int64_t j) { return g_at(j) * (x_at(j) - mean); });
        const T r = T(1) / math::sqrt(var + static_cast<T>(p.eps));
        Kokkos::single(Kokkos::PerTeam(team), [&]() {
          if (p.has_dgamma) S::store(dgamma, p.dgamma.at(c), p.n == 0 ? T(0) : sum_gd * r);
          if (p.has_dbeta) S::store(dbeta, p.dbeta.at(c), sum_g);
        });
        if (!p.has_dx) return;
        const T scale = (p.has_gamma ? S::load(gamma, p.gamma.at(c)) : T(1)) * r;
        const T c1 = p.training ? sum_g / count : T(0);
        const T c2 = p.training ? r * r * sum_gd / count : T(0);
        Kokkos::parallel_for(Kokkos::TeamThreadRange(team, p.n), [&](int64_t j) {
          int64_t at[3];
          inner.locate(j, at);
          const T d = S::load(x, c * xs + at[0]) - mean;
          const T g = S::load(dy, c * gs + at[1]);
          S::store(dx, c * ds + at[2], p.training ? scale * (g - c1 - d * c2) : scale * g);
        });
      });
}

template <bool Backward>
chorus_status check_batch_norm(const BoundOp& op) {
  const char* name = Backward ? "batch_norm_backward" : "batch_norm";
  const uint32_t slots = Backward ? 8u : 6u;
  if (op.count != slots)
    return unsupported(name, std::to_string(op.count) + " tensors; the op has " +
                                 std::to_string(slots) + " slots");
  const chorus_backend_tensor& x = op[0];
  if (x.rank == 0) return unsupported(name, "x has rank 0");
  if (!is_float_dtype(x.dtype)) return unsupported_dtype(name, x.dtype);
  for (uint32_t i = 1; i < op.count; ++i) {
    if (!op.has(i)) continue;
    if (op[i].dtype != x.dtype) return unsupported_dtype(name, op[i].dtype);
    if (op[i].rank != x.rank)
      return unsupported(name, "every tensor must have x's rank (the normal form)");
  }
  const auto a = attrs_of<chorus_batch_norm_attrs>(op);
  const uint32_t mean_slot = Backward ? 2 : 3;
  if (!a.training && !(op.has(mean_slot) && op.has(mean_slot + 1)))
    return unsupported(name, "inference needs running_mean and running_var");
  if (Backward && !op.has(4)) return unsupported(name, "dy is absent");
  return CHORUS_OK;
}

template <bool Backward>
chorus_status run_batch_norm(const Exec& exec, const BoundOp& op) {
  if (const chorus_status s = check_batch_norm<Backward>(op)) return s;
  const auto a = attrs_of<chorus_batch_norm_attrs>(op);
  const chorus_backend_tensor& x = op[0];
  const uint32_t mean_slot = Backward ? 2 : 3;
  int64_t n = 1;
  for (uint32_t k = 1; k < x.rank; ++k) n *= x.shape[k];
  BatchNormParams p{};
  p.n = n;
  p.gamma = channel_at(op, 1);
  p.mean = channel_at(op, mean_slot);
  p.var = channel_at(op, mean_slot + 1);
  p.training = a.training != 0;
  p.has_gamma = op.has(1);
  p.eps = a.eps;
  p.momentum = a.momentum;
  const int64_t channels = x.shape[0];
  const auto data = [&](uint32_t slot) { return op.has(slot) ? data_of(op[slot]) : nullptr; };
  if (channels == 0) return CHORUS_OK;
  bool ok;
  if constexpr (!Backward) {
    p.beta = channel_at(op, 2);
    p.has_beta = op.has(2);
    p.update = p.training && op.has(3);
    const chorus_backend_tensor& y = op[5];
    const chorus_backend_tensor* const views[2] = {&x, &y};
    const Walk<2> inner = make_walk<2>(1, x.rank - 1, x.shape, views);
    const int64_t strides[2] = {x.strides[0], y.strides[0]};
    ok = with_float_dtype(x.dtype, [&]<chorus_dtype D>() {
      batch_norm_kernel<D>(exec, channels, strides, inner, p, data_of(x), data_of(y), data(1),
                           data(2), data(3), data(4));
    });
  } else {
    p.dgamma = channel_at(op, 6);
    p.dbeta = channel_at(op, 7);
    p.has_dx = op.has(5);
    p.has_dgamma = op.has(6);
    p.has_dbeta = op.has(7);
    const chorus_backend_tensor& dy = op[4];
    const chorus_backend_tensor* dx = op.has(5) ? &op[5] : nullptr;
    const chorus_backend_tensor* const views[3] = {&x, &dy, dx};
    const Walk<3> inner = make_walk<3>(1, x.rank - 1, x.shape, views);
    const int64_t strides[3] = {x.strides[0], dy.strides[0], dx ? dx->strides[0] : 0};
    ok = with_float_dtype(x.dtype, [&]<chorus_dtype D>() {
      batch_norm_backward_kernel<D>(exec, channels, strides, inner, p, data_of(x), data_of(dy),
                                    data(5), data(1), data(2), data(3), data(6), data(7));
    });
  }
  return ok ? CHORUS_OK : check_batch_norm<Backward>(op);
}

void register_kokkos() {
  register_op(CHORUS_OP_LAYER_NORM, {sizeof(chorus_norm_attrs), check_norm<true>, run_norm<true>});
  register_op(CHORUS_OP_RMS_NORM, {sizeof(chorus_norm_attrs), check_norm<false>, run_norm<false>});
  register_op(CHORUS_OP_LAYER_NORM_BACKWARD,
              {sizeof(chorus_norm_attrs), check_norm_backward<true>, run_norm_backward<true>});
  register_op(CHORUS_OP_RMS_NORM_BACKWARD,
              {sizeof(chorus_norm_attrs), check_norm_backward<false>, run_norm_backward<false>});
  register_op(CHORUS_OP_BATCH_NORM, {sizeof(chorus_batch_norm_attrs), check_batch_norm<false>,
                                     run_batch_norm<false>});
  register_op(CHORUS_OP_BATCH_NORM_BACKWARD, {sizeof(chorus_batch_norm_attrs),
                                              check_batch_norm<true>, run_batch_norm<true>});
}

}  // namespace chorus::ops::norm
