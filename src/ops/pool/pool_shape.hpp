// pool_shape.hpp — the sizes and attributes of a pooling in the normal form
// of schema.cpp, and the window rules every host-side implementation reads
// the same way (schema, reference, Kokkos). The portable kernel (pool.cl)
// states the same rules in kernel text.
#pragma once

#include <chorus/chorus.h>

#include <cstdint>

// The Kokkos backend defines this as KOKKOS_INLINE_FUNCTION, so that its
// kernels call pool_divisor on any execution space.
#ifndef CHORUS_POOL_FN
#define CHORUS_POOL_FN inline
#endif

namespace chorus::ops::pool {

// Output extent along one axis, as PyTorch's pooling_output_shape: floor or
// ceil of (extent + pads - span) / stride, + 1, where ceil mode drops a last
// window that would start in the trailing padding. 0 when the dilated
// kernel is larger than the padded input.
inline int64_t pool_extent(int64_t extent, int64_t pad_before, int64_t pad_after, int64_t k,
                           int64_t dilation, int64_t stride, bool ceil_mode) {
  const int64_t span = dilation * (k - 1) + 1;
  const int64_t room = extent + pad_before + pad_after - span;
  if (room < 0) return 0;
  int64_t out = (room + (ceil_mode ? stride - 1 : 0)) / stride + 1;
  if (ceil_mode && (out - 1) * stride >= extent + pad_before) --out;
  return out;
}

struct PoolShape {
  int64_t n, c, h, w;  // x, dx
  int64_t oh, ow;      // y, dy, indices
  int64_t kh, kw, sh, sw, pt, pb, pl, pr, dh, dw;
  bool max, include_pad;
  int64_t divisor_override;
};

template <typename Tensor>
PoolShape pool_shape(const chorus_pool2d_attrs& a, const Tensor& big, const Tensor& small) {
  PoolShape g{};
  g.n = big.shape[0];
  g.c = big.shape[1];
  g.h = big.shape[2];
  g.w = big.shape[3];
  g.oh = small.shape[2];
  g.ow = small.shape[3];
  g.kh = a.kernel_h;
  g.kw = a.kernel_w;
  g.sh = a.stride_h;
  g.sw = a.stride_w;
  g.pt = a.pad_top;
  g.pb = a.pad_bottom;
  g.pl = a.pad_left;
  g.pr = a.pad_right;
  g.dh = a.dilation_h;
  g.dw = a.dilation_w;
  g.max = a.mode == CHORUS_POOL_MAX;
  g.include_pad = a.count_include_pad != 0;
  g.divisor_override = a.divisor_override;
  return g;
}

// Average pooling's divisor for window (i, j), as PyTorch's avg_pool2d: the
// window clipped to the padded input (so a ceil-mode window hanging past
// the padding counts only what lies inside it) with count_include_pad,
// else clipped to the image.
CHORUS_POOL_FN int64_t pool_divisor(const PoolShape& g, int64_t i, int64_t j) {
  if (g.divisor_override > 0) return g.divisor_override;
  int64_t h0 = i * g.sh - g.pt, w0 = j * g.sw - g.pl;
  int64_t h1 = h0 + g.kh < g.h + g.pb ? h0 + g.kh : g.h + g.pb;
  int64_t w1 = w0 + g.kw < g.w + g.pr ? w0 + g.kw : g.w + g.pr;
  if (g.include_pad) return (h1 - h0) * (w1 - w0);
  h0 = h0 < 0 ? 0 : h0;
  w0 = w0 < 0 ? 0 : w0;
  h1 = h1 < g.h ? h1 : g.h;
  w1 = w1 < g.w ? w1 : g.w;
  return (h1 - h0) * (w1 - w0);
}

}  // namespace chorus::ops::pool
