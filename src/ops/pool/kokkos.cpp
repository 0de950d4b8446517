// kokkos.cpp — pool2d and pool2d_backward on the Kokkos backend, in the
// normal form of schema.cpp (rank 4, logical NCHW, any strides). One work
// item of a flat RangePolicy per element written, in the compute type (f32
// for f32, f16 and bf16; f64 for f64), with the window rules of
// pool_shape.hpp and pool.cl: max takes the first position greater than
// all before it or a NaN (the last NaN wins), -inf and index -1 for a
// window with no position inside the image; avg divides the window's sum by
// pool_divisor. The gradient gathers, per dx element, over the windows that
// have it as a position, in (kh, kw) order: no atomics, the same bits on
// every run.
#include <string>

#include "kokkos_ops.hpp"
#define CHORUS_POOL_FN KOKKOS_INLINE_FUNCTION
#include "pool/pool_shape.hpp"

namespace chorus::ops::pool {

using namespace chorus::kokkos;

struct Geometry : PoolShape {
  int64_t big_off, big_st[4];      // x or dx
  int64_t small_off, small_st[4];  // y or dy
  int64_t idx_off, idx_st[4];      // indices
  int64_t x_off, x_st[4];          // backward: x
};

void strides_of(const chorus_backend_tensor* t, int64_t* off, int64_t* st) {
  *off = t ? t->offset : 0;
  for (int k = 0; k < 4; ++k) st[k] = t ? t->strides[k] : 0;
}

Geometry geometry(const chorus_pool2d_attrs& a, const chorus_backend_tensor& big,
                  const chorus_backend_tensor& small, const chorus_backend_tensor* indices,
                  const chorus_backend_tensor* x) {
  Geometry g{};
  static_cast<PoolShape&>(g) = pool_shape(a, big, small);
  strides_of(&big, &g.big_off, g.big_st);
  strides_of(&small, &g.small_off, g.small_st);
  strides_of(indices, &g.idx_off, g.idx_st);
  strides_of(x, &g.x_off, g.x_st);
  return g;
}

// Window (i, j)'s argmax in the plane at x offset `base`, as h*W + w.
template <chorus_dtype D>
KOKKOS_INLINE_FUNCTION int64_t argmax_of(const Geometry& g, const unsigned char* x, int64_t base,
                                         const int64_t* st, int64_t i, int64_t j,
                                         typename Storage<D>::compute* value) {
  using S = Storage<D>;
  using T = typename S::compute;
  int64_t best_at = -1;
  T best = -infinity<T>();
  for (int64_t kh = 0; kh < g.kh; ++kh) {
    const int64_t h = i * g.sh - g.pt + kh * g.dh;
    if (h < 0 || h >= g.h) continue;
    for (int64_t kw = 0; kw < g.kw; ++kw) {
      const int64_t w = j * g.sw - g.pl + kw * g.dw;
      if (w < 0 || w >= g.w) continue;
      const T v = S::load(x, base + h * st[2] + w * st[3]);
      if (best_at < 0) best_at = h * g.w + w;
      if (v > best || v != v) {
        best = v;
        best_at = h * g.w + w;
      }
    }
  }
  *value = best;
  return best_at;
}

template <chorus_dtype D>
void forward_kernel(const Exec& exec, const Geometry& g, const unsigned char* x, unsigned char* y,
                    int64_t* indices) {
  using S = Storage<D>;
  using T = typename S::compute;
  const int64_t items = g.n * g.c * g.oh * g.ow;
  Kokkos::parallel_for(
      "chorus::pool2d", Range(exec, 0, items), KOKKOS_LAMBDA(int64_t item) {
        int64_t at[4];
        unravel4(item, g.c, g.oh, g.ow, at);
        const int64_t n = at[0], c = at[1], i = at[2], j = at[3];
        const int64_t base = g.big_off + n * g.big_st[0] + c * g.big_st[1];
        T result;
        if (g.max) {
          const int64_t best = argmax_of<D>(g, x, base, g.big_st, i, j, &result);
          if (indices)
            indices[g.idx_off + n * g.idx_st[0] + c * g.idx_st[1] + i * g.idx_st[2] +
                    j * g.idx_st[3]] = best;
        } else {
          T sum = T(0);
          for (int64_t kh = 0; kh < g.kh; ++kh) {
            const int64_t h = i * g.sh - g.pt + kh;
            if (h < 0 || h >= g.h) continue;
            for (int64_t kw = 0; kw < g.kw; ++kw) {
              const int64_t w = j * g.sw - g.pl + kw;
              if (w < 0 || w >= g.w) continue;
              sum += S::load(x, base + h * g.big_st[2] + w * g.big_st[3]);
            }
          }
          result = sum / static_cast<T>(pool_divisor(g, i, j));
        }
        S::store(y, g.small_off + n * g.small_st[0] + c * g.small_st[1] + i * g.small_st[2] +
                        j * g.small_st[3],
                 result);
      });
}

template <chorus_dtype D>
void backward_kernel(const Exec& exec, const Geometry& g, const unsigned char* dy,
                     const unsigned char* x, const int64_t* indices, unsigned char* dx) {
  using S = Storage<D>;
  using T = typename S::compute;
  const int64_t items = g.n * g.c * g.h * g.w;
  Kokkos::parallel_for(
      "chorus::pool2d_backward", Range(exec, 0, items), KOKKOS_LAMBDA(int64_t item) {
        int64_t at[4];
        unravel4(item, g.c, g.h, g.w, at);
        const int64_t n = at[0], c = at[1], h = at[2], w = at[3];
        const int64_t here = h * g.w + w;
        const int64_t dy_base = g.small_off + n * g.small_st[0] + c * g.small_st[1];
        // What window (i, j) routes here.
        const auto routed = [&](int64_t i, int64_t j) {
          const T d = S::load(dy, dy_base + i * g.small_st[2] + j * g.small_st[3]);
          if (!g.max) return d / static_cast<T>(pool_divisor(g, i, j));
          int64_t best;
          if (indices) {
            best = indices[g.idx_off + n * g.idx_st[0] + c * g.idx_st[1] + i * g.idx_st[2] +
                           j * g.idx_st[3]];
          } else {
            T unused;
            best = argmax_of<D>(g, x, g.x_off + n * g.x_st[0] + c * g.x_st[1], g.x_st, i, j,
                                &unused);
          }
          return best == here ? d : T(0);
        };
        // The windows with (h, w) as tap (kh, kw), in (kh, kw) order: without
        // dilation window row i has tap kh = h + pt - i*sh, so i runs down.
        T sum = T(0);
        if (g.dh == 1 && g.dw == 1) {
          const int64_t th = h + g.pt, tw = w + g.pl;
          const int64_t i_hi = th / g.sh < g.oh - 1 ? th / g.sh : g.oh - 1;
          const int64_t j_hi = tw / g.sw < g.ow - 1 ? tw / g.sw : g.ow - 1;
          const int64_t i_lo = th - g.kh + 1 <= 0 ? 0 : (th - g.kh + g.sh) / g.sh;
          const int64_t j_lo = tw - g.kw + 1 <= 0 ? 0 : (tw - g.kw + g.sw) / g.sw;
          for (int64_t i = i_hi; i >= i_lo; --i)
            for (int64_t j = j_hi; j >= j_lo; --j) sum += routed(i, j);
        } else {
          for (int64_t kh = 0; kh < g.kh; ++kh) {
            const int64_t th = h + g.pt - kh * g.dh;
            if (th < 0 || th % g.sh != 0 || th / g.sh >= g.oh) continue;
            for (int64_t kw = 0; kw < g.kw; ++kw) {
              const int64_t tw = w + g.pl - kw * g.dw;
              if (tw < 0 || tw % g.sw != 0 || tw / g.sw >= g.ow) continue;
              sum += routed(th / g.sh, tw / g.sw);
            }
          }
        }
        S::store(dx, g.big_off + n * g.big_st[0] + c * g.big_st[1] + h * g.big_st[2] +
                         w * g.big_st[3],
                 sum);
      });
}

namespace {

const char* op_name(chorus_op_kind kind) {
  return kind == CHORUS_OP_POOL2D_BACKWARD ? "pool2d_backward" : "pool2d";
}

chorus_status check_pool(const BoundOp& op) {
  const char* name = op_name(op.kind);
  const bool backward = op.kind == CHORUS_OP_POOL2D_BACKWARD;
  const uint32_t slots = backward ? 4 : 3;
  if (op.count != slots)
    return unsupported(name, std::to_string(op.count) + " tensors; the op has " +
                                 std::to_string(slots) + " slots");
  const auto a = attrs_of<chorus_pool2d_attrs>(op);
  if (a.layout != CHORUS_CONV_NCHW || a.kernel_h < 1 || a.kernel_w < 1 || a.stride_h < 1 ||
      a.stride_w < 1 || a.dilation_h < 1 || a.dilation_w < 1)
    return unsupported(name,
                       "the attributes must arrive in the normal form (layout NCHW, kernel, "
                       "stride and dilation >= 1)");
  const chorus_dtype d = op[0].dtype;
  if (!is_float_dtype(d)) return unsupported_dtype(name, d);
  for (uint32_t t = 0; t < op.count; ++t) {
    if (!op.has(t)) continue;
    const bool index = t == 2;
    if (index ? op[t].dtype != CHORUS_DTYPE_I64 : op[t].dtype != d)
      return unsupported_dtype(name, op[t].dtype);
    if (op[t].rank != 4)
      return unsupported(name, "tensors must arrive in the normal form (rank 4, logical NCHW)");
  }
  if (backward && a.mode == CHORUS_POOL_MAX && !op.has(1) && !op.has(2))
    return unsupported(name, "max pooling's gradient needs indices or x");
  return CHORUS_OK;
}

const chorus_backend_tensor* optional(const BoundOp& op, uint32_t t) {
  return op.has(t) ? &op[t] : nullptr;
}

chorus_status run_forward(const Exec& exec, const BoundOp& op) {
  const Geometry g =
      geometry(attrs_of<chorus_pool2d_attrs>(op), op[0], op[1], optional(op, 2), nullptr);
  auto* indices = op.has(2) ? reinterpret_cast<int64_t*>(data_of(op[2])) : nullptr;
  with_float_dtype(op[0].dtype, [&]<chorus_dtype D>() {
    forward_kernel<D>(exec, g, data_of(op[0]), data_of(op[1]), indices);
  });
  return CHORUS_OK;
}

chorus_status run_backward(const Exec& exec, const BoundOp& op) {
  const Geometry g =
      geometry(attrs_of<chorus_pool2d_attrs>(op), op[3], op[0], optional(op, 2), optional(op, 1));
  const auto* indices = op.has(2) ? reinterpret_cast<const int64_t*>(data_of(op[2])) : nullptr;
  const unsigned char* x = op.has(1) ? data_of(op[1]) : nullptr;
  with_float_dtype(op[0].dtype, [&]<chorus_dtype D>() {
    backward_kernel<D>(exec, g, data_of(op[0]), x, indices, data_of(op[3]));
  });
  return CHORUS_OK;
}

}  // namespace

void register_kokkos() {
  const uint32_t size = sizeof(chorus_pool2d_attrs);
  register_op(CHORUS_OP_POOL2D, {size, check_pool, run_forward});
  register_op(CHORUS_OP_POOL2D_BACKWARD, {size, check_pool, run_backward});
}

}  // namespace chorus::ops::pool
