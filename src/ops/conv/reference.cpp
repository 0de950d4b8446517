// reference.cpp — the oracle's convolutions on the normal form of
// schema.cpp (rank 4, logical NCHW, any strides; stride, dilation and
// groups >= 1, pads >= 0): x [N, C, H, W], w [C_out, C/groups, KH, KW],
// y and dy [N, C_out, OH, OW], bias and dbias [C_out]. Plain loops, each
// output element one sum in double (long double for f64 outputs) in a fixed
// order, rounded once:
//   conv2d                  y[n,o,i,j] = sum over (c, kh, kw) in that order
//                           of x * w, then + bias[o];
//   conv2d_backward_data    dx[n,c,h,w] = sum over (o, kh, kw) in that
//                           order of dy * w (the taps whose output position
//                           exists); 0 where no output reads x;
//   conv2d_backward_weight  dw[o,c,kh,kw] = sum over (n, i, j) of dy * x,
//                           dbias[o] = sum over (n, i, j) of dy.
// A tap that falls on the padding reads x as 0 and is skipped (adds
// nothing). Empty sums (C = 0; N*OH*OW = 0) still write 0, or the bias.
#include <vector>

#include "conv/conv_shape.hpp"
#include "reference_common.hpp"

namespace chorus::ops::conv {
namespace {

using namespace chorus::reference;

using Geometry = ConvShape;

Geometry geometry(const chorus_conv2d_attrs& a, const Tensor& x, const Tensor& w, const Tensor& y) {
  return conv_shape(a, x, w, y);
}

// A rank-4 tensor's values in logical row-major order, loaded once into T
// (so the sums below index plain arrays instead of switching on the dtype
// per multiply).
template <typename T>
std::vector<T> load_all(const Tensor& t) {
  std::vector<T> v;
  v.reserve(static_cast<size_t>(t.shape[0] * t.shape[1] * t.shape[2] * t.shape[3]));
  if (t.shape[0] * t.shape[1] * t.shape[2] * t.shape[3] == 0) return v;
  for_each_index(t.rank, t.shape,
                 [&](const int64_t* index) { v.push_back(load_as<T>(t, element_of(t, index))); });
  return v;
}

int64_t at4(int64_t d1, int64_t d2, int64_t d3, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  return ((i0 * d1 + i1) * d2 + i2) * d3 + i3;
}

template <typename T>
void forward(const BoundOp& op) {
  const Tensor& xt = op[0];
  const Tensor& wt = op[1];
  const Tensor* bias = op.has(2) ? &op[2] : nullptr;
  const Tensor& yt = op[3];
  const Geometry g = geometry(op.attrs_as<chorus_conv2d_attrs>(), xt, wt, yt);
  if (g.n * g.c_out * g.oh * g.ow == 0) return;
  const std::vector<T> x = load_all<T>(xt);
  const std::vector<T> w = load_all<T>(wt);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t o = 0; o < g.c_out; ++o) {
      const int64_t c0 = (o / g.cog) * g.cg;  // the group's first input channel
      const T b = bias ? load_as<T>(*bias, bias->offset + o * bias->strides[0]) : T(0);
      for (int64_t i = 0; i < g.oh; ++i)
        for (int64_t j = 0; j < g.ow; ++j) {
          T sum = 0;
          for (int64_t c = 0; c < g.cg; ++c)
            for (int64_t kh = 0; kh < g.kh; ++kh) {
              const int64_t ih = i * g.sh - g.pt + kh * g.dh;
              if (ih < 0 || ih >= g.h) continue;
              for (int64_t kw = 0; kw < g.kw; ++kw) {
                const int64_t iw = j * g.sw - g.pl + kw * g.dw;
                if (iw < 0 || iw >= g.w) continue;
                sum += x[at4(g.c, g.h, g.w, n, c0 + c, ih, iw)] *
                       w[at4(g.cg, g.kh, g.kw, o, c, kh, kw)];
              }
            }
          if (bias) sum += b;
          const int64_t at[4] = {n, o, i, j};
          store_rounded(yt, element_of(yt, at), sum);
        }
    }
}

template <typename T>
void backward_data(const BoundOp& op) {
  const Tensor& dyt = op[0];
  const Tensor& wt = op[1];
  const Tensor& dxt = op[2];
  const Geometry g = geometry(op.attrs_as<chorus_conv2d_attrs>(), dxt, wt, dyt);
  if (g.n * g.c * g.h * g.w == 0) return;
  const std::vector<T> dy = load_all<T>(dyt);
  const std::vector<T> w = load_all<T>(wt);
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t c = 0; c < g.c; ++c) {
      const int64_t group = c / g.cg, cc = c % g.cg;
      for (int64_t h = 0; h < g.h; ++h)
        for (int64_t col = 0; col < g.w; ++col) {
          T sum = 0;
          for (int64_t o = group * g.cog; o < (group + 1) * g.cog; ++o)
            for (int64_t kh = 0; kh < g.kh; ++kh) {
              // The output row i that reads row h through tap kh, if any:
              // i * sh - pt + kh * dh = h.
              const int64_t th = h + g.pt - kh * g.dh;
              if (th < 0 || th % g.sh != 0 || th / g.sh >= g.oh) continue;
              const int64_t i = th / g.sh;
              for (int64_t kw = 0; kw < g.kw; ++kw) {
                const int64_t tw = col + g.pl - kw * g.dw;
                if (tw < 0 || tw % g.sw != 0 || tw / g.sw >= g.ow) continue;
                const int64_t j = tw / g.sw;
                sum += dy[at4(g.c_out, g.oh, g.ow, n, o, i, j)] *
                       w[at4(g.cg, g.kh, g.kw, o, cc, kh, kw)];
              }
            }
          const int64_t at[4] = {n, c, h, col};
          store_rounded(dxt, element_of(dxt, at), sum);
        }
    }
}

