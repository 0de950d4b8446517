// kokkos.cpp — cross-entropy from logits and its gradient on the Kokkos
// backend, in the rows normal form of schema.cpp: the class axis last; the
// target, and the loss or dloss of reduction none, extent 1 there (stride 0);
// the loss or dloss of mean and sum extent 1 everywhere (one element).
//
// One TeamPolicy team per row (sample). Its maximum is an exact IEEE maximum
// (a NaN wins) and its sums fixed-chunk sums (kokkos_rows.hpp), so every
// execution space gives the same bits run after run. The semantics are
// reference.cpp's: lse = m + log(sum e^(x - m));
//   loss = (1 - s)(lse - x_t) + s (lse - mean(x)), a term with weight 0 left
//          out, 0 when t is ignore_index, NaN when t is outside [0, C);
//   dlogits_c = w (e^(x_c - lse) - s/C - (1 - s)[c = t]).
// mean and sum: each row's (loss, counted) goes to a scratch view, and one
// thread adds them in row order (the same order as the OpenCL kernels).
// dlogits may be logits itself: a row's writes come after all of its reads,
// each element written by the thread that read it.
#include <string>

#include "kokkos_ops.hpp"
#include "kokkos_rows.hpp"

namespace chorus::ops::loss {

// Kernels live in this named namespace, not an unnamed one: device compilers
// (nvcc) refuse extended lambdas in unnamed namespaces.
using namespace chorus::kokkos;

struct LossParams {
  int64_t n;                    // classes
  int64_t x_stride, dx_stride;  // along the class axis
  int64_t loss_offset;          // mean and sum: the one loss / dloss element
  int32_t ignore_index;
  bool per_sample;  // reduction none
  bool mean;
  double smoothing;
};

// A row's statistics, every thread of the team getting them.
template <typename T>
struct RowStats {
  T lse, mean_x;
  int64_t t;
  bool ignored, valid;
};

template <typename T, typename S, typename XAt>
KOKKOS_INLINE_FUNCTION RowStats<T> row_stats(const Member& team, const Scratch<T>& partial,
                                             const LossParams& p, int64_t target, bool with_mean,
                                             const XAt& x_at) {
  RowStats<T> r;
  r.t = target;
  r.ignored = target == static_cast<int64_t>(p.ignore_index);
  r.valid = !r.ignored && target >= 0 && target < p.n;
  const T m = row_max<T>(team, p.n, x_at);
  const T s = chunked_sum<T>(team, partial, p.n, [&](int64_t j) { return math::exp(x_at(j) - m); });
  r.lse = m + math::log(s);
  r.mean_x = with_mean ? chunked_sum<T>(team, partial, p.n, x_at) / static_cast<T>(p.n) : T(0);
  return r;
}

template <typename T>
KOKKOS_INLINE_FUNCTION T loss_of(const RowStats<T>& r, T x_t, T smoothing) {
  if (r.ignored) return T(0);
  if (!r.valid) return quiet_nan<T>();
  T l = T(0);
  if (smoothing < T(1)) l = (T(1) - smoothing) * (r.lse - x_t);
  if (smoothing > T(0)) l += smoothing * (r.lse - r.mean_x);
  return l;
}

template <chorus_dtype D, chorus_dtype TD>
void cross_entropy_kernel(const Exec& exec, const Walk<4>& rows, const LossParams& p,
                          const unsigned char* x, const unsigned char* target,
                          unsigned char* loss) {
  using S = Storage<D>;
  using T = typename S::compute;
  // Row r's loss at 2r, 1 (counted) or 0 (ignored) at 2r + 1.
  Kokkos::View<T*, Memory> part(Kokkos::view_alloc(Kokkos::WithoutInitializing, "chorus::ce part"),
                                p.per_sample ? 0 : 2 * rows.count);
  if (rows.count > 0)
    Kokkos::parallel_for(
        "chorus::cross_entropy", row_policy<T>(exec, rows.count),
        KOKKOS_LAMBDA(const Member& team) {
          int64_t at[4];
          const int64_t row = team.league_rank();
          rows.locate(row, at);
          const Scratch<T> partial(team.team_scratch(0), kRowChunks);
          const auto x_at = [&](int64_t j) { return S::load(x, at[0] + j * p.x_stride); };
          const T smoothing = static_cast<T>(p.smoothing);
          const RowStats<T> r = row_stats<T, S>(team, partial, p, Storage<TD>::load(target, at[1]),
                                                smoothing > T(0), x_at);
          const T l = loss_of(r, r.valid ? x_at(r.t) : T(0), smoothing);
          Kokkos::single(Kokkos::PerTeam(team), [&]() {
            if (p.per_sample) {
              S::store(loss, at[2], l);
            } else {
              part(2 * row) = l;
              part(2 * row + 1) = r.ignored ? T(0) : T(1);
            }
          });
        });
  if (!p.per_sample) {
    const int64_t count = rows.count;
    Kokkos::parallel_for(
        "chorus::cross_entropy_finish", Range(exec, 0, 1), KOKKOS_LAMBDA(int64_t) {
          T total = T(0), counted = T(0);
          for (int64_t r = 0; r < count; ++r) {
            total += part(2 * r);
            counted += part(2 * r + 1);
          }
          S::store(loss, p.loss_offset, p.mean ? total / counted : total);
        });
    exec.fence();  // part is freed on return
  }
}

template <chorus_dtype D, chorus_dtype TD>
void cross_entropy_backward_kernel(const Exec& exec, const Walk<4>& rows, const LossParams& p,
                                   const unsigned char* x, const unsigned char* target,
                                   const unsigned char* dloss, unsigned char* dx) {
  using S = Storage<D>;
  using T = typename S::compute;
  if (rows.count == 0) return;
  // mean: the samples not ignored, counted in row order by one thread.
  Kokkos::View<T*, Memory> counted("chorus::ce counted", 1);
  if (p.mean)
    Kokkos::parallel_for(
        "chorus::cross_entropy_count", Range(exec, 0, 1), KOKKOS_LAMBDA(int64_t) {
          T c = T(0);
          for (int64_t row = 0; row < rows.count; ++row) {
            int64_t at[4];
            rows.locate(row, at);
            if (Storage<TD>::load(target, at[1]) != static_cast<int64_t>(p.ignore_index)) c += T(1);
          }
          counted(0) = c;
        });
  Kokkos::parallel_for(
      "chorus::cross_entropy_backward", row_policy<T>(exec, rows.count),
      KOKKOS_LAMBDA(const Member& team) {
        int64_t at[4];
        rows.locate(team.league_rank(), at);
        const Scratch<T> partial(team.team_scratch(0), kRowChunks);
        const auto x_at = [&](int64_t j) { return S::load(x, at[0] + j * p.x_stride); };
        const T smoothing = static_cast<T>(p.smoothing);
        const RowStats<T> r =
            row_stats<T, S>(team, partial, p, Storage<TD>::load(target, at[1]), false, x_at);
        T w = S::load(dloss, p.per_sample ? at[2] : p.loss_offset);
        if (p.mean) w = w / counted(0);
        const T spread = smoothing / static_cast<T>(p.n);
        Kokkos::parallel_for(Kokkos::TeamThreadRange(team, p.n), [&](int64_t j) {
          T v = r.ignored ? T(0) : quiet_nan<T>();
          if (r.valid) {
            v = w * (math::exp(x_at(j) - r.lse) - spread);
            if (j == r.t) v = w * ((math::exp(x_at(j) - r.lse) - spread) - (T(1) - smoothing));
          }
          S::store(dx, at[3] + j * p.dx_stride, v);
        });
      });
  exec.fence();  // counted is freed on return
}

// Slots: cross_entropy [logits, target, loss], cross_entropy_backward
// [logits, target, dloss, dlogits].
template <bool Backward>
chorus_status check_cross_entropy(const BoundOp& op) {
  const char* name = Backward ? "cross_entropy_backward" : "cross_entropy";
  const uint32_t slots = Backward ? 4u : 3u;
  if (op.count != slots)
    return unsupported(name, std::to_string(op.count) + " tensors; the op has " +
                                 std::to_string(slots) + " slots");
  const chorus_backend_tensor& x = op[0];
  if (x.rank == 0) return unsupported(name, "logits has rank 0");
  if (!is_float_dtype(x.dtype)) return unsupported_dtype(name, x.dtype);
  if (!is_signed_int_dtype(op[1].dtype)) return unsupported_dtype(name, op[1].dtype);
  for (uint32_t i = 0; i < op.count; ++i) {
    if (!op.has(i)) return unsupported(name, "tensor " + std::to_string(i) + " is absent");
    if (op[i].rank != x.rank)
      return unsupported(name, "every tensor must have logits' rank (the normal form)");
    if (i != 1 && op[i].dtype != x.dtype) return unsupported_dtype(name, op[i].dtype);
  }
  const auto a = attrs_of<chorus_cross_entropy_attrs>(op);
  if (a.reduction > CHORUS_REDUCTION_SUM)
    return unsupported(name, "reduction " + std::to_string(a.reduction) + " is not one it knows");
  return CHORUS_OK;
}

template <bool Backward>
chorus_status run_cross_entropy(const Exec& exec, const BoundOp& op) {
  if (const chorus_status s = check_cross_entropy<Backward>(op)) return s;
  const auto a = attrs_of<chorus_cross_entropy_attrs>(op);
  const chorus_backend_tensor& x = op[0];
  const chorus_backend_tensor& target = op[1];
  const chorus_backend_tensor& loss = op[2];
  const chorus_backend_tensor* dx = Backward ? &op[3] : nullptr;
  const bool per_sample = a.reduction == CHORUS_REDUCTION_NONE;
  const uint32_t last = x.rank - 1;
  const chorus_backend_tensor* const views[4] = {&x, &target, per_sample ? &loss : nullptr, dx};
  const Walk<4> rows = make_walk<4>(0, last, x.shape, views);
  const LossParams p{x.shape[last],
                     x.strides[last],
                     dx ? dx->strides[last] : 0,
                     loss.offset,
                     a.ignore_index,
                     per_sample,
                     a.reduction == CHORUS_REDUCTION_MEAN,
                     a.label_smoothing};
  with_float_dtype(x.dtype, [&]<chorus_dtype D>() {
    with_signed_int_dtype(target.dtype, [&]<chorus_dtype TD>() {
      if constexpr (Backward)
        cross_entropy_backward_kernel<D, TD>(exec, rows, p, data_of(x), data_of(target),
                                             data_of(loss), data_of(*dx));
      else
        cross_entropy_kernel<D, TD>(exec, rows, p, data_of(x), data_of(target), data_of(loss));
    });
  });
  return CHORUS_OK;
}

void register_kokkos() {
  register_op(CHORUS_OP_CROSS_ENTROPY, {sizeof(chorus_cross_entropy_attrs),
                                        check_cross_entropy<false>, run_cross_entropy<false>});
  register_op(CHORUS_OP_CROSS_ENTROPY_BACKWARD,
              {sizeof(chorus_cross_entropy_attrs), check_cross_entropy<true>,
               run_cross_entropy<true>});
}

}  // namespace chorus::ops::loss
