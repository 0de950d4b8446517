// kokkos.cpp — conv2d, its data gradient and its weight gradient on the
// Kokkos backend, in the normal form of schema.cpp: rank 4, logical NCHW,
// any strides; x [N, C, H, W], w [C_out, C/groups, KH, KW], y and dy
// [N, C_out, OH, OW], bias and dbias [C_out]; stride, dilation and groups
// >= 1, pads >= 0.
//
// Every output element is one sum, in the compute type (f32 for f32, f16
// and bf16, f64 for f64), over its taps in a fixed order, computed by one
// work item of a flat RangePolicy and rounded once when stored: no atomics,
// no scatter, the same bits on every execution space and every run.
//   conv2d                  y[n,o,i,j] = sum over (c, kh, kw), then + bias[o].
//                           A work item computes a run of up to kRun
//                           neighbouring outputs of one row (each with its
//                           own sum, the weight loaded once per tap for all).
//   conv2d_backward_data    dx[n,c,h,w] = sum over (o in c's group, kh, kw)
//                           of dy * w (a work item: a run of up to kRun
//                           neighbouring elements of a row, each its own
//                           sum), gathered: tap (kh, kw) reads the
//                           output (i, j) with i*sh - pt + kh*dh = h (and
//                           likewise j) when that i is an integer in [0, OH).
//                           0 where no output reads x[n,c,h,w].
//   conv2d_backward_weight  dw[o,c,kh,kw] = sum over (n, i, j) of dy * x,
//                           over the rows and columns whose tap lies inside
//                           x; dbias[o] = sum over (n, i, j) of dy.
// A tap that falls on the padding reads x as 0 and is skipped (adds
// nothing), as the reference does. Empty sums (C = 0; N*OH*OW = 0) write 0,
// or the bias.
#include <string>

#include "conv/conv_shape.hpp"
#include "kokkos_ops.hpp"

