// reference.cpp — the oracle's pooling on the normal form of schema.cpp
// (rank 4, logical NCHW, any strides): x and dx [N, C, H, W], y, dy and
// indices [N, C, OH, OW]. Plain loops over each window's positions in
// row-major (kh, kw) order, skipping those outside the image:
//   max   y = x at the first position whose value is greater than every
//         earlier one, or NaN (the last NaN wins), starting from the first
//         position inside the image; y is that element copied bit for bit,
//         indices its h*W + w; a window with no position inside the image
//         gives -inf and -1;
//   avg   y = the window's sum in double (long double for f64) / divisor
//         (pool_shape.hpp), rounded once;
//   backward, each dx element one sum in double in (kh, kw) order over the
//         windows that have it as a position: dy (max: where that window's
//         argmax, from indices or recomputed from x, is this element) or
//         dy / divisor (avg); 0 where no window contributes.
#include <cmath>
#include <limits>

#include "pool/pool_shape.hpp"
#include "reference_common.hpp"

namespace chorus::ops::pool {
namespace {

using namespace chorus::reference;

int64_t at(const Tensor& t, int64_t n, int64_t c, int64_t i, int64_t j) {
  const int64_t index[4] = {n, c, i, j};
  return element_of(t, index);
}

// The argmax of window (i, j) of plane (n, c) as h*W + w, or -1.
int64_t window_argmax(const Tensor& x, const PoolShape& g, int64_t n, int64_t c, int64_t i,
                      int64_t j) {
  int64_t best_at = -1;
  long double best = -std::numeric_limits<long double>::infinity();
  for (int64_t kh = 0; kh < g.kh; ++kh) {
    const int64_t h = i * g.sh - g.pt + kh * g.dh;
    if (h < 0 || h >= g.h) continue;
    for (int64_t kw = 0; kw < g.kw; ++kw) {
      const int64_t w = j * g.sw - g.pl + kw * g.dw;
      if (w < 0 || w >= g.w) continue;
      const long double v = numeric::load(x.buffer, x.dtype, at(x, n, c, h, w));
      if (best_at < 0) best_at = h * g.w + w;
      if (v > best || std::isnan(v)) {
        best = v;
        best_at = h * g.w + w;
      }
    }
  }
  return best_at;
}

template <typename T>
void forward(const BoundOp& op) {
  const Tensor& x = op[0];
  const Tensor& y = op[1];
  const Tensor* indices = op.has(2) ? &op[2] : nullptr;
  const PoolShape g = pool_shape(op.attrs_as<chorus_pool2d_attrs>(), x, y);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t c = 0; c < g.c; ++c)
      for (int64_t i = 0; i < g.oh; ++i)
        for (int64_t j = 0; j < g.ow; ++j) {
          const int64_t out = at(y, n, c, i, j);
          if (g.max) {
            const int64_t best = window_argmax(x, g, n, c, i, j);
            if (best < 0)
              store_rounded(y, out, -std::numeric_limits<long double>::infinity());
            else
              copy_element(y, out, x, at(x, n, c, best / g.w, best % g.w));
            if (indices) store_wrapped(*indices, at(*indices, n, c, i, j),
                                       static_cast<uint64_t>(best));
            continue;
          }
          T sum = 0;
          for (int64_t kh = 0; kh < g.kh; ++kh) {
            const int64_t h = i * g.sh - g.pt + kh;
            if (h < 0 || h >= g.h) continue;
            for (int64_t kw = 0; kw < g.kw; ++kw) {
              const int64_t w = j * g.sw - g.pl + kw;
              if (w < 0 || w >= g.w) continue;
              sum += load_as<T>(x, at(x, n, c, h, w));
            }
          }
          store_rounded(y, out, sum / static_cast<T>(pool_divisor(g, i, j)));
        }
}

template <typename T>
void backward(const BoundOp& op) {
  const Tensor& dy = op[0];
  const Tensor* x = op.has(1) ? &op[1] : nullptr;
  const Tensor* indices = op.has(2) ? &op[2] : nullptr;
  const Tensor& dx = op[3];
  const PoolShape g = pool_shape(op.attrs_as<chorus_pool2d_attrs>(), dx, dy);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t c = 0; c < g.c; ++c)
      for (int64_t h = 0; h < g.h; ++h)
        for (int64_t w = 0; w < g.w; ++w) {
          T sum = 0;
          for (int64_t kh = 0; kh < g.kh; ++kh) {
            // The window row i that has row h as its tap kh, if any.
            const int64_t th = h + g.pt - kh * g.dh;
            if (th < 0 || th % g.sh != 0 || th / g.sh >= g.oh) continue;
            const int64_t i = th / g.sh;
            for (int64_t kw = 0; kw < g.kw; ++kw) {
              const int64_t tw = w + g.pl - kw * g.dw;
              if (tw < 0 || tw % g.sw != 0 || tw / g.sw >= g.ow) continue;
              const int64_t j = tw / g.sw;
              const T d = load_as<T>(dy, at(dy, n, c, i, j));
              if (!g.max) {
                sum += d / static_cast<T>(pool_divisor(g, i, j));
                continue;
              }
              const int64_t best = indices
                                       ? load_integer(*indices, at(*indices, n, c, i, j))
                                       : window_argmax(*x, g, n, c, i, j);
              if (best == h * g.w + w) sum += d;
            }
          }
          store_rounded(dx, at(dx, n, c, h, w), sum);
        }
}

chorus_status run_forward(const BoundOp& op) {
  op[0].dtype == CHORUS_DTYPE_F64 ? forward<long double>(op) : forward<double>(op);
  return CHORUS_OK;
}
chorus_status run_backward(const BoundOp& op) {
  op[0].dtype == CHORUS_DTYPE_F64 ? backward<long double>(op) : backward<double>(op);
  return CHORUS_OK;
}

}  // namespace

void register_reference() {
  chorus::reference::register_op(CHORUS_OP_POOL2D, run_forward);
  chorus::reference::register_op(CHORUS_OP_POOL2D_BACKWARD, run_backward);
}

}  // namespace chorus::ops::pool
