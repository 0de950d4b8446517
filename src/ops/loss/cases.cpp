// cases.cpp — the loss folder's conformance layer (family "cross_entropy"):
// cross_entropy and cross_entropy_backward over the float dtypes with i32
// and i64 targets, reductions none, mean and sum, with and without label
// smoothing; batches, ImageNet-size rows, a class axis with spatial axes
// after it, one unbatched sample, tile-edge class counts, zero samples,
// views (permuted, padded, offset, a strided target, in place), and the
// rows that break naive kernels: logits of scale 1e4 (exp overflows without
// the max shift), masked (-inf) logits, ignored samples (ignore_index also
// a valid class), targets out of range (NaN) and every sample ignored.
#include <cmath>
#include <cstdio>
#include <limits>

#include "conformance/bounds.hpp"
#include "conformance/cases.hpp"

namespace chorus::ops::loss {

using namespace chorus::conformance;
using namespace chorus::conformance::detail;

namespace {

// ---------------------------------------------------------------- bounds
//
// Per sample, over C classes (long double from the inputs the oracle got):
// m = max x, S = sum e^(x - m) in [1, C], lse = m + log S, a = lse - x_t,
// b = lse - mean(x), loss = (1 - eps) a + eps b.
//  - each e^(x_c - m): exp's 3 ulp (6u) and the argument's rounding
//    u |x_c - m| relative; weighted by e_c / S that is at most
//    sum_c e_c |x_c - m| / S <= C/e; the sum adds C u: S is off by at most
//    (2C + 6) u relative;
//  - log S: that, plus log's 3 ulp of |log S| <= |lse| + |m|; + m rounds u
//    |lse|: E_lse = u (2C + 6 + 7 |lse| + 6 |m|);
//  - a: E_lse + u |a| (the subtraction) + u |a| (times 1 - eps);
//  - b: E_lse + u (C mean|x| + |mean x|) (the sum and the division)
//    + 2u |b|;
//  - the final addition u |loss|.
// So |err| <= c ((1 - eps)(E_lse + 2u|a|) + eps (E_lse + u(C mean|x| +
// |mean x|) + 2u|b|) + u|loss|) + R. Reduced: the samples' bounds, plus
// (N + 1) u sum |loss_i| for the sum in row order, plus u |loss| for the
// mean's division.
// The gradient, element c of a counted sample: dx = w (p_c - (1 - eps)[c =
// t] - eps/C), p_c = e^(x_c - lse): p_c is off relatively by E_lse (its
// argument) + u |x_c - lse| + 6u (exp); the subtractions and eps/C add
// u (p_c + 2 eps/C) and 2u at c = t; w (dloss, or dloss / count) u |w|; the
// product u |dx|:
//   |err| <= c (|w| (p_c (E_lse + u |x_c - lse| + 6u) + u (p_c + 2 eps/C)
//            + 2u [c = t]) + u |dx|) + R.
// Ignored samples are exactly 0 (selected) and a target out of range NaN:
// both checked exactly (bound 0).

struct SampleStats {
  long double m = 0, lse = 0, mean = 0, mean_abs = 0, x_t = 0;
  int64_t t = 0;
  bool ignored = false, valid = false;
};

SampleStats stats_of(const HostTensor& x, int64_t first, int64_t classes, int64_t target,
                     int32_t ignore_index) {
  SampleStats s;
  s.t = target;
  s.ignored = target == ignore_index;
  s.valid = !s.ignored && target >= 0 && target < classes;
  s.m = -std::numeric_limits<long double>::infinity();
  for (int64_t c = 0; c < classes; ++c) s.m = std::fmax(s.m, x.get(first + c));
  long double sum = 0;
  for (int64_t c = 0; c < classes; ++c) {
    sum += std::exp(x.get(first + c) - s.m);
    s.mean += x.get(first + c) / classes;
    s.mean_abs += std::fabs(x.get(first + c)) / classes;
  }
  s.lse = s.m + std::log(sum);
  if (s.valid) s.x_t = x.get(first + s.t);
  return s;
}

// Logits [rows, C] as the oracle got them (class axis last: the cases
// build logits with the class axis last in the contiguous host tensor and
// hand the device a permuted view when the case puts it at axis 1).
struct Geometry {
  int64_t rows = 0, classes = 0;
};

double e_lse(double u, const SampleStats& s, int64_t classes) {
  return static_cast<double>(u * (2.0L * classes + 6 + 7 * std::fabs(s.lse) + 6 * std::fabs(s.m)));
}

BoundFn forward_bound(chorus_loss_reduction reduction, double eps, int32_t ignore_index,
                      Geometry g) {
  using namespace bounds;
  return [=](const BoundInputs& in) {
    const HostTensor& x = in.operands[0];
    const HostTensor& target = in.operands[1];
    const HostTensor& y = in.expected;
    const double u = accumulation_u(in.out_dtype);
    std::vector<double> b(static_cast<size_t>(y.numel()), 0.0);
    long double total_bound = 0, total_abs = 0;
    for (int64_t i = 0; i < g.rows; ++i) {
      const SampleStats s =
          stats_of(x, i * g.classes, g.classes, static_cast<int64_t>(target.get(i)), ignore_index);
      double bound = 0;
      long double loss = 0;
      if (s.valid) {
        const long double a = s.lse - s.x_t, bb = s.lse - s.mean;
        loss = (eps < 1 ? (1 - eps) * a : 0) + (eps > 0 ? eps * bb : 0);
        const double el = e_lse(u, s, g.classes);
        // A term whose weight is 0 is left out (as the op leaves it out:
        // masked -inf logits make b infinite).
        long double sum = u * std::fabs(loss);
        if (eps < 1) sum += (1 - eps) * (el + 2 * u * std::fabs(a));
        if (eps > 0)
          sum += eps * (el + u * (g.classes * s.mean_abs + std::fabs(s.mean)) + 2 * u * std::fabs(bb));
        bound = static_cast<double>(sum);
      }
      if (!(bound >= 0)) bound = 0;  // NaN or inf rows: checked exactly
      total_bound += bound;
      total_abs += std::fabs(loss);
      if (reduction == CHORUS_REDUCTION_NONE)
        b[static_cast<size_t>(i)] =
            kC * bound + final_rounding(in.out_dtype, static_cast<double>(y.get(i)));
    }
    if (reduction != CHORUS_REDUCTION_NONE) {
      const long double result = std::fabs(y.get(0));
      double bound = static_cast<double>(kC * (total_bound + (g.rows + 1) * u * total_abs +
                                               u * result));
      if (reduction == CHORUS_REDUCTION_MEAN) {
        int64_t count = 0;
        for (int64_t i = 0; i < g.rows; ++i)
          if (static_cast<int64_t>(target.get(i)) != ignore_index) ++count;
        if (count > 0) bound = static_cast<double>(kC * ((total_bound + (g.rows + 1) * u * total_abs) / count + u * result));
      }
      if (!(bound >= 0)) bound = 0;
      b[0] = bound + final_rounding(in.out_dtype, static_cast<double>(y.get(0)));
    }
    return b;
  };
}

BoundFn backward_bound(chorus_loss_reduction reduction, double eps, int32_t ignore_index,
                       Geometry g) {
  using namespace bounds;
  return [=](const BoundInputs& in) {
    const HostTensor& x = in.operands[0];
    const HostTensor& target = in.operands[1];
    const HostTensor& dloss = in.operands[2];
    const HostTensor& y = in.expected;
    const double u = accumulation_u(in.out_dtype);
    std::vector<double> b(static_cast<size_t>(y.numel()), 0.0);
    int64_t count = 0;
    for (int64_t i = 0; i < g.rows; ++i)
      if (static_cast<int64_t>(target.get(i)) != ignore_index) ++count;
    for (int64_t i = 0; i < g.rows; ++i) {
      const SampleStats s =
          stats_of(x, i * g.classes, g.classes, static_cast<int64_t>(target.get(i)), ignore_index);
      long double w = dloss.get(reduction == CHORUS_REDUCTION_NONE ? i : 0);
      if (reduction == CHORUS_REDUCTION_MEAN) w /= count;
      const double el = e_lse(u, s, g.classes);
      for (int64_t c = 0; c < g.classes; ++c) {
        const int64_t k = i * g.classes + c;
        double bound = 0;
        if (s.valid) {
          const long double xc = x.get(k);
          const long double p = std::exp(xc - s.lse);
          // p = 0 exactly for a masked (-inf) logit, whatever its distance.
          const long double spread = p > 0 ? p * (el + u * std::fabs(xc - s.lse) + 6 * u) : 0;
          bound = static_cast<double>(
              kC * (std::fabs(w) * (spread +
                                    u * (p + 2 * eps / g.classes) + (c == s.t ? 2 * u : 0.0)) +
                    u * std::fabs(y.get(k))));
        }
        if (!(bound >= 0)) bound = 0;
        b[static_cast<size_t>(k)] = bound + final_rounding(in.out_dtype, static_cast<double>(y.get(k)));
      }
    }
    return b;
  };
}

// ----------------------------------------------------------------- cases

enum class Data { normal, big, masked, ignored, out_of_range, all_ignored, ignore_is_class };

struct Layout {
  std::string label, kind;
  Tier tier = Tier::ci;
  int64_t rows = 0, classes = 0;
  std::vector<int64_t> spatial;  // logits [N, C, spatial...] (class axis 1); rows = N * prod
  bool unbatched = false;        // logits [C], target rank 0
  Data data = Data::normal;
  bool permuted = false, padded = false, offset = false, in_place = false;
  bool views = false;  // f32 only at tier ci (the other dtypes run the same kernel text)
};

struct Variant {
  chorus_loss_reduction reduction;
  double smoothing;
  const char* label;
};
const Variant kVariants[] = {{CHORUS_REDUCTION_NONE, 0, "none"},
                             {CHORUS_REDUCTION_MEAN, 0, "mean"},
                             {CHORUS_REDUCTION_SUM, 0, "sum"},
                             {CHORUS_REDUCTION_MEAN, 0.1, "mean-smooth0.1"}};

// The user's logits shape, class axis 1 (0 unbatched), and the logical
// contiguous order the oracle sees ([samples..., C]).
std::vector<int64_t> user_shape(const Layout& l) {
  if (l.unbatched) return {l.classes};
  std::vector<int64_t> s{l.rows, l.classes};
  for (int64_t d : l.spatial) s.push_back(d);
  return s;
}

CaseSpec ce_spec(chorus_dtype d, chorus_dtype td, const Layout& l, const Variant& v, bool backward,
                 Rng& rng) {
  CaseSpec s;
  const int32_t ignore_index = l.data == Data::ignore_is_class ? 2 : -100;
  // Host tensors in the user's shape; values generated per (sample, class).
  const std::vector<int64_t> shape = user_shape(l);
  std::vector<int64_t> tshape = shape;
  tshape.erase(tshape.begin() + (l.unbatched ? 0 : 1));
  HostTensor x(d, shape), target(td, tshape);
  int64_t inner = 1;
  for (int64_t e : l.spatial) inner *= e;
  const int64_t samples = target.numel(), classes = l.classes;
  // Element (sample i = n * inner + q, class c) of the user's [N, C, ...].
  const auto at = [inner, classes](int64_t i, int64_t c) {
    const int64_t n = i / inner, q = i % inner;
    return (n * classes + c) * inner + q;
  };
  for (int64_t i = 0; i < samples; ++i) {
    for (int64_t c = 0; c < classes; ++c) {
      long double value = 2 * rng.normal();
      if (l.data == Data::big) value = std::round(rng.uniform(-1e4, 1e4));
      if (l.data == Data::masked && rng.chance(0.3))
        value = -std::numeric_limits<long double>::infinity();
      x.set(at(i, c), value);
    }
    int64_t t = rng.integer(0, classes - 1);
    if (l.data == Data::masked) x.set(at(i, t), 2 * rng.normal());  // the target is not masked
    if ((l.data == Data::ignored && rng.chance(0.3)) || l.data == Data::all_ignored) t = -100;
    if (l.data == Data::out_of_range && i % 3 == 1) t = i % 2 ? classes : -1;
    target.set(i, static_cast<long double>(t));
  }
  // The oracle and the bound see [samples, C] contiguous; the device the
  // user's layout. Both are the same logical tensor only when the class
  // axis is last, so spatial cases hand the oracle a permuted copy through
  // the view machinery: the operand's value is in user order and the bound
  // reads it through `at` (below).
  std::vector<int64_t> x_strides;
  if (l.permuted && !l.unbatched) x_strides = permuted_strides(shape, {1, 0});
  if (l.padded) x_strides = padded_strides(shape, 3);
  Operand xo{"logits", x, x_strides, l.offset ? 3 : 0, -1};
  std::vector<int64_t> t_strides;
  if (l.offset && tshape.size() == 1) t_strides = {2};
  Operand to{"target", target, t_strides, l.offset ? 1 : 0, -1};
  const std::vector<int64_t> lshape =
      v.reduction == CHORUS_REDUCTION_NONE ? tshape : std::vector<int64_t>{};
  const chorus_cross_entropy_attrs attrs{sizeof attrs, v.reduction, ignore_index, 0, v.smoothing};
  const Geometry g{samples, classes};
  if (!backward) {
    s.operands = {xo, to, Operand{"loss", HostTensor(d, lshape), {}, 2, -1}};
    s.output = 2;
    s.call = [attrs](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
      return chorus_cross_entropy(q, &attrs, t[0], t[1], t[2]);
    };
  } else {
    HostTensor dloss(d, lshape);
    fill_normal(dloss, rng, 1);
    Operand dx{"dlogits", HostTensor(d, shape), l.in_place ? x_strides : std::vector<int64_t>{},
               l.in_place ? 3 : 1, -1};
    if (l.in_place) dx.alias_of = 0;
    s.operands = {xo, to, Operand{"dloss", dloss, {}, 2, -1}, dx};
    s.output = 3;
    s.call = [attrs](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
      return chorus_cross_entropy_backward(q, &attrs, t[0], t[1], t[2], t[3]);
    };
  }
  // The bounds walk samples and classes in [samples, C] order: with spatial
  // axes the user's order differs, so they see a re-laid copy.
  const BoundFn bound = backward ? backward_bound(v.reduction, v.smoothing, ignore_index, g)
                                 : forward_bound(v.reduction, v.smoothing, ignore_index, g);
  if (inner == 1) {
    s.bound = bound;
  } else {
    s.bound = [bound, at, samples, classes, backward, d](const BoundInputs& in) {
      std::vector<HostTensor> ops = in.operands;
      HostTensor xs(d, {samples, classes});
      for (int64_t i = 0; i < samples; ++i)
        for (int64_t c = 0; c < classes; ++c) xs.set(i * classes + c, in.operands[0].get(at(i, c)));
      ops[0] = xs;
      HostTensor expected = in.expected;
      if (backward) {
        expected = HostTensor(in.expected.dtype, {samples, classes});
        for (int64_t i = 0; i < samples; ++i)
          for (int64_t c = 0; c < classes; ++c)
            expected.set(i * classes + c, in.expected.get(at(i, c)));
      }
      const BoundInputs re{ops, in.output, expected, in.out_dtype, in.numerics, in.reference};
      std::vector<double> b = bound(re);
      if (!backward) return b;
      std::vector<double> out(b.size());
      for (int64_t i = 0; i < samples; ++i)
        for (int64_t c = 0; c < classes; ++c)
          out[static_cast<size_t>(at(i, c))] = b[static_cast<size_t>(i * classes + c)];
      return out;
    };
  }
  char text[96];
  std::snprintf(text, sizeof text, "reduction=%s ignore_index=%d label_smoothing=%g",
                v.reduction == CHORUS_REDUCTION_NONE ? "none"
                : v.reduction == CHORUS_REDUCTION_MEAN ? "mean"
                                                       : "sum",
                ignore_index, v.smoothing);
  s.call_text = text;
  s.check = Check::bounded;
  s.oracle = OracleKind::wide;
  return s;
}

std::vector<Layout> layouts() {
  std::vector<Layout> v;
  auto make = [](std::string label, std::string kind, int64_t rows, int64_t classes) {
    Layout l;
    l.label = std::move(label);
    l.kind = std::move(kind);
    l.rows = rows;
    l.classes = classes;
    return l;
  };
  v.push_back(make("32x10", "accuracy", 32, 10));
  v.push_back(make("17x1000", "accuracy", 17, 1000));
  {
    Layout l = make("4x5x3x3/spatial", "accuracy", 4, 5);
    l.spatial = {3, 3};
    v.push_back(l);
    l = make("7/unbatched", "accuracy", 1, 7);
    l.unbatched = true;
    v.push_back(l);
  }
  for (const int64_t c : {int64_t{1}, int64_t{2}, int64_t{17}, int64_t{33}, int64_t{129}})
    v.push_back(make("4x" + std::to_string(c), "edge", 4, c));
  v.push_back(make("2x4097", "edge", 2, 4097));
  v.push_back(make("0x10", "edge", 0, 10));
  {
    Layout l = make("40x50/permuted", "view", 40, 50);
    l.permuted = l.views = true;
    v.push_back(l);
    l = make("33x65/padded", "view", 33, 65);
    l.padded = l.views = true;
    v.push_back(l);
    l = make("31x45/offset-target-strided", "view", 31, 45);
    l.offset = l.views = true;
    v.push_back(l);
    l = make("50x70/inplace", "view", 50, 70);
    l.in_place = l.views = true;
    v.push_back(l);
  }
  {
    Layout l = make("16x64/logits-1e4", "special", 16, 64);
    l.data = Data::big;
    v.push_back(l);
    l = make("16x64/masked", "special", 16, 64);
    l.data = Data::masked;
    v.push_back(l);
    l = make("32x10/ignored", "special", 32, 10);
    l.data = Data::ignored;
    v.push_back(l);
    l = make("32x10/ignore-index-2", "special", 32, 10);
    l.data = Data::ignore_is_class;
    v.push_back(l);
    l = make("12x10/out-of-range", "special", 12, 10);
    l.data = Data::out_of_range;
    v.push_back(l);
    l = make("8x10/all-ignored", "special", 8, 10);
    l.data = Data::all_ignored;
    v.push_back(l);
  }
  return v;
}

void add_cross_entropy_cases(std::vector<CaseEntry>& cases) {
  const std::vector<Layout> all = layouts();
  for (const bool backward : {false, true}) {
    const std::string op = backward ? "cross_entropy_backward" : "cross_entropy";
    const chorus_op_kind kind = backward ? CHORUS_OP_CROSS_ENTROPY_BACKWARD : CHORUS_OP_CROSS_ENTROPY;
    for (const chorus_dtype d : kFloatDtypes)
      for (size_t i = 0; i < all.size(); ++i)
        for (const Variant& v : kVariants) {
          Layout l = all[i];
          if (l.in_place && !backward) continue;
          // i64 targets everywhere, i32 for f32 and every other layout of
          // the rest: each program (dtype x target dtype) compiles.
          const chorus_dtype td =
              d == CHORUS_DTYPE_F32 || i % 2 == 1 ? CHORUS_DTYPE_I32 : CHORUS_DTYPE_I64;
          if (l.views && d != CHORUS_DTYPE_F32) l.tier = Tier::full;
          if (i == 0 && d == CHORUS_DTYPE_F32) l.tier = Tier::smoke;
          if (l.data == Data::big && d == CHORUS_DTYPE_F32 && v.reduction == CHORUS_REDUCTION_NONE)
            l.tier = Tier::smoke;
          const std::string dt = dtype_text(d);
          const std::string shape = shape_text(user_shape(l));
          add_case(cases, op + "/" + dt + "/" + l.kind + "/" + l.label + "/" + v.label +
                              (td == CHORUS_DTYPE_I64 ? "/i64" : "/i32"),
                   op, kind, dt, shape, l.kind, l.tier,
                   [d, td, l, v, backward](Rng& rng) { return ce_spec(d, td, l, v, backward, rng); });
        }
  }
  // f32 with i64 targets too (the other dtypes alternate).
  for (const bool backward : {false, true}) {
    const std::string op = backward ? "cross_entropy_backward" : "cross_entropy";
    const chorus_op_kind kind = backward ? CHORUS_OP_CROSS_ENTROPY_BACKWARD : CHORUS_OP_CROSS_ENTROPY;
    const Layout l = all[0];
    for (const Variant& v : kVariants)
      add_case(cases, op + "/f32/" + l.kind + "/" + l.label + "/" + v.label + "/i64", op, kind,
               "f32", shape_text(user_shape(l)), l.kind, Tier::ci, [l, v, backward](Rng& rng) {
                 return ce_spec(CHORUS_DTYPE_F32, CHORUS_DTYPE_I64, l, v, backward, rng);
               });
  }
}

}  // namespace

void register_cases() { register_family("cross_entropy", add_cross_entropy_cases); }

}  // namespace chorus::ops::loss
