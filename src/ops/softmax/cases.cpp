// cases.cpp — the softmax folder's conformance layer: family "softmax"
// (softmax and log-softmax) and family "softmax_backward" (their gradient,
// at the end of the file), over the float dtypes, along the
// last, first and a middle axis, at tile-edge and long row lengths, through
// every view, and on the rows that break naive kernels: 88/89/90 and 1000
// (exp overflows without the max subtraction), fully masked (-inf) rows, and
// rows whose range makes most terms underflow.
#include <algorithm>
#include <cmath>
#include <limits>

#include "conformance/bounds.hpp"
#include "conformance/cases.hpp"

namespace chorus::ops::softmax {

using namespace chorus::conformance;
using namespace chorus::conformance::detail;

namespace {

// ---------------------------------------------------------------- bounds

// x, y along axis.
BoundFn softmax_bound(int32_t axis, bool log) {
  // softmax y_i = exp(x_i - m) / s, s = sum_j exp(x_j - m), m = max x:
  //  - x_i - m rounds with relative error u, which exp turns into a relative
  //    error u |x_i - m| of the numerator; exp itself <= 3 ulp <= 6u;
  //  - s sums n positive terms: (n-1)u, plus the terms' own errors weighted
  //    by their size, <= (6 + max_j exp(-d_j) d_j n) u <= (6 + 0.37 n) u;
  //  - the division: u.
  //  Relative error <= (1.4 n + 13 + |x_i - m|) u, so
  //    |err| <= c (n + 10 + |x_i - m|) u y + R.
  //  CONFORMANCE.md's "relative <= 10u" is this bound for short rows: with n
  //  positive terms to sum, an exact-to-the-rounding f32 softmax over a 4096
  //  row may be (n u) off, so the n-dependence is derived, not a loosening.
  //  Elements with large |x_i - m| are tiny and carry that subtraction's
  //  error; without the term a correct kernel fails on a wide-range row.
  //  Where exp(x_i - m) underflows into the subnormal range its 3-ulp
  //  allowance is 3 subnormal quanta absolute; dividing by s >= 1 does not
  //  grow it, and the rounding adds half a quantum: 4 eta of the compute
  //  type on top of R (negligible next to R for 16-bit outputs).
  // log-softmax y_i = x_i - m - log s: absolute error u|x_i - m| (the
  //  subtraction) + u|y_i| (the last subtraction, |y_i| <= |x_i - m| + log s)
  //  + the error of log s: (n + 6)u from s plus 3 ulp of log s. So
  //    |err| <= c (n + 10) u (|x_i - m| + log s + 1) + R,
  //  absolute, which is what near-zero outputs (the row's maximum) need.
  using namespace bounds;
  return [axis, log](const BoundInputs& in) {
    const HostTensor& x = in.operands[0];
    const HostTensor& y = in.expected;
    const chorus_dtype out = in.out_dtype;
    const double u = accumulation_u(out);
    const int rank = static_cast<int>(x.shape.size());
    const size_t a = static_cast<size_t>(axis < 0 ? axis + rank : axis);
    std::vector<double> b(static_cast<size_t>(y.numel()), 0.0);
    for_each_row(x.shape, a, [&](int64_t first, int64_t stride, int64_t n) {
      long double m = -INFINITY;
      for (int64_t j = 0; j < n; ++j) m = std::max(m, x.get(first + j * stride));
      long double s = 0;
      for (int64_t j = 0; j < n; ++j) s += std::exp(x.get(first + j * stride) - m);
      const double dn = static_cast<double>(n);
      for (int64_t j = 0; j < n; ++j) {
        const int64_t i = first + j * stride;
        const long double d = std::fabs(x.get(i) - m);
        const long double yi = y.get(i);
        double bound;
        if (log)
          bound = kC * (dn + 10) * u * static_cast<double>(d + std::log(s) + 1);
        else
          bound = times(kC * (dn + 10 + static_cast<double>(d)) * u, yi) +
                  4 * min_subnormal(compute_dtype(out));
        if (!(bound >= 0)) bound = 0;  // rows of NaN or infinities: the element is checked exactly
        b[static_cast<size_t>(i)] = bound + final_rounding(out, static_cast<double>(yi));
      }
    });
    return b;
  };
}

enum class Data { normal, special, wide_range };

struct SoftmaxLayout {
  std::string label, kind;
  Tier tier = Tier::ci;
  std::vector<int64_t> shape;
  int32_t axis = -1;
  Data data = Data::normal;
  std::vector<int64_t> x_strides, y_strides;
  int64_t x_offset = 0, y_offset = 0;
  bool in_place = false;
};

// Rows of hand-picked trouble, then random rows to fill the tensor.
void fill_special_rows(HostTensor& x, Rng& rng) {
  const long double inf = std::numeric_limits<long double>::infinity();
  const long double big = x.dtype == CHORUS_DTYPE_F16 ? 60000 : 1000;
  const std::vector<std::vector<long double>> rows = {
      {88, 89, 90, 0, -1, 87, 89.5, 90},
      {big, big - 1, 0, -big, 1, big - 0.5L, 2, 3},
      {-inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf},  // fully masked: NaN by definition
      {-inf, 0, -inf, 1, -inf, 2, -inf, -inf},           // partly masked
      {5, 5, 5, 5, 5, 5, 5, 5},
      {-big, -big - 0.5L, -big - 1, -big, -big - 2, -big - 0.25L, -big - 3, -big - 1.5L},
      {0, -0.0L, 1e-7L, -1e-7L, 0, 0, 0, 0},
      {NAN, 0, 1, 2, 3, 4, 5, 6},
      {inf, 0, 1, 2, 3, 4, 5, 6},
  };
  const int64_t n = x.shape.back();
  for (int64_t r = 0; r * n < x.numel(); ++r)
    for (int64_t j = 0; j < n; ++j) {
      const int64_t i = r * n + j;
      if (static_cast<size_t>(r) < rows.size() &&
          static_cast<size_t>(j) < rows[static_cast<size_t>(r)].size())
        x.set(i, rows[static_cast<size_t>(r)][static_cast<size_t>(j)]);
      else
        x.set(i, 3 * rng.normal());
    }
}

// The forward's input for a layout's data kind.
HostTensor draw_x(chorus_dtype d, const SoftmaxLayout& l, Rng& rng) {
  HostTensor x(d, l.shape);
  switch (l.data) {
    case Data::normal:
      fill_normal(x, rng, 3);
      break;
    case Data::special:
      fill_special_rows(x, rng);
      break;
    case Data::wide_range:
      // Terms from 1 down to far below the smallest subnormal.
      fill_uniform(x, rng, d == CHORUS_DTYPE_F16 ? -20 : -120, 0);
      break;
  }
  return x;
}

CaseSpec softmax_spec(chorus_dtype d, bool log, const SoftmaxLayout& l, Rng& rng) {
  CaseSpec s;
  const HostTensor x = draw_x(d, l, rng);
  Operand y{"y", HostTensor(d, l.shape), l.y_strides, l.y_offset, -1};
  if (l.in_place) y.alias_of = 0;
  s.operands = {Operand{"x", x, l.x_strides, l.x_offset, -1}, y};
  s.output = 1;
  const int32_t axis = l.axis;
  s.call = [axis, log](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
    return chorus_softmax(q, t[0], axis, log ? 1 : 0, t[1]);
  };
  s.call_text = "axis=" + std::to_string(axis) + (log ? " log=1" : " log=0");
  s.check = Check::bounded;
  s.oracle = OracleKind::wide;
  s.bound = softmax_bound(axis, log);
  return s;
}

std::vector<SoftmaxLayout> layouts() {
  std::vector<SoftmaxLayout> v;
  auto make = [](std::string label, std::string kind, std::vector<int64_t> shape, int32_t axis) {
    SoftmaxLayout l;
    l.label = std::move(label);
    l.kind = std::move(kind);
    l.shape = std::move(shape);
    l.axis = axis;
    return l;
  };
  v.push_back(make("64x100", "accuracy", {64, 100}, -1));
  v.push_back(make("17x33", "accuracy", {17, 33}, 1));
  v.push_back(make("100x64/axis0", "accuracy", {100, 64}, 0));
  v.push_back(make("8x50x9/axis1", "accuracy", {8, 50, 9}, 1));
  for (const int64_t n : kTileSizes)
    v.push_back(make("5x" + std::to_string(n), "edge", {5, n}, -1));
  for (const int64_t n : kFullTileSizes) {
    v.push_back(make("5x" + std::to_string(n), "edge", {5, n}, -1));
    v.back().tier = Tier::full;
  }
  v.push_back(make("2x4097", "edge", {2, 4097}, -1));
  v.push_back(make("1x65537", "edge", {1, 65537}, -1));
  v.back().tier = Tier::full;
  v.push_back(make("70000x3", "edge", {70000, 3}, -1));
  v.back().tier = Tier::full;
  v.push_back(make("0x5", "edge", {0, 5}, -1));
  v.push_back(make("5x0", "edge", {5, 0}, -1));
  {
    SoftmaxLayout l = make("40x50/permuted", "view", {40, 50}, -1);
    l.x_strides = permuted_strides(l.shape, {1, 0});
    v.push_back(l);
    l = make("40x50/permuted-out", "view", {40, 50}, -1);
    l.y_strides = permuted_strides(l.shape, {1, 0});
    v.push_back(l);
    l = make("33x65/padded", "view", {33, 65}, -1);
    l.x_strides = padded_strides(l.shape, 3);
    l.y_strides = padded_strides(l.shape, 5);
    v.push_back(l);
    l = make("31x45/offset", "view", {31, 45}, -1);
    l.x_offset = 3;
    l.y_offset = 1;
    v.push_back(l);
    l = make("40x64/broadcast-rows", "view", {40, 64}, -1);
    l.x_strides = broadcast_strides(l.shape, 0);
    v.push_back(l);
    l = make("40x64/broadcast-axis", "view", {40, 64}, -1);
    l.x_strides = broadcast_strides(l.shape, 1);  // constant rows: 1/n each
    v.push_back(l);
    l = make("50x70/inplace", "view", {50, 70}, -1);
    l.in_place = true;
    v.push_back(l);
  }
  {
    SoftmaxLayout l = make("12x8/rows", "special", {12, 8}, -1);
    l.data = Data::special;
    v.push_back(l);
    l = make("16x256/wide-range", "special", {16, 256}, -1);
    l.data = Data::wide_range;
    v.push_back(l);
  }
  return v;
}

void add_softmax_cases(std::vector<CaseEntry>& cases) {
  for (const bool log : {false, true}) {
    const std::string op = log ? "log_softmax" : "softmax";
    for (const chorus_dtype d : kFloatDtypes) {
      const std::string dt = dtype_text(d);
      std::vector<SoftmaxLayout> all = layouts();
      for (size_t i = 0; i < all.size(); ++i) {
        SoftmaxLayout l = all[i];
        if (i == 0 && (d == CHORUS_DTYPE_F32 || (d == CHORUS_DTYPE_F16 && !log)))
          l.tier = Tier::smoke;
        if (l.data == Data::special && d == CHORUS_DTYPE_F32 && !log) l.tier = Tier::smoke;
        if (l.label == "33x65/padded" && d == CHORUS_DTYPE_F32) l.tier = Tier::smoke;
        add_case(cases, op + "/" + dt + "/" + l.kind + "/" + l.label, op, CHORUS_OP_SOFTMAX, dt,
                 shape_text(l.shape), l.kind, l.tier,
                 [d, log, l](Rng& rng) { return softmax_spec(d, log, l, rng); });
      }
    }
  }
}

// ------------------------------------------------------------- gradient
//
// softmax_backward: y (the forward's output, computed here from x in long
// double and rounded to the dtype), dy, dx on the same layouts, x's views
// serving y, y's serving dx, dy contiguous (in place: dx is dy).
// Bounds, per element i of a row of n, u the compute type's unit roundoff:
//  - softmax, dx_i = y_i (dy_i - s), s = sum_j dy_j y_j: the computed s is
//    off by at most n u S, S = sum_j |dy_j y_j| (n products and n - 1
//    additions); the subtraction and the product round once each, so
//      |err| <= |y_i| (n u S + 2 u |dy_i - s|) <= u |y_i| ((n + 2) S + 2|dy_i|);
//    products that underflow add up to n eta (eta the compute type's
//    smallest subnormal) to s.
//  - log-softmax, dx_i = dy_i - e_i s, e_i = exp(y_i), s = sum_j dy_j: s is
//    off by (n - 1) u D, D = sum_j |dy_j|; exp by at most 3 ulp (6u e_i);
//    the product and the subtraction round once each:
//      |err| <= u (e_i (n + 8) D + |dy_i|).
// Both doubled (kC), plus R for the output and the oracle's half ulp. An
// element whose bound is not finite (a NaN or infinite row) is compared
// exactly, as in the forward.
BoundFn softmax_backward_bound(int32_t axis, bool log) {
  using namespace bounds;
  return [axis, log](const BoundInputs& in) {
    const HostTensor& y = in.operands[0];
    const HostTensor& dy = in.operands[1];
    const HostTensor& dx = in.expected;
    const chorus_dtype out = in.out_dtype;
    const double u = accumulation_u(out);
    const double eta = min_subnormal(compute_dtype(out));
    const int rank = static_cast<int>(y.shape.size());
    const size_t a = static_cast<size_t>(axis < 0 ? axis + rank : axis);
    std::vector<double> b(static_cast<size_t>(dx.numel()), 0.0);
    for_each_row(y.shape, a, [&](int64_t first, int64_t stride, int64_t n) {
      long double scale = 0;
      for (int64_t j = 0; j < n; ++j) {
        const int64_t i = first + j * stride;
        scale += log ? std::fabs(dy.get(i)) : std::fabs(dy.get(i) * y.get(i));
      }
      const double dn = static_cast<double>(n);
      for (int64_t j = 0; j < n; ++j) {
        const int64_t i = first + j * stride;
        const long double g = std::fabs(dy.get(i));
        double bound;
        if (log)
          bound = kC * u * static_cast<double>(std::exp(y.get(i)) * (dn + 8) * scale + g) +
                  kC * eta;
        else
          bound = kC * u * static_cast<double>(std::fabs(y.get(i)) * ((dn + 2) * scale + 2 * g)) +
                  kC * (dn + 2) * eta;
        if (!(bound >= 0) || !std::isfinite(bound)) bound = 0;
        const long double e = dx.get(i);
        b[static_cast<size_t>(i)] = bound + final_rounding(out, static_cast<double>(e)) +
                                    oracle_rounding(out, e);
      }
    });
    return b;
  };
}

// y = softmax(x) or log_softmax(x) along `axis`, in long double, rounded
// into y's dtype.
HostTensor forward_of(const HostTensor& x, int32_t axis, bool log) {
  HostTensor y(x.dtype, x.shape);
  const int rank = static_cast<int>(x.shape.size());
  const size_t a = static_cast<size_t>(axis < 0 ? axis + rank : axis);
  bounds::for_each_row(x.shape, a, [&](int64_t first, int64_t stride, int64_t n) {
    long double m = -INFINITY;
    for (int64_t j = 0; j < n; ++j) m = std::max(m, x.get(first + j * stride));
    long double sum = 0;
    for (int64_t j = 0; j < n; ++j) sum += std::exp(x.get(first + j * stride) - m);
    for (int64_t j = 0; j < n; ++j) {
      const long double shifted = x.get(first + j * stride) - m;
      y.set(first + j * stride, log ? shifted - std::log(sum) : std::exp(shifted) / sum);
    }
  });
  return y;
}

CaseSpec backward_spec(chorus_dtype d, bool log, const SoftmaxLayout& l, Rng& rng) {
  // The forward's input, as the forward cases draw it.
  const HostTensor y = forward_of(draw_x(d, l, rng), l.axis, log);
  HostTensor dy(d, l.shape);
  fill_normal(dy, rng, 1);
  CaseSpec s;
  Operand dx{"dx", HostTensor(d, l.shape), l.y_strides, l.y_offset, -1};
  if (l.in_place) dx.alias_of = 1;
  s.operands = {Operand{"y", y, l.x_strides, l.x_offset, -1}, Operand{"dy", dy, {}, 0, -1}, dx};
  s.output = 2;
  const int32_t axis = l.axis;
  s.call = [axis, log](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
    return chorus_softmax_backward(q, t[0], t[1], axis, log ? 1 : 0, t[2]);
  };
  s.call_text = "axis=" + std::to_string(axis) + (log ? " log=1" : " log=0");
  s.check = Check::bounded;
  s.oracle = OracleKind::wide;
  s.bound = softmax_backward_bound(axis, log);
  return s;
}

void add_backward_cases(std::vector<CaseEntry>& cases) {
  for (const bool log : {false, true}) {
    const std::string op = log ? "log_softmax_backward" : "softmax_backward";
    for (const chorus_dtype d : kFloatDtypes) {
      const std::string dt = dtype_text(d);
      for (SoftmaxLayout l : layouts()) {
        // Broadcast views would make y overlap itself: fine for an input,
        // but dx takes y's layout only through y_strides, which these
        // leave contiguous; they stay.
        if (l.label == "64x100" && d == CHORUS_DTYPE_F32) l.tier = Tier::smoke;
        add_case(cases, op + "/" + dt + "/" + l.kind + "/" + l.label, op,
                 CHORUS_OP_SOFTMAX_BACKWARD, dt, shape_text(l.shape), l.kind, l.tier,
                 [d, log, l](Rng& rng) { return backward_spec(d, log, l, rng); });
      }
    }
  }
}

}  // namespace

void register_cases() {
  register_family("softmax", add_softmax_cases);
  register_family("softmax_backward", add_backward_cases);
}

}  // namespace chorus::ops::softmax
