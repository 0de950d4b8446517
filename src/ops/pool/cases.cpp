// cases.cpp — the pool folder's conformance layer (family "pool"): pool2d
// (max: y, and indices as a case of its own with y written beside; avg: y)
// and pool2d_backward (max through indices, max through x, avg) over the
// float dtypes, on one list of geometries: NCHW and NHWC, 1-D (rank 3),
// kernels 1x1 to 5x5 and 1x7, stride equal to the kernel, smaller
// (overlapping windows) and larger (skipped positions), padding per side up
// to half the kernel, dilation (max), ceil mode with a last window hanging
// into or past the padding, count_include_pad both ways, divisor_override,
// padded, offset and channels-last views, zero sizes (N = 0, C = 0), and a
// big layer at tier full. Tier ci runs every geometry in f32 and a few
// (NHWC, ceil mode, special values, views, normal data) in every float
// dtype; tier full runs every geometry in every dtype.
//
// How each output is judged:
//   max y          exact, sign of zero included: y is one element of x.
//                  Small integers with many ties and zeros of both signs
//                  test "the first of equal values"; a special-value case
//                  puts NaN, +-inf and +-0 in the windows (NaN wins, the
//                  last NaN; -inf windows pick their first position).
//   max indices    exact.
//   avg y          bounded: K - 1 additions and one division of the
//                  window's K <= KH*KW terms, each term carrying at most K
//                  roundings (bounds::magnitude_sum with rounds = K).
//   backward       max: dx sums at most KH*KW dy values (the windows that
//                  pick it), exact on small integers (every partial sum an
//                  integer far below 2^digits) and bounded on normal data
//                  (rounds = K); avg: each term dy/divisor rounded once,
//                  then K - 1 additions: rounds = K.
// The indices the backward cases get are drawn, not computed: for each
// window a random position of the window, or (one in eight) a value no
// window owns (-1, H*W, a huge value, another window's position in a
// different row): an implementation must route through valid indices and
// never follow the others. Every dx element is checked, so an
// implementation that leaves untouched elements unwritten fails.
#include "conformance/cases.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "conformance/bounds.hpp"

namespace chorus::ops::pool {

using namespace chorus::conformance;
using namespace chorus::conformance::detail;

namespace {

enum class Data { exact, normal, special };
using ViewKind = ImageView;

struct Geometry {
  std::string label, kind;
  Tier tier = Tier::ci;
  int64_t n = 1, c = 1, h = 1, w = 1;
  int32_t kh = 1, kw = 1, sh = 0, sw = 0, pt = 0, pb = 0, pl = 0, pr = 0, dh = 1, dw = 1;
  bool ceil = false, include_pad = true, nhwc = false, one_d = false;
  int32_t divisor = 0;
  bool avg = true, max = true;  // which modes run it
  ViewKind view = ViewKind::plain;
  Data data = Data::exact;
  std::vector<chorus_dtype> dtypes;  // empty: every float dtype
  // Tier ci runs f32 on every geometry and the other dtypes (whose loads
  // and stores are the only code that differs) on these; tier full all.
  bool every_dtype_at_ci = false;

