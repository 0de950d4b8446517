// cases.cpp — the conv folder's conformance layer (family "conv"): conv2d,
// conv2d_backward_data and conv2d_backward_weight (dw, and dbias as a case
// of its own, each written beside the other) over the float dtypes, on one
// list of geometries every op runs: NCHW and NHWC, 1-D (rank 3), strides 2
// and 3, dilation 2, asymmetric padding, groups 2 and depthwise (C_out = C
// and 2C), 1x1, 3x3, 5x5 and 1x7 kernels, output widths and channel counts
// around tile edges, with and without bias, padded, offset and permuted
// (channels-last) views, zero sizes (N = 0, C_out = 0, C = 0), input sizes
// the output never reads to the end (PyTorch's output_padding: H = 8 and
// H = 7 give the same OH with stride 2), a ResNet-like layer, and big layers
// at tier full. Tier ci runs every geometry in f32 and a subset (NHWC,
// 1-D, groups, depthwise, zero C, views, long sums) in every float dtype;
// tier full runs every dtype on every geometry.
//
// Exact cases use small integers (exact_magnitude m) and thin one operand so
// that no sum has more than `cap` non-zero terms: every partial sum is then
// an integer of magnitude <= cap m^2 + m < 2^digits, exact in the output
// dtype and the f32 accumulator whatever the order: tolerance 0. Which
// operand is thinned, per sum:
//   conv2d                 w per output channel o (y[., o, ., .] reads only w[o]);
//   conv2d_backward_data   w per (group, input channel of the group) over
//                          the group's output channels and taps;
//   conv2d_backward_weight dy per output channel (dw[o] and dbias[o] read
//                          only dy[:, o]).
// The non-zeros sit at random places (the density is cap/K where K terms
// exceed cap), then any beyond the cap are cleared.
#include "conformance/cases.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iterator>
#include <string>

#include "conformance/bounds.hpp"

namespace chorus::ops::conv {

using namespace chorus::conformance;
using namespace chorus::conformance::detail;

namespace {

// ---------------------------------------------------------------- bounds
//
// Every output element of the three ops is a dot product, as GEMM's
// (src/ops/gemm/cases.cpp), of K terms summed in any order:
//   conv2d                 K = (C/groups) KH KW products, then + bias;
//   conv2d_backward_data   K = (C_out/groups) KH KW products at most: the
//                          taps of one dx element that meet an output
//                          position (fewer where stride or padding leave
//                          holes; an implementation that adds the holes as
//                          exact zeros, as a zero-inserted dy does, adds
//                          them without error);
//   conv2d_backward_weight K = N OH OW products for dw (taps on the padding
//                          are absent or exact zeros), K = N OH OW terms
//                          for dbias (no products: K - 1 additions).
// In the compute type (u = accumulation_u: f32's for f32, f16 and bf16
// outputs, f64's for f64), a sum of K terms in any order, each a product
// rounded once or fused, carries at most K roundings on any term:
// |err| <= gamma_K S, with S = sum |x||w| (|dy||w|, |dy||x|, |dy|) computed
// by the reference on absolute values. The bias adds one more addition:
// rounds = K + 1 for conv2d, K for the gradients. To first order and
// doubled (kC): |err| <= kC rounds u S. A product or partial sum that
// lands below the normal range is off by up to half a subnormal quantum in
// absolute terms, no relative bound covers it: + kC rounds eta, eta the
// compute type's smallest subnormal. allow_tf32 (declared by the queue,
// f32 only; the GEMM rule of CONFORMANCE.md): inputs rounded to 10 fraction
// bits, u_in = 2^-11, + kC u_in S. Then R, the final rounding to the output
// dtype, and the f64 oracle's own half ulp.
BoundFn conv_bound(int64_t rounds, OpCall call) {
  return bounds::magnitude_sum(rounds, std::move(call), true);
}

// ----------------------------------------------------------- geometries

enum class Data { exact, normal };
// How the device sees the tensors: contiguous in the caller's layout,
// every row padded, every tensor at an offset, or stored in the other
// layout's order (NCHW tensors stored channels-last, NHWC ones channels-
// first: the strides are then a permutation).
using ViewKind = ImageView;

struct Geometry {
  std::string label, kind;
  Tier tier = Tier::ci;
  int64_t n = 1, c = 1, h = 1, w = 1, c_out = 1, kh = 1, kw = 1;
  int32_t sh = 1, sw = 1, pt = 0, pb = 0, pl = 0, pr = 0, dh = 1, dw = 1, groups = 1;
  bool bias = false, nhwc = false, one_d = false;
  ViewKind view = ViewKind::plain;
  Data data = Data::exact;
  bool smoke = false;                // its f32 (exact) or f16 (accuracy) cases run at tier smoke
  // Tier ci runs f32 on every geometry and the other dtypes (which differ in
  // loads, stores and f64's tiles) on these and the smoke ones; tier full
  // runs every dtype everywhere.
  bool every_dtype_at_ci = false;
  std::vector<chorus_dtype> dtypes;  // empty: every float dtype