template <typename T>
void backward_weight(const BoundOp& op) {
  const Tensor& xt = op[0];
  const Tensor& dyt = op[1];
  const Tensor& dwt = op[2];
  const Tensor* dbias = op.has(3) ? &op[3] : nullptr;
  const Geometry g = geometry(op.attrs_as<chorus_conv2d_attrs>(), xt, dwt, dyt);
  const std::vector<T> x = load_all<T>(xt);
  const std::vector<T> dy = load_all<T>(dyt);
  for (int64_t o = 0; o < g.c_out; ++o) {
    const int64_t c0 = (o / g.cog) * g.cg;
    for (int64_t c = 0; c < g.cg; ++c)
      for (int64_t kh = 0; kh < g.kh; ++kh)
        for (int64_t kw = 0; kw < g.kw; ++kw) {
          T sum = 0;
          for (int64_t n = 0; n < g.n; ++n)
            for (int64_t i = 0; i < g.oh; ++i) {
              const int64_t ih = i * g.sh - g.pt + kh * g.dh;
              if (ih < 0 || ih >= g.h) continue;
              for (int64_t j = 0; j < g.ow; ++j) {
                const int64_t iw = j * g.sw - g.pl + kw * g.dw;
                if (iw < 0 || iw >= g.w) continue;
                sum += dy[at4(g.c_out, g.oh, g.ow, n, o, i, j)] *
                       x[at4(g.c, g.h, g.w, n, c0 + c, ih, iw)];
              }
            }
          const int64_t at[4] = {o, c, kh, kw};
          store_rounded(dwt, element_of(dwt, at), sum);
        }
    if (dbias) {
      T sum = 0;
      for (int64_t n = 0; n < g.n; ++n)
        for (int64_t i = 0; i < g.oh; ++i)
          for (int64_t j = 0; j < g.ow; ++j) sum += dy[at4(g.c_out, g.oh, g.ow, n, o, i, j)];
      store_rounded(*dbias, dbias->offset + o * dbias->strides[0], sum);
    }
  }
}

// Each op in double, or long double for f64 data.
chorus_status run_forward(const BoundOp& op) {
  op[0].dtype == CHORUS_DTYPE_F64 ? forward<long double>(op) : forward<double>(op);
  return CHORUS_OK;
}
chorus_status run_backward_data(const BoundOp& op) {
  op[0].dtype == CHORUS_DTYPE_F64 ? backward_data<long double>(op) : backward_data<double>(op);
  return CHORUS_OK;
}
chorus_status run_backward_weight(const BoundOp& op) {
  op[0].dtype == CHORUS_DTYPE_F64 ? backward_weight<long double>(op) : backward_weight<double>(op);
  return CHORUS_OK;
}

}  // namespace

void register_reference() {
  chorus::reference::register_op(CHORUS_OP_CONV2D, run_forward);
  chorus::reference::register_op(CHORUS_OP_CONV2D_BACKWARD_DATA, run_backward_data);
  chorus::reference::register_op(CHORUS_OP_CONV2D_BACKWARD_WEIGHT, run_backward_weight);
}

}  // namespace chorus::ops::conv