  int64_t stride_h() const { return sh ? sh : kh; }
  int64_t stride_w() const { return sw ? sw : kw; }
  static int64_t extent(int64_t in, int64_t p0, int64_t p1, int64_t k, int64_t d, int64_t s,
                        bool ceil_mode) {
    const int64_t room = in + p0 + p1 - d * (k - 1) - 1;
    int64_t out = (room + (ceil_mode ? s - 1 : 0)) / s + 1;
    if (ceil_mode && (out - 1) * s >= in + p0) --out;
    return out;
  }
  int64_t oh(bool max_mode) const {
    return extent(h, pt, pb, kh, max_mode ? dh : 1, stride_h(), ceil);
  }
  int64_t ow(bool max_mode) const {
    return extent(w, pl, pr, kw, max_mode ? dw : 1, stride_w(), ceil);
  }
};

HostTensor to_caller(const HostTensor& t, const Geometry& g) {
  return image_to_caller(t, g.nhwc, g.one_d);
}

chorus_pool2d_attrs attrs_of(const Geometry& g, bool max) {
  chorus_pool2d_attrs a{};
  a.struct_size = sizeof a;
  a.mode = max ? CHORUS_POOL_MAX : CHORUS_POOL_AVG;
  a.layout = g.nhwc ? CHORUS_CONV_NHWC : CHORUS_CONV_NCHW;
  a.kernel_h = g.kh;
  a.kernel_w = g.kw;
  a.stride_h = g.sh;
  a.stride_w = g.sw;
  a.pad_top = g.pt;
  a.pad_bottom = g.pb;
  a.pad_left = g.pl;
  a.pad_right = g.pr;
  a.dilation_h = max ? g.dh : 1;
  a.dilation_w = max ? g.dw : 1;
  a.ceil_mode = g.ceil ? 1 : 0;
  a.count_include_pad = !max && g.include_pad ? 1 : 0;
  a.divisor_override = max ? 0 : g.divisor;
  return a;
}

std::string attrs_text(const Geometry& g, bool max) {
  char text[240];
  std::snprintf(text, sizeof text,
                "mode=%s layout=%s kernel=%dx%d stride=%dx%d pad=t%d,b%d,l%d,r%d dilation=%dx%d "
                "ceil_mode=%d count_include_pad=%d divisor_override=%d",
                max ? "max" : "avg", g.nhwc ? "nhwc" : "nchw", g.kh, g.kw, g.sh, g.sw, g.pt, g.pb,
                g.pl, g.pr, max ? g.dh : 1, max ? g.dw : 1, g.ceil ? 1 : 0,
                !max && g.include_pad ? 1 : 0, max ? 0 : g.divisor);
  return text;
}

// x's values: small integers with zeros of both signs (exact), normal, or a
// mix of small integers and special values (NaN, +-inf, +-0).
void fill_x(HostTensor& x, const Geometry& g, Rng& rng) {
  const chorus_dtype d = x.dtype;
  if (g.data == Data::normal) {
    fill_normal(x, rng, 1);
    return;
  }
  const int64_t m = exact_magnitude(d);
  fill_integers(x, rng, -m, m, 0.15);
  for (int64_t i = 0; i < x.numel(); ++i)
    if (x.get(i) == 0 && rng.chance(0.5)) x.set(i, -0.0L);
  if (g.data == Data::special) {
    const long double inf = std::numeric_limits<long double>::infinity();
    const long double nan = std::numeric_limits<long double>::quiet_NaN();
    const long double specials[] = {nan, inf, -inf, -inf, 0.0L, -0.0L};
    for (int64_t i = 0; i < x.numel(); ++i)
      if (rng.chance(0.2)) x.set(i, specials[rng.integer(0, 5)]);
    // A plane of -inf only: its windows pick their first position.
    const int64_t plane = g.h * g.w;
    if (x.numel() >= 2 * plane)
      for (int64_t i = plane; i < 2 * plane; ++i) x.set(i, -inf);
  }
}

// Drawn indices for the backward cases (see the file comment).
void fill_indices(HostTensor& idx, const Geometry& g, Rng& rng) {
  const int64_t oh = g.oh(true), ow = g.ow(true);
  const int64_t sh = g.stride_h(), sw = g.stride_w();
  for (int64_t e = 0; e < idx.numel(); ++e) {
    const int64_t j = e % ow, i = (e / ow) % oh;
    int64_t v = -1;
    if (rng.chance(0.125)) {
      const int64_t bad[] = {-1, g.h * g.w, int64_t{1} << 40,
                             ((i + 1) % g.h) * g.w + (j * sw) % g.w};
      v = bad[rng.integer(0, 3)];
    } else {
      // A random tap of the window inside the image (tries, then the
      // window's first tap inside; -1 if it has none).
      for (int tries = 0; tries < 16 && v < 0; ++tries) {
        const int64_t hh = i * sh - g.pt + rng.integer(0, g.kh - 1) * g.dh;
        const int64_t ww = j * sw - g.pl + rng.integer(0, g.kw - 1) * g.dw;
        if (hh >= 0 && hh < g.h && ww >= 0 && ww < g.w) v = hh * g.w + ww;
      }
    }
    idx.set(e, static_cast<long double>(v));
  }
}

enum class Op { max_y, max_indices, avg_y, back_max_indices, back_max_x, back_avg };

const char* op_label(Op op) {
  switch (op) {
    case Op::max_y:
      return "max/y";
    case Op::max_indices:
      return "max/indices";
    case Op::avg_y:
      return "avg/y";
    case Op::back_max_indices:
      return "max/through-indices";
    case Op::back_max_x:
      return "max/through-x";
    default:
      return "avg";
  }
}

bool is_max(Op op) { return op != Op::avg_y && op != Op::back_avg; }
bool is_backward(Op op) {
  return op == Op::back_max_indices || op == Op::back_max_x || op == Op::back_avg;
}

CaseSpec pool_spec(Op op, chorus_dtype d, const Geometry& g, Rng& rng) {
  const bool max = is_max(op);
  const int64_t oh = g.oh(max), ow = g.ow(max);
  HostTensor x(d, {g.n, g.c, g.h, g.w}), y(d, {g.n, g.c, oh, ow});
  HostTensor idx(CHORUS_DTYPE_I64, {g.n, g.c, oh, ow});
  const chorus_pool2d_attrs a = attrs_of(g, max);
  const auto operand = [&](const char* role, const HostTensor& logical, int64_t pad,
                           int64_t extra) {
    return image_operand(role, logical, g.nhwc, g.one_d, g.view, pad, extra);
  };
  const int64_t taps = int64_t{g.kh} * g.kw;
  CaseSpec s;
  s.call_text = attrs_text(g, max);
  if (!is_backward(op)) {
    fill_x(x, g, rng);
    const bool indices = op == Op::max_indices;
    s.operands = {operand("x", x, 3, 3), operand("y", HostTensor(d, y.shape), 5, 7),
                  operand("indices", indices ? idx : HostTensor::absent(), 2, 5)};
    s.output = indices ? 2 : 1;
    if (indices) s.also_written = {1};
    s.call = [a](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
      return chorus_pool2d(q, &a, t[0], t[1], t[2]);
    };
    if (op == Op::avg_y) {
      s.check = Check::bounded;
      s.oracle = OracleKind::wide;
      s.bound = bounds::magnitude_sum(taps, s.call, false);
    } else {
      s.check = indices ? Check::exact : Check::exact_signed;
    }
    return s;
  }
  // The gradients: dy small integers (exact sums) or normal.
  if (g.data == Data::normal) {
    fill_normal(y, rng, 1);
  } else {
    fill_integers(y, rng, -exact_magnitude(d), exact_magnitude(d), 0.1);
  }
  const bool through_x = op == Op::back_max_x;
  if (through_x) fill_x(x, g, rng);
  if (op == Op::back_max_indices) fill_indices(idx, g, rng);
  s.operands = {operand("dy", y, 3, 3), operand("x", through_x ? x : HostTensor::absent(), 2, 5),
                operand("indices", op == Op::back_max_indices ? idx : HostTensor::absent(), 1, 2),
                operand("dx", HostTensor(d, x.shape), 5, 7)};
  s.output = 3;
  s.call = [a](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
    return chorus_pool2d_backward(q, &a, t[0], t[1], t[2], t[3]);
  };
  if (max && g.data != Data::normal) {
    s.check = Check::exact;
  } else {
    s.check = Check::bounded;
    s.oracle = OracleKind::wide;
    // x and indices choose where dy goes: the magnitudes run keeps them.
    s.bound = bounds::magnitude_sum(taps, s.call, false, {1, 2});
  }
  return s;
}

Geometry geo(std::string label, std::string kind, int64_t n, int64_t c, int64_t h, int64_t w,
             int32_t kh, int32_t kw) {
  Geometry g;
  g.label = std::move(label);
  g.kind = std::move(kind);
  g.n = n;
  g.c = c;
  g.h = h;
  g.w = w;
  g.kh = kh;
  g.kw = kw;
  return g;
}

void pad_all(Geometry& g, int32_t p) { g.pt = g.pb = g.pl = g.pr = p; }

std::vector<Geometry> geometries() {
  std::vector<Geometry> v;
  v.push_back(geo("2x2", "exact", 2, 3, 8, 10, 2, 2));
  {
    Geometry g = geo("3x3-stride2-pad1", "exact", 2, 3, 9, 11, 3, 3);
    g.sh = g.sw = 2;
    pad_all(g, 1);
    v.push_back(g);
  }
  {
    Geometry g = geo("3x3-stride1-pad1-nhwc", "exact", 2, 5, 7, 6, 3, 3);
    g.every_dtype_at_ci = true;
    g.sh = g.sw = 1;
    pad_all(g, 1);
    g.nhwc = true;
    v.push_back(g);
  }
  {
    Geometry g = geo("2x3-stride3x1-pad-t1b0l0r1", "exact", 1, 4, 9, 8, 2, 3);
    g.sh = 3;
    g.sw = 1;
    g.pt = 1;
    g.pr = 1;
    v.push_back(g);
  }
  {
    Geometry g = geo("3x3-stride2-ceil-pad1", "exact", 2, 3, 8, 10, 3, 3);
    g.every_dtype_at_ci = true;
    g.sh = g.sw = 2;
    pad_all(g, 1);
    g.ceil = true;
    v.push_back(g);
    g.label = "3x3-stride2-ceil-pad1-exclude-pad";
    g.include_pad = false;
    v.push_back(g);
  }
  {
    // Ceil mode with no padding: the last window hangs past the image.
    Geometry g = geo("3x3-stride2-ceil-nopad-nhwc", "exact", 2, 4, 10, 9, 3, 3);
    g.sh = g.sw = 2;
    g.ceil = true;
    g.nhwc = true;
    v.push_back(g);
  }
  {
    Geometry g = geo("5x5-stride3-pad2-exclude-pad", "exact", 1, 3, 13, 14, 5, 5);
    g.sh = g.sw = 3;
    pad_all(g, 2);
    g.include_pad = false;
    v.push_back(g);
  }
  {
    Geometry g = geo("3x3-divisor-override5", "exact", 2, 3, 7, 7, 3, 3);
    g.sh = g.sw = 2;
    pad_all(g, 1);
    g.divisor = 5;
    g.max = false;
    v.push_back(g);
  }
  {
    // Dilation (max only); with pad 2 on a dilated 2x2 some windows of a
    // 1-row image have no position inside it (y -inf, index -1).
    Geometry g = geo("3x3-dilation2-pad2", "exact", 2, 3, 9, 10, 3, 3);
    g.sh = g.sw = 1;
    g.dh = g.dw = 2;
    pad_all(g, 2);
    g.avg = false;
    v.push_back(g);
    g = geo("2x2-dilation3-empty-windows", "exact", 1, 3, 2, 7, 2, 2);
    g.sh = g.sw = 1;
    g.dh = g.dw = 3;
    g.pt = g.pb = 2;
    g.avg = false;
    v.push_back(g);
  }
  {
    Geometry g = geo("1x1-stride2", "exact", 2, 3, 7, 7, 1, 1);
    g.sh = g.sw = 2;
    v.push_back(g);
  }
  {
    Geometry g = geo("2x2-stride3-skips", "exact", 1, 2, 11, 11, 2, 2);
    g.sh = g.sw = 3;
    v.push_back(g);
  }
  {
    Geometry g = geo("1d-k3-stride2-pad1", "exact", 2, 4, 1, 19, 1, 3);
    g.sh = 1;
    g.sw = 2;
    g.pl = g.pr = 1;
    g.one_d = true;
    v.push_back(g);
    g.label = "1d-nhwc-k7-stride1-pad3-ceil";
    g.kw = 7;
    g.sw = 1;
    g.pl = g.pr = 3;
    g.nhwc = true;
    g.ceil = true;
    v.push_back(g);
  }
  // ---- NaN, infinities and signed zeros in the windows
  {
    Geometry g = geo("special-3x3-stride2-pad1", "special", 2, 3, 9, 9, 3, 3);
    g.every_dtype_at_ci = true;
    g.sh = g.sw = 2;
    pad_all(g, 1);
    g.data = Data::special;
    g.avg = false;
    v.push_back(g);
  }
  // ---- zero sizes
  v.push_back(geo("n0", "edge", 0, 3, 6, 6, 2, 2));
  v.push_back(geo("c0", "edge", 2, 0, 6, 6, 2, 2));
  // ---- views
  {
    Geometry g = geo("padded-3x3-stride2-pad1", "view", 2, 3, 9, 10, 3, 3);
    g.every_dtype_at_ci = true;
    g.sh = g.sw = 2;
    pad_all(g, 1);
    g.view = ViewKind::padded;
    v.push_back(g);
    g.label = "offset-3x3-stride2-pad1";
    g.view = ViewKind::offset;
    v.push_back(g);
    g.label = "channels-last-3x3-stride2-pad1";
    g.view = ViewKind::permuted;
    v.push_back(g);
    g.label = "nhwc-stored-nchw-3x3-stride2-pad1";
    g.nhwc = true;
    v.push_back(g);
  }
  // ---- accuracy: normal data
  {
    Geometry g = geo("resnet-stem-3x3-stride2-pad1", "accuracy", 2, 8, 28, 28, 3, 3);
    g.every_dtype_at_ci = true;
    g.sh = g.sw = 2;
    pad_all(g, 1);
    g.data = Data::normal;
    v.push_back(g);
    g = geo("7x7-stride1-pad3-nhwc", "accuracy", 2, 6, 14, 14, 7, 7);
    g.sh = g.sw = 1;
    pad_all(g, 3);
    g.nhwc = true;
    g.data = Data::normal;
    v.push_back(g);
  }
  // ---- tier full: a ResNet stem's pooling at batch 8
  {
    Geometry g = geo("resnet-n8-c64-112x112-3x3-stride2-pad1", "accuracy", 8, 64, 112, 112, 3, 3);
    g.sh = g.sw = 2;
    pad_all(g, 1);
    g.data = Data::normal;
    g.tier = Tier::full;
    g.dtypes = {CHORUS_DTYPE_F32, CHORUS_DTYPE_BF16};
    v.push_back(g);
    g.label = "resnet-nhwc-n8-c64-112x112-3x3-stride2-pad1";
    g.nhwc = true;
    g.data = Data::exact;
    g.dtypes = {CHORUS_DTYPE_F16};
    v.push_back(g);
  }
  return v;
}

std::string shape_of(const Geometry& g) {
  const HostTensor x = to_caller(HostTensor(CHORUS_DTYPE_F32, {g.n, g.c, g.h, g.w}), g);
  char k[64];
  std::snprintf(k, sizeof k, " kernel=%dx%d", g.kh, g.kw);
  return "x=" + shape_text(x.shape) + k;
}

void add_pool_cases(std::vector<CaseEntry>& cases) {
  const Op forward_ops[] = {Op::max_y, Op::max_indices, Op::avg_y};
  const Op backward_ops[] = {Op::back_max_indices, Op::back_max_x, Op::back_avg};
  const std::vector<Geometry> all = geometries();
  for (const bool backward : {false, true})
    for (const Op op : backward ? backward_ops : forward_ops)
      for (const chorus_dtype d : kFloatDtypes) {
        const std::string dt = dtype_text(d);
        for (const Geometry& g : all) {
          if (!g.dtypes.empty() && std::find(g.dtypes.begin(), g.dtypes.end(), d) == g.dtypes.end())
            continue;
          if (is_max(op) ? !g.max : !g.avg) continue;
          // Special values mean nothing to the indices route (x unread).
          if (g.data == Data::special && op == Op::back_max_indices) continue;
          const char* name = backward ? "pool2d_backward" : "pool2d";
          Tier tier = g.tier;
          if (tier == Tier::ci && d != CHORUS_DTYPE_F32 && !g.every_dtype_at_ci) tier = Tier::full;
          // Smoke: a small exact geometry and one with outputs of more than
          // 1024 elements (the fault tests plant an error in such outputs).
          if ((g.label == "3x3-stride2-pad1" || g.label == "resnet-stem-3x3-stride2-pad1") &&
              d == CHORUS_DTYPE_F32)
            tier = Tier::smoke;
          add_case(cases, std::string(name) + "/" + op_label(op) + "/" + dt + "/" + g.kind + "/" +
                              g.label,
                   name, backward ? CHORUS_OP_POOL2D_BACKWARD : CHORUS_OP_POOL2D, dt, shape_of(g),
                   g.kind, tier, [op, d, g](Rng& rng) { return pool_spec(op, d, g, rng); });
        }
      }
}

}  // namespace

void register_cases() { register_family("pool", add_pool_cases); }

}  // namespace chorus::ops::pool