  int64_t oh() const { return (h + pt + pb - dh * (kh - 1) - 1) / sh + 1; }
  int64_t ow() const { return (w + pl + pr - dw * (kw - 1) - 1) / sw + 1; }
  int64_t cg() const { return c / groups; }
  int64_t cog() const { return c_out / groups; }
};

HostTensor to_caller(const HostTensor& t, const Geometry& g) {
  return image_to_caller(t, g.nhwc, g.one_d);
}

// Small integers with at most `cap` non-zeros in each sum: sum_of(i) names
// the sum element i feeds, terms the number of terms of each sum.
void fill_thinned(HostTensor& t, Rng& rng, int64_t m, int64_t cap, int64_t terms,
                  const std::function<int64_t(int64_t)>& sum_of, int64_t sums) {
  const double zeros =
      terms <= cap ? 0.1 : 1.0 - 0.9 * static_cast<double>(cap) / static_cast<double>(terms);
  fill_integers(t, rng, -m, m, zeros);
  std::vector<int64_t> count(static_cast<size_t>(sums), 0);
  for (int64_t i = 0; i < t.numel(); ++i)
    if (t.get(i) != 0 && ++count[static_cast<size_t>(sum_of(i))] > cap) t.set(i, 0);
}

std::string attrs_text(const Geometry& g) {
  char text[200];
  std::snprintf(text, sizeof text,
                "layout=%s stride=%dx%d pad=t%d,b%d,l%d,r%d dilation=%dx%d groups=%d",
                g.nhwc ? "nhwc" : "nchw", g.sh, g.sw, g.pt, g.pb, g.pl, g.pr, g.dh, g.dw, g.groups);
  return text;
}

chorus_conv2d_attrs attrs_of(const Geometry& g) {
  return chorus_conv2d_attrs{sizeof(chorus_conv2d_attrs),
                             g.nhwc ? CHORUS_CONV_NHWC : CHORUS_CONV_NCHW,
                             g.sh,
                             g.sw,
                             g.pt,
                             g.pb,
                             g.pl,
                             g.pr,
                             g.dh,
                             g.dw,
                             g.groups,
                             0};
}

// One case: `kind` the op; for the weight gradient, `dbias` checks dbias
// (with dw written beside it) instead of dw.
CaseSpec conv_spec(chorus_op_kind kind, chorus_dtype d, const Geometry& g, bool dbias, Rng& rng) {
  const int64_t oh = g.oh(), ow = g.ow(), cg = g.cg(), cog = g.cog();
  HostTensor x(d, {g.n, g.c, g.h, g.w}), w(d, {g.c_out, cg, g.kh, g.kw}),
      y(d, {g.n, g.c_out, oh, ow});
  HostTensor bias = g.bias ? HostTensor(d, {g.c_out}) : HostTensor::absent();
  const bool forward = kind == CHORUS_OP_CONV2D, data = kind == CHORUS_OP_CONV2D_BACKWARD_DATA;
  // y is dy for the gradients: an input.
  if (g.data == Data::exact) {
    const int64_t m = exact_magnitude(d);
    const int64_t room = (int64_t{1} << std::min(significand_digits(d), 40)) - m;
    const int64_t cap = std::max<int64_t>(1, room / (m * m));
    const int64_t taps = g.kh * g.kw;
    if (forward) {
      fill_integers(x, rng, -m, m, 0.1);
      fill_thinned(
          w, rng, m, cap, cg * taps, [&](int64_t i) { return i / (cg * taps); }, g.c_out);
      if (bias.present) fill_integers(bias, rng, -m, m);
    } else if (data) {
      fill_integers(y, rng, -m, m, 0.1);
      // Element i of w is w[o, cc, kh, kw]: its sum is (group of o, cc).
      fill_thinned(
          w, rng, m, cap, cog * taps,
          [&](int64_t i) {
            return (i / (cg * taps)) / std::max<int64_t>(cog, 1) * cg + (i / taps) % cg;
          },
          g.groups * cg);
    } else {
      fill_integers(x, rng, -m, m, 0.1);
      fill_thinned(
          y, rng, m, cap, g.n * oh * ow, [&](int64_t i) { return (i / (oh * ow)) % g.c_out; },
          g.c_out);
    }
  } else {
    for (HostTensor* t : {&x, &w, &y}) fill_normal(*t, rng, 1);
    if (bias.present) fill_normal(bias, rng, 1);
  }

  const chorus_conv2d_attrs a = attrs_of(g);
  const auto operand = [&](const char* role, const HostTensor& logical, int64_t pad,
                           int64_t extra) {
    return image_operand(role, logical, g.nhwc, g.one_d, g.view, pad, extra);
  };
  CaseSpec s;
  int64_t rounds = 0;
  if (forward) {
    s.operands = {operand("x", x, 3, 3), operand("w", w, 2, 5), operand("bias", bias, 1, 2),
                  operand("y", HostTensor(d, y.shape), 5, 7)};
    s.output = 3;
    s.call = [a](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
      return chorus_conv2d(q, &a, t[0], t[1], t[2], t[3]);
    };
    rounds = cg * g.kh * g.kw + (g.bias ? 1 : 0);
  } else if (data) {
    s.operands = {operand("dy", y, 3, 3), operand("w", w, 2, 5),
                  operand("dx", HostTensor(d, x.shape), 5, 7)};
    s.output = 2;
    s.call = [a](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
      return chorus_conv2d_backward_data(q, &a, t[0], t[1], t[2]);
    };
    rounds = cog * g.kh * g.kw;
  } else {
    s.operands = {operand("x", x, 3, 3), operand("dy", y, 2, 5),
                  operand("dw", HostTensor(d, w.shape), 5, 7),
                  operand("dbias", g.bias ? HostTensor(d, {g.c_out}) : HostTensor::absent(), 1, 2)};
    s.output = dbias ? 3 : 2;
    if (g.bias) s.also_written = {dbias ? size_t{2} : size_t{3}};
    s.call = [a](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
      return chorus_conv2d_backward_weight(q, &a, t[0], t[1], t[2], t[3]);
    };
    rounds = g.n * oh * ow;
  }
  s.call_text = attrs_text(g);
  if (g.data == Data::exact) {
    s.check = Check::exact;
  } else {
    s.check = Check::bounded;
    s.oracle = OracleKind::wide;
    s.bound = conv_bound(rounds, s.call);
  }
  return s;
}

Geometry geo(std::string label, std::string kind, int64_t n, int64_t c, int64_t h, int64_t w,
             int64_t c_out, int64_t kh, int64_t kw) {
  Geometry g;
  g.label = std::move(label);
  g.kind = std::move(kind);
  g.n = n;
  g.c = c;
  g.h = h;
  g.w = w;
  g.c_out = c_out;
  g.kh = kh;
  g.kw = kw;
  return g;
}

void pad_all(Geometry& g, int32_t p) {
  g.pt = g.pb = g.pl = g.pr = p;
}

std::vector<Geometry> geometries() {
  std::vector<Geometry> v;
  // ---- exact: the geometry of each feature, tolerance 0
  {
    Geometry g = geo("3x3-pad1-bias", "exact", 2, 4, 12, 13, 8, 3, 3);
    pad_all(g, 1);
    g.bias = true;
    g.smoke = true;
    v.push_back(g);
  }
  {
    Geometry g = geo("nhwc-3x3-pad1-bias", "exact", 2, 4, 8, 7, 6, 3, 3);
    g.every_dtype_at_ci = true;
    pad_all(g, 1);
    g.bias = true;
    g.nhwc = true;
    v.push_back(g);
  }
  {
    Geometry g = geo("1d-k5-pad2", "exact", 3, 4, 1, 20, 6, 1, 5);
    g.pl = g.pr = 2;
    g.one_d = true;
    g.bias = true;
    v.push_back(g);
  }
  {
    Geometry g = geo("1d-nhwc-k3-stride2-dilation2", "exact", 2, 3, 1, 17, 5, 1, 3);
    g.every_dtype_at_ci = true;
    g.pl = 1;
    g.pr = 2;
    g.sw = 2;
    g.dw = 2;
    g.one_d = true;
    g.nhwc = true;
    v.push_back(g);
  }
  {
    Geometry g = geo("3x3-stride2", "exact", 2, 4, 12, 13, 8, 3, 3);
    pad_all(g, 1);
    g.sh = g.sw = 2;
    v.push_back(g);
  }
  {
    Geometry g = geo("5x5-stride3-pad2", "exact", 1, 3, 16, 17, 9, 5, 5);
    pad_all(g, 2);
    g.sh = g.sw = 3;
    g.bias = true;
    v.push_back(g);
  }
  {
    Geometry g = geo("3x3-dilation2", "exact", 2, 4, 11, 10, 8, 3, 3);
    pad_all(g, 2);
    g.dh = g.dw = 2;
    v.push_back(g);
  }
  {
    Geometry g = geo("3x3-stride1x2-dilation2x1-pad-t0b2l1r0", "exact", 2, 3, 7, 9, 4, 3, 3);
    g.pb = 2;
    g.pl = 1;
    g.sw = 2;
    g.dh = 2;
    g.bias = true;
    v.push_back(g);
  }
  {
    Geometry g = geo("groups2", "exact", 2, 8, 9, 9, 6, 3, 3);
    g.every_dtype_at_ci = true;
    pad_all(g, 1);
    g.groups = 2;
    g.bias = true;
    v.push_back(g);
  }
  {
    Geometry g = geo("groups2-nhwc-stride2", "exact", 2, 6, 9, 10, 4, 3, 3);
    pad_all(g, 1);
    g.groups = 2;
    g.sh = g.sw = 2;
    g.nhwc = true;
    v.push_back(g);
  }
  {
    Geometry g = geo("depthwise", "exact", 2, 8, 10, 10, 8, 3, 3);
    pad_all(g, 1);
    g.groups = 8;
    g.bias = true;
    v.push_back(g);
  }
  {
    Geometry g = geo("depthwise-x2-stride2-nhwc", "exact", 2, 6, 11, 11, 12, 3, 3);
    g.every_dtype_at_ci = true;
    pad_all(g, 1);
    g.groups = 6;
    g.sh = g.sw = 2;
    g.nhwc = true;
    v.push_back(g);
  }
  v.push_back(geo("1x1", "exact", 2, 16, 7, 7, 33, 1, 1));
  {
    Geometry g = geo("1x1-stride2-bias", "exact", 2, 8, 9, 9, 9, 1, 1);
    g.sh = g.sw = 2;
    g.bias = true;
    v.push_back(g);
  }
  {
    Geometry g = geo("1x7-pad-l3r3", "exact", 1, 4, 6, 20, 8, 1, 7);
    g.pl = g.pr = 3;
    v.push_back(g);
  }
  {
    Geometry g = geo("7x1-pad-t3b3-nhwc", "exact", 1, 4, 20, 6, 8, 7, 1);
    g.pt = g.pb = 3;
    g.nhwc = true;
    v.push_back(g);
  }
  // Input sizes a stride leaves partly unread: H = W = 8 and 7 both give
  // OH = OW = 4 with k 3, stride 2, pad 1 (the data gradient's
  // output_padding 1 and 0).
  for (const int64_t hw : {8, 7}) {
    Geometry g = geo("3x3-stride2-pad1-h" + std::to_string(hw), "exact", 2, 3, hw, hw, 5, 3, 3);
    pad_all(g, 1);
    g.sh = g.sw = 2;
    v.push_back(g);
  }
  // ---- edges: output widths and channel counts around tile sizes
  {
    const int64_t widths[] = {1, 7, 15, 16, 17, 33, 56};
    const int64_t channels[] = {1, 3, 8, 9, 17, 32, 33};
    for (size_t k = 0; k < std::size(widths); ++k) {
      const int64_t ow = widths[k], co = channels[k];
      Geometry g = geo("ow" + std::to_string(ow) + "-cout" + std::to_string(co), "edge", 1,
                       k % 2 ? 3 : 5, k % 2 ? 4 : 3, ow, co, 3, 3);
      pad_all(g, 1);
      g.bias = k % 3 == 0;
      v.push_back(g);
    }
  }
  // ---- zero sizes: nothing to compute, or empty sums that still write
  {
    Geometry g = geo("n0", "edge", 0, 3, 5, 5, 4, 3, 3);
    pad_all(g, 1);
    g.bias = true;  // the weight gradient: dw = 0, dbias = 0
    v.push_back(g);
    g = geo("cout0", "edge", 2, 3, 5, 5, 0, 3, 3);
    pad_all(g, 1);
    v.push_back(g);  // the data gradient: dx = 0
    g = geo("c0-bias", "edge", 2, 0, 5, 5, 4, 3, 3);
    g.every_dtype_at_ci = true;
    pad_all(g, 1);
    g.bias = true;  // y = bias
    v.push_back(g);
  }
  // ---- views (exact data: tolerance 0 on every addressing path)
  {
    Geometry g = geo("padded-groups2-bias", "view", 2, 4, 9, 11, 6, 3, 3);
    g.every_dtype_at_ci = true;
    pad_all(g, 1);
    g.groups = 2;
    g.bias = true;
    g.view = ViewKind::padded;
    v.push_back(g);
    g.label = "offset-groups2-bias";
    g.view = ViewKind::offset;
    v.push_back(g);
    g.label = "channels-last-groups2-bias";
    g.view = ViewKind::permuted;
    v.push_back(g);
    g.label = "nhwc-stored-nchw-groups2-bias";
    g.nhwc = true;
    v.push_back(g);
    g.label = "nhwc-padded-stride2-groups2-bias";
    g.view = ViewKind::padded;
    g.sh = g.sw = 2;
    v.push_back(g);
  }
  {
    Geometry g = geo("1d-offset", "view", 2, 4, 1, 19, 5, 1, 3);
    g.one_d = true;
    g.pl = 1;
    g.view = ViewKind::offset;
    v.push_back(g);
    g.label = "1d-permuted";
    g.view = ViewKind::permuted;
    v.push_back(g);
  }
  // ---- accuracy: normal data against the bound
  {
    Geometry g = geo("resnet-n2-c16-14x14-3x3-pad1-bias", "accuracy", 2, 16, 14, 14, 16, 3, 3);
    pad_all(g, 1);
    g.bias = true;
    g.data = Data::normal;
    g.smoke = true;
    v.push_back(g);
  }
  {
    Geometry g = geo("resnet-nhwc-stride2-n2-c16-14x14", "accuracy", 2, 16, 14, 14, 32, 3, 3);
    pad_all(g, 1);
    g.sh = g.sw = 2;
    g.nhwc = true;
    g.data = Data::normal;
    v.push_back(g);
  }
  {
    Geometry g = geo("5x5-stride2-groups2-nhwc-bias", "accuracy", 2, 8, 15, 15, 12, 5, 5);
    g.every_dtype_at_ci = true;
    pad_all(g, 2);
    g.sh = g.sw = 2;
    g.groups = 2;
    g.nhwc = true;
    g.bias = true;
    g.data = Data::normal;
    v.push_back(g);
  }
  {
    Geometry g = geo("dilation2-asym-pad-padded", "accuracy", 2, 6, 13, 12, 9, 3, 3);
    g.pt = 0;
    g.pb = 2;
    g.pl = 1;
    g.pr = 0;
    g.dh = g.dw = 2;
    g.view = ViewKind::padded;
    g.data = Data::normal;
    v.push_back(g);
  }
  {
    Geometry g = geo("depthwise-x2-channels-last", "accuracy", 2, 8, 12, 12, 16, 3, 3);
    pad_all(g, 1);
    g.groups = 8;
    g.view = ViewKind::permuted;
    g.bias = true;
    g.data = Data::normal;
    v.push_back(g);
  }
  {
    // Long sums: K = 64*9 = 576 for conv2d and the data gradient, 4*16*16 =
    // 1024 pixels for the weight gradient.
    Geometry g = geo("long-k-c64-n4-16x16", "accuracy", 4, 64, 16, 16, 8, 3, 3);
    g.every_dtype_at_ci = true;
    pad_all(g, 1);
    g.data = Data::normal;
    g.bias = true;
    v.push_back(g);
  }
  {
    Geometry g = geo("1d-k7-stride3", "accuracy", 4, 8, 1, 100, 12, 1, 7);
    g.one_d = true;
    g.sw = 3;
    g.pl = 3;
    g.pr = 1;
    g.bias = true;
    g.data = Data::normal;
    v.push_back(g);
  }
  // ---- tier full: a ResNet stage at batch 8
  {
    Geometry g = geo("resnet-n8-c64-56x56-3x3-pad1-bias", "accuracy", 8, 64, 56, 56, 64, 3, 3);
    pad_all(g, 1);
    g.bias = true;
    g.data = Data::normal;
    g.tier = Tier::full;
    v.push_back(g);
    // The variants in two dtypes each: every case of this size costs the
    // reference two passes of 0.9 G multiply-adds.
    g.label = "resnet-nhwc-n8-c64-56x56-3x3-pad1";
    g.nhwc = true;
    g.bias = false;
    g.dtypes = {CHORUS_DTYPE_F32, CHORUS_DTYPE_BF16};
    v.push_back(g);
    g = geo("resnet-n8-c64-56x56-3x3-pad1", "exact", 8, 64, 56, 56, 64, 3, 3);
    pad_all(g, 1);
    g.tier = Tier::full;
    g.dtypes = {CHORUS_DTYPE_F32, CHORUS_DTYPE_F16};
    v.push_back(g);
    g = geo("resnet-n8-c64-56x56-1x1-stride2-c128", "exact", 8, 64, 56, 56, 128, 1, 1);
    g.sh = g.sw = 2;
    g.tier = Tier::full;
    v.push_back(g);
  }
  return v;
}

std::string shape_of(const Geometry& g) {
  const HostTensor x = to_caller(HostTensor(CHORUS_DTYPE_F32, {g.n, g.c, g.h, g.w}), g);
  const HostTensor w = to_caller(HostTensor(CHORUS_DTYPE_F32, {g.c_out, g.cg(), g.kh, g.kw}), g);
  return "x=" + shape_text(x.shape) + " w=" + shape_text(w.shape);
}

void add_conv_cases(std::vector<CaseEntry>& cases) {
  struct OpName {
    chorus_op_kind kind;
    const char* name;
  };
  const OpName ops[] = {{CHORUS_OP_CONV2D, "conv2d"},
                        {CHORUS_OP_CONV2D_BACKWARD_DATA, "conv2d_backward_data"},
                        {CHORUS_OP_CONV2D_BACKWARD_WEIGHT, "conv2d_backward_weight"}};
  const std::vector<Geometry> all = geometries();
  for (const OpName& op : ops)
    for (const chorus_dtype d : kFloatDtypes) {
      const std::string dt = dtype_text(d);
      for (const Geometry& g : all) {
        if (!g.dtypes.empty() && std::find(g.dtypes.begin(), g.dtypes.end(), d) == g.dtypes.end())
          continue;
        const bool weight = op.kind == CHORUS_OP_CONV2D_BACKWARD_WEIGHT;
        for (const bool dbias : {false, true}) {
          if (dbias && !(weight && g.bias)) continue;
          Tier tier = g.tier;
          if (tier == Tier::ci && d != CHORUS_DTYPE_F32 && !g.smoke && !g.every_dtype_at_ci)
            tier = Tier::full;
          if (g.smoke && !dbias &&
              d == (g.data == Data::exact ? CHORUS_DTYPE_F32 : CHORUS_DTYPE_F16))
            tier = Tier::smoke;
          const chorus_op_kind kind = op.kind;
          add_case(cases,
                   std::string(op.name) + "/" + dt + "/" + g.kind + "/" + g.label +
                       (weight ? (dbias ? "/dbias" : "/dw") : ""),
                   op.name, kind, dt, shape_of(g), g.kind, tier,
                   [kind, d, g, dbias](Rng& rng) { return conv_spec(kind, d, g, dbias, rng); });
        }
      }
    }
}

}  // namespace

void register_cases() {
  register_family("conv", add_conv_cases);
}

}  // namespace chorus::ops::conv
