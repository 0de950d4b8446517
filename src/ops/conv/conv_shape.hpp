// conv_shape.hpp — the sizes and attributes of a convolution in the normal
// form of schema.cpp, read from the record's tensors the same way by the
// reference and the Kokkos backend (any tensor type with a shape array).
#pragma once

#include <chorus/chorus.h>

#include <cstdint>

namespace chorus::ops::conv {

struct ConvShape {
  int64_t n, c, h, w;         // x (dx)
  int64_t c_out, cg, kh, kw;  // w (dw); cg = C / groups
  int64_t oh, ow;             // y (dy)
  int64_t groups, cog;        // cog = C_out / groups
  int64_t sh, sw, pt, pl, dh, dw;
};

template <typename Tensor>
ConvShape conv_shape(const chorus_conv2d_attrs& a, const Tensor& x, const Tensor& w,
                     const Tensor& y) {
  ConvShape g{};
  g.n = x.shape[0];
  g.c = x.shape[1];
  g.h = x.shape[2];
  g.w = x.shape[3];
  g.c_out = w.shape[0];
  g.cg = w.shape[1];
  g.kh = w.shape[2];
  g.kw = w.shape[3];
  g.oh = y.shape[2];
  g.ow = y.shape[3];
  g.groups = a.groups > 0 ? a.groups : 1;
  g.cog = g.c_out / g.groups;
  g.sh = a.stride_h;
  g.sw = a.stride_w;
  g.pt = a.pad_top;
  g.pl = a.pad_left;
  g.dh = a.dilation_h;
  g.dw = a.dilation_w;
  return g;
}

}  // namespace chorus::ops::conv