namespace chorus::ops::conv {

// Kernels live in this named namespace, not an unnamed one: device compilers
// (nvcc) refuse extended lambdas in unnamed namespaces.
using namespace chorus::kokkos;

// Elements of one forward or data-gradient work item (along OW or W).
constexpr int kRun = 8;

// Sizes, attributes and the four strides and offset of each tensor.
struct Geometry : ConvShape {
  int64_t x_off, x_st[4];  // x or dx
  int64_t w_off, w_st[4];  // w or dw
  int64_t y_off, y_st[4];  // y or dy
  int64_t b_off, b_st;     // bias or dbias
};

Geometry geometry(const chorus_conv2d_attrs& a, const chorus_backend_tensor& x,
                  const chorus_backend_tensor& w, const chorus_backend_tensor& y,
                  const chorus_backend_tensor* bias) {
  Geometry g{};
  static_cast<ConvShape&>(g) = conv_shape(a, x, w, y);
  g.x_off = x.offset;
  g.w_off = w.offset;
  g.y_off = y.offset;
  for (int i = 0; i < 4; ++i) {
    g.x_st[i] = x.strides[i];
    g.w_st[i] = w.strides[i];
    g.y_st[i] = y.strides[i];
  }
  if (bias) {
    g.b_off = bias->offset;
    g.b_st = bias->strides[0];
  }
  return g;
}

// The taps k in [0, K) whose position base + k*d lies in [0, extent):
// [*lo, *hi) (empty when *lo >= *hi).
KOKKOS_INLINE_FUNCTION void inside_taps(int64_t base, int64_t d, int64_t k, int64_t extent,
                                        int64_t* lo, int64_t* hi) {
  // base + k*d >= 0  <=>  k >= ceil(-base / d);  base + k*d < extent  <=>
  // k <= floor((extent - 1 - base) / d).
  int64_t first = 0;
  if (base < 0) first = (-base + d - 1) / d;
  int64_t last = k - 1;
  if (base + last * d > extent - 1) last = extent - 1 - base < 0 ? -1 : (extent - 1 - base) / d;
  *lo = first;
  *hi = last + 1;
}

// The output positions i in [0, count) whose tap position i*s + base lies in
// [0, extent): [*lo, *hi).
KOKKOS_INLINE_FUNCTION void inside_outputs(int64_t base, int64_t s, int64_t count, int64_t extent,
                                           int64_t* lo, int64_t* hi) {
  inside_taps(base, s, count, extent, lo, hi);
}

template <chorus_dtype D>
void forward_kernel(const Exec& exec, const Geometry& g, const unsigned char* x,
                    const unsigned char* w, const unsigned char* bias, unsigned char* y) {
  using S = Storage<D>;
  using T = typename S::compute;
  const int64_t runs = (g.ow + kRun - 1) / kRun;
  const int64_t items = g.n * g.c_out * g.oh * runs;
  const bool has_bias = bias != nullptr;
  Kokkos::parallel_for(
      "chorus::conv2d", Range(exec, 0, items), KOKKOS_LAMBDA(int64_t item) {
        int64_t at[4];
        unravel4(item, g.c_out, g.oh, runs, at);
        const int64_t n = at[0], o = at[1], i = at[2], run = at[3];
        const int64_t j0 = run * kRun;
        const int count = g.ow - j0 < kRun ? static_cast<int>(g.ow - j0) : kRun;
        const int64_t c0 = (o / g.cog) * g.cg;  // the group's first input channel
        int64_t kh_lo, kh_hi;
        inside_taps(i * g.sh - g.pt, g.dh, g.kh, g.h, &kh_lo, &kh_hi);
        // Whether every tap of every output of the run lies inside the row:
        // then no column needs a check.
        const int64_t left = j0 * g.sw - g.pl;
        const bool interior = left >= 0 && (j0 + count - 1) * g.sw - g.pl + (g.kw - 1) * g.dw < g.w;
        T acc[kRun];
        for (int t = 0; t < kRun; ++t) acc[t] = T(0);
        const int64_t xn = g.x_off + n * g.x_st[0];
        const int64_t wo = g.w_off + o * g.w_st[0];
        for (int64_t c = 0; c < g.cg; ++c) {
          const int64_t xc = xn + (c0 + c) * g.x_st[1];
          const int64_t wc = wo + c * g.w_st[1];
          for (int64_t kh = kh_lo; kh < kh_hi; ++kh) {
            const int64_t xr = xc + (i * g.sh - g.pt + kh * g.dh) * g.x_st[2];
            const int64_t wr = wc + kh * g.w_st[2];
            for (int64_t kw = 0; kw < g.kw; ++kw) {
              const T wv = S::load(w, wr + kw * g.w_st[3]);
              const int64_t col = left + kw * g.dw;  // the run's first tap column
              if (interior) {
                for (int t = 0; t < count; ++t)
                  acc[t] += S::load(x, xr + (col + t * g.sw) * g.x_st[3]) * wv;
              } else {
                for (int t = 0; t < count; ++t) {
                  const int64_t iw = col + t * g.sw;
                  if (iw >= 0 && iw < g.w) acc[t] += S::load(x, xr + iw * g.x_st[3]) * wv;
                }
              }
            }
          }
        }
        const T b = has_bias ? S::load(bias, g.b_off + o * g.b_st) : T(0);
        const int64_t yr = g.y_off + n * g.y_st[0] + o * g.y_st[1] + i * g.y_st[2];
        for (int t = 0; t < count; ++t) {
          T v = acc[t];
          if (has_bias) v += b;
          S::store(y, yr + (j0 + t) * g.y_st[3], v);
        }
      });
}

// The taps k in [0, K) through which an output position q in [0, count)
// reads input position p, q*s - pad + k*d = p, are those of [*lo, *hi) with
// t = p + pad - k*d in [0, (count-1)*s] divisible by s (every one when s is 1).
KOKKOS_INLINE_FUNCTION void reading_taps(int64_t p, int64_t pad, int64_t d, int64_t k, int64_t s,
                                         int64_t count, int64_t* lo, int64_t* hi) {
  const int64_t top = p + pad;  // t at k = 0, decreasing by d per tap
  const int64_t reach = top - (count - 1) * s;
  int64_t first = reach <= 0 ? 0 : d == 1 ? reach : (reach + d - 1) / d;  // t <= (count-1)*s
  int64_t last = d == 1 ? top : top / d;                                  // t >= 0
  if (last > k - 1) last = k - 1;
  if (first > k) first = k;
  *lo = first;
  *hi = last + 1 > first ? last + 1 : first;
}

template <chorus_dtype D>
void backward_data_kernel(const Exec& exec, const Geometry& g, const unsigned char* dy,
                          const unsigned char* w, unsigned char* dx) {
  using S = Storage<D>;
  using T = typename S::compute;
  const int64_t runs = (g.w + kRun - 1) / kRun;
  const int64_t items = g.n * g.c * g.h * runs;
  Kokkos::parallel_for(
      "chorus::conv2d_backward_data", Range(exec, 0, items), KOKKOS_LAMBDA(int64_t item) {
        int64_t at[4];
        unravel4(item, g.c, g.h, runs, at);
        const int64_t n = at[0], c = at[1], row = at[2], run = at[3];
        const int64_t group = c / g.cg, cc = c - group * g.cg;
        const int64_t col0 = run * kRun;
        const int64_t col_end = g.w - col0 < kRun ? g.w : col0 + kRun;
        int64_t kh_lo, kh_hi;
        reading_taps(row, g.pt, g.dh, g.kh, g.sh, g.oh, &kh_lo, &kh_hi);
        const int64_t dyn = g.y_off + n * g.y_st[0];
        const int64_t dxr = g.x_off + n * g.x_st[0] + c * g.x_st[1] + row * g.x_st[2];
        // Each element of the run is one sum of its own, in (o, kh, kw)
        // order; the weight is loaded once per tap for the whole run. With
        // stride 1 and every tap of the run inside dy, no column needs a check.
        const int count = static_cast<int>(col_end - col0);
        const bool interior =
            g.sw == 1 && col0 + g.pl - (g.kw - 1) * g.dw >= 0 && col_end - 1 + g.pl <= g.ow - 1;
        T acc[kRun];
        for (int t = 0; t < kRun; ++t) acc[t] = T(0);
        for (int64_t o = group * g.cog; o < (group + 1) * g.cog; ++o) {
          const int64_t dyo = dyn + o * g.y_st[1];
          const int64_t wo = g.w_off + o * g.w_st[0] + cc * g.w_st[1];
          for (int64_t kh = kh_lo; kh < kh_hi; ++kh) {
            const int64_t th = row + g.pt - kh * g.dh;
            const int64_t i = g.sh == 1 ? th : th / g.sh;
            if (i * g.sh != th) continue;  // between two output rows' taps
            const int64_t dyr = dyo + i * g.y_st[2];
            const int64_t wr = wo + kh * g.w_st[2];
            for (int64_t kw = 0; kw < g.kw; ++kw) {
              const T wv = S::load(w, wr + kw * g.w_st[3]);
              const int64_t tw0 = col0 + g.pl - kw * g.dw;  // the run's first column's t
              if (interior) {
                for (int t = 0; t < count; ++t)
                  acc[t] += S::load(dy, dyr + (tw0 + t) * g.y_st[3]) * wv;
              } else {
                for (int t = 0; t < count; ++t) {
                  const int64_t tw = tw0 + t;
                  if (tw < 0) continue;
                  const int64_t j = g.sw == 1 ? tw : tw / g.sw;
                  if (j * g.sw != tw || j >= g.ow) continue;
                  acc[t] += S::load(dy, dyr + j * g.y_st[3]) * wv;
                }
              }
            }
          }
        }
        for (int t = 0; t < count; ++t) S::store(dx, dxr + (col0 + t) * g.x_st[3], acc[t]);
      });
}

template <chorus_dtype D>
void backward_weight_kernel(const Exec& exec, const Geometry& g, const unsigned char* x,
                            const unsigned char* dy, unsigned char* dw) {
  using S = Storage<D>;
  using T = typename S::compute;
  const int64_t items = g.c_out * g.cg * g.kh * g.kw;
  Kokkos::parallel_for(
      "chorus::conv2d_backward_weight", Range(exec, 0, items), KOKKOS_LAMBDA(int64_t item) {
        int64_t at[4];
        unravel4(item, g.cg, g.kh, g.kw, at);
        const int64_t o = at[0], c = at[1], kh = at[2], kw = at[3];
        const int64_t xc = g.x_off + ((o / g.cog) * g.cg + c) * g.x_st[1];
        // The output rows and columns whose tap (kh, kw) lies inside x.
        int64_t i_lo, i_hi, j_lo, j_hi;
        inside_outputs(kh * g.dh - g.pt, g.sh, g.oh, g.h, &i_lo, &i_hi);
        inside_outputs(kw * g.dw - g.pl, g.sw, g.ow, g.w, &j_lo, &j_hi);
        T sum = T(0);
        for (int64_t n = 0; n < g.n; ++n) {
          const int64_t xn = xc + n * g.x_st[0];
          const int64_t dyn = g.y_off + n * g.y_st[0] + o * g.y_st[1];
          for (int64_t i = i_lo; i < i_hi; ++i) {
            const int64_t xr = xn + (i * g.sh - g.pt + kh * g.dh) * g.x_st[2];
            const int64_t dyr = dyn + i * g.y_st[2];
            for (int64_t j = j_lo; j < j_hi; ++j)
              sum += S::load(dy, dyr + j * g.y_st[3]) *
                     S::load(x, xr + (j * g.sw - g.pl + kw * g.dw) * g.x_st[3]);
          }
        }
        S::store(dw, g.w_off + o * g.w_st[0] + c * g.w_st[1] + kh * g.w_st[2] + kw * g.w_st[3],
                 sum);
      });
}

template <chorus_dtype D>
void backward_bias_kernel(const Exec& exec, const Geometry& g, const unsigned char* dy,
                          unsigned char* dbias) {
  using S = Storage<D>;
  using T = typename S::compute;
  Kokkos::parallel_for(
      "chorus::conv2d_backward_bias", Range(exec, 0, g.c_out), KOKKOS_LAMBDA(int64_t o) {
        T sum = T(0);
        for (int64_t n = 0; n < g.n; ++n)
          for (int64_t i = 0; i < g.oh; ++i) {
            const int64_t dyr = g.y_off + n * g.y_st[0] + o * g.y_st[1] + i * g.y_st[2];
            for (int64_t j = 0; j < g.ow; ++j) sum += S::load(dy, dyr + j * g.y_st[3]);
          }
        S::store(dbias, g.b_off + o * g.b_st, sum);
      });
}

const char* op_name(chorus_op_kind kind) {
  switch (kind) {
    case CHORUS_OP_CONV2D_BACKWARD_DATA:
      return "conv2d_backward_data";
    case CHORUS_OP_CONV2D_BACKWARD_WEIGHT:
      return "conv2d_backward_weight";
    default:
      return "conv2d";
  }
}

chorus_status check_conv(const BoundOp& op) {
  const char* name = op_name(op.kind);
  const uint32_t slots = op.kind == CHORUS_OP_CONV2D_BACKWARD_DATA ? 3 : 4;
  if (op.count != slots)
    return unsupported(name, std::to_string(op.count) + " tensors; the op has " +
                                 std::to_string(slots) + " slots");
  const auto a = attrs_of<chorus_conv2d_attrs>(op);
  if (a.layout != CHORUS_CONV_NCHW || a.groups < 1 || a.stride_h < 1 || a.stride_w < 1 ||
      a.dilation_h < 1 || a.dilation_w < 1 || a.pad_top < 0 || a.pad_left < 0)
    return unsupported(name,
                       "the attributes must arrive in the normal form (layout NCHW, "
                       "stride, dilation and groups >= 1, pads >= 0)");
  const chorus_dtype d = op[0].dtype;
  if (!is_float_dtype(d)) return unsupported_dtype(name, d);
  for (uint32_t t = 0; t < op.count; ++t) {
    if (!op.has(t)) {
      // Only bias (forward) and dbias (weight gradient) are optional.
      if (op.kind == CHORUS_OP_CONV2D_BACKWARD_DATA || (op.kind == CHORUS_OP_CONV2D && t != 2) ||
          (op.kind == CHORUS_OP_CONV2D_BACKWARD_WEIGHT && t != 3))
        return unsupported(name, "a required tensor is missing");
      continue;
    }
    if (op[t].dtype != d) return unsupported_dtype(name, op[t].dtype);
    const bool is_bias = (op.kind == CHORUS_OP_CONV2D && t == 2) ||
                         (op.kind == CHORUS_OP_CONV2D_BACKWARD_WEIGHT && t == 3);
    if (op[t].rank != (is_bias ? 1u : 4u))
      return unsupported(name,
                         "tensors must arrive in the normal form (rank 4, logical NCHW; "
                         "bias rank 1)");
  }
  return CHORUS_OK;
}

const chorus_backend_tensor* optional(const BoundOp& op, uint32_t t) {
  return op.has(t) ? &op[t] : nullptr;
}

unsigned char* data_or_null(const BoundOp& op, uint32_t t) {
  return op.has(t) ? data_of(op[t]) : nullptr;
}

// check_conv ran when the op was created (the backend's op_create).
chorus_status run_forward(const Exec& exec, const BoundOp& op) {
  const Geometry g =
      geometry(attrs_of<chorus_conv2d_attrs>(op), op[0], op[1], op[3], optional(op, 2));
  with_float_dtype(op[0].dtype, [&]<chorus_dtype D>() {
    forward_kernel<D>(exec, g, data_of(op[0]), data_of(op[1]), data_or_null(op, 2), data_of(op[3]));
  });
  return CHORUS_OK;
}

chorus_status run_backward_data(const Exec& exec, const BoundOp& op) {
  const Geometry g = geometry(attrs_of<chorus_conv2d_attrs>(op), op[2], op[1], op[0], nullptr);
  with_float_dtype(op[0].dtype, [&]<chorus_dtype D>() {
    backward_data_kernel<D>(exec, g, data_of(op[0]), data_of(op[1]), data_of(op[2]));
  });
  return CHORUS_OK;
}

chorus_status run_backward_weight(const Exec& exec, const BoundOp& op) {
  const Geometry g =
      geometry(attrs_of<chorus_conv2d_attrs>(op), op[0], op[2], op[1], optional(op, 3));
  with_float_dtype(op[0].dtype, [&]<chorus_dtype D>() {
    backward_weight_kernel<D>(exec, g, data_of(op[0]), data_of(op[1]), data_of(op[2]));
    if (op.has(3)) backward_bias_kernel<D>(exec, g, data_of(op[1]), data_of(op[3]));
  });
  return CHORUS_OK;
}

void register_kokkos() {
  const uint32_t size = sizeof(chorus_conv2d_attrs);
  register_op(CHORUS_OP_CONV2D, {size, check_conv, run_forward});
  register_op(CHORUS_OP_CONV2D_BACKWARD_DATA, {size, check_conv, run_backward_data});
  register_op(CHORUS_OP_CONV2D_BACKWARD_WEIGHT, {size, check_conv, run_backward_weight});
}

}  // namespace chorus::ops::conv
