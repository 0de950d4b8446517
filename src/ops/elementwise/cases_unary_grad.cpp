// cases_unary_grad.cpp — the activation gradients (unary_backward),
// generated from unary_grad_table.h: every row, from x and (where the row
// allows it) from y, in every float dtype, through the elementwise sweep
// (f32: every shape and view; the other dtypes: regular, odd, zero-size,
// in place and special values, their views being the same kernel), every
// pair of special input and dy values, and for f16 and bf16 every one of the
// 65,536 inputs. The forward's test parameters (leaky_relu's and elu's alpha,
// clamp's bounds) come from unary_table.h through cases_unary.cpp.
//
// ---- bounds (the CHECK and SCALE columns)
//
// EXACT rows (relu, clamp) select dy or +0: compared bit for bit with the
// oracle computed in the output dtype.
//
// BOUND rows: |dx - dx*| <= kC |dy| (u S + 8 (1 + |v|) eta) + R + the f64
// oracle's half ulp, v the input (x or y), S the row's SCALE: the kernel
// form's roundings counted to first order, each times the magnitude it
// scales. Builtins at OpenCL's single-precision bounds, converted to a
// relative error with 1 ulp <= 2u |value|: exp 3 ulp = 6u, erfc 16 ulp =
// 32u, division 2.5 ulp = 5u; + - * round by u; constants K(c) rounded to
// the compute type by u. eta (the compute type's smallest subnormal) covers
// an exponential that underflows, whose relative error no ulp bound holds,
// times at most |v| + 1 (a product with x). R: one final rounding for
// 16-bit outputs (their f32 value rounded once more). The forms:
//  - e = e^-|v| (6u); 1 + e: u on top of e's 6u e/(1+e) <= 3u, 4u; its
//    square 2 * 4u + u = 9u; sigma'(v) = e/(1+e)^2: 6 + 9 + 5 = 20u;
//    sigma(v) = {1 or e}/(1+e): 6 + 4 + 5 = 15u.
//  - leaky_relu: g * alpha, one product: S = |alpha| (x <= 0), 0 (x > 0).
//  - elu from x: g * (alpha * e^x): 6u + u + u = 8u of |alpha e^x|; from y:
//    g * (y + alpha): the sum (y and alpha exact) and the product, 2u.
//  - sigmoid from x: g * sigma'(x): 20 + 1 = 21u; from y: g * ((1 - y) y):
//    three roundings, 3u.
//  - tanh from x: g * 4 sigma'(2x) (2x and 4 exact): 21u of 4 sigma'(2x);
//    from y: g * (1 - y y): y y rounds by u y^2, the difference by
//    u |1 - y^2|, the product by u |1 - y^2|.
//  - gelu_erf: Phi = erfc(x * K(-1/sqrt2)) / 2 and B = x (e^(-x x / 2) * K):
//    erfc 32u of Phi; the argument's two roundings move Phi by 2u |x| phi;
//    x x rounds by u, which e^(-x^2/2) turns into (x^2/2) u; exp 6u, K and
//    its product 2u, the product with x u: B (9 + x^2/2) u; the sum and the
//    product with g u each of Phi + |B|: 34 Phi + (13 + x^2/2) |B|.
//  - gelu_tanh: w = K (c + 0.044715 c^3), c the clamped x: c^3 2u, the
//    constant and its product 2u, the sum u (no cancellation: same signs),
//    K and its product 2u: w within 7u. sigma(w): 15u, and w's error moves
//    it by 7u |w| sigma'(w); B = c w' sigma'(w): w' = K (1 + 0.134145 c^2)
//    within 6u, sigma'(w) 20u plus 7u |w| (|sigma''| <= sigma'), the two
//    products 2u: (28 + 7|w|) u; the sum and g's product 2u of both:
//    17 sigma(w) + 7 |w| sigma'(w) + (30 + 7 |w|) |B| (gm_gelu_tanh_scale).
//  - silu: sigma(x) + x sigma'(x): 15u and 20u + u, then 2u of both:
//    17 sigma + 23 |x sigma'|.
//  - softplus: g * sigma(x): 16u.
//  - hardsigmoid: g * K(1/6): the constant and the product, 2u of 1/6.
//  - hardswish: g * (x K(1/3) + 0.5): x/3 within 2u |x/3|; the sum rounds
//    by u |x/3 + 1/2| (it cancels near x = -1.5, hence the absolute form);
//    g's product u of the same.
//  - softsign: g / (1 + |x|) / (1 + |x|) (two divisions, so that no
//    square overflows): the sum's u twice, each division 5u: 12u of
//    1/(1+|x|)^2.
#include <cmath>
#include <limits>
#include <string>

#include "conformance/bounds.hpp"
#include "conformance/cases.hpp"
#include "elementwise/cases_elementwise.hpp"
#include "elementwise/unary_grad_math.hpp"
#include "elementwise/unary_grad_rows.hpp"

namespace chorus::ops::elementwise {

using namespace chorus::conformance;
using namespace chorus::conformance::detail;

namespace {

// The SCALE_X / SCALE_Y column of op at v.
long double grad_scale(chorus_unary_op op, bool from_y, long double v, long double alpha,
                       long double beta) {
  using T = long double;
  using namespace grad_math;
  (void)alpha;
  (void)beta;
#define NONE T(0)
  if (!from_y) {
    const T x = v;
    switch (op) {
#define UNARY_GRAD(NAME, name, FY, KX, KY, RX, RY, CHECK, SCALE_X, ...) \
  case CHORUS_UNARY_##NAME:                                             \
    return SCALE_X;
#include "elementwise/unary_grad_table.h"
#undef UNARY_GRAD
      default:
        break;
    }
  } else {
    [[maybe_unused]] const T y = v;
    switch (op) {
#define UNARY_GRAD(NAME, name, FY, KX, KY, RX, RY, CHECK, SX, SCALE_Y) \
  case CHORUS_UNARY_##NAME:                                            \
    return SCALE_Y;
#include "elementwise/unary_grad_table.h"
#undef UNARY_GRAD
      default:
        break;
    }
  }
#undef NONE
  return std::numeric_limits<T>::quiet_NaN();
}

BoundFn grad_bound(chorus_unary_op op, bool from_y, double alpha, double beta) {
  return [=](const BoundInputs& in) {
    const HostTensor& v = in.operands[0];
    const HostTensor& g = in.operands[1];
    const chorus_dtype out = in.out_dtype;
    const double u = bounds::accumulation_u(out);
    const double eta = out == CHORUS_DTYPE_F64 ? std::numeric_limits<double>::denorm_min()
                                               : std::numeric_limits<float>::denorm_min();
    std::vector<double> b(static_cast<size_t>(in.expected.numel()));
    for (int64_t i = 0; i < in.expected.numel(); ++i) {
      const long double vi = v.get(bounds::broadcast_source(in.expected.shape, v.shape, i));
      const long double gi = g.get(bounds::broadcast_source(in.expected.shape, g.shape, i));
      const long double e = in.expected.get(i);
      const long double s = grad_scale(op, from_y, vi, alpha, beta);
      const long double magnitude = std::isnan(vi) ? 0 : std::fabs(vi);
      const double per_dy = static_cast<double>(u * s + 8 * (1 + magnitude) * eta) * bounds::kC;
      double bound = bounds::times(per_dy, gi) + bounds::final_rounding(out, static_cast<double>(e)) +
                     bounds::oracle_rounding(out, e);
      // A NaN input with a finite result (a branch that only compares: elu
      // at x = NaN passes dy) is judged exactly.
      if (std::isnan(bound)) bound = 0;
      b[static_cast<size_t>(i)] = bound;
    }
    return b;
  };
}

// The forward value y = f(x) for the rows with a y form, in long double.
long double forward(chorus_unary_op op, long double x, long double alpha) {
  switch (op) {
    case CHORUS_UNARY_RELU:
      return std::isnan(x) || x > 0 ? x : 0;
    case CHORUS_UNARY_LEAKY_RELU:
      return x > 0 ? x : x * alpha;
    case CHORUS_UNARY_ELU:
      return x > 0 ? x : alpha * std::expm1(x);
    case CHORUS_UNARY_SIGMOID:
      return grad_math::gm_sigmoid(x);
    case CHORUS_UNARY_TANH:
      return std::tanh(x);
    default:
      return std::numeric_limits<long double>::quiet_NaN();
  }
}

chorus_unary_backward_attrs grad_attrs(const GradRow& row, bool from_y, chorus_dtype d) {
  const chorus_unary_attrs fwd = unary_test_attrs(row.op, d);
  chorus_unary_backward_attrs a{};
  a.struct_size = sizeof a;
  a.op = row.op;
  a.from_output = from_y ? 1 : 0;
  a.alpha = fwd.alpha;
  a.beta = fwd.beta;
  return a;
}

OpCall grad_call(const chorus_unary_backward_attrs& attrs) {
  return [attrs](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
    return chorus_unary_backward(q, &attrs, t[0], t[1], t[2]);
  };
}

std::string grad_call_text(const chorus_unary_backward_attrs& a) {
  char text[128];
  std::snprintf(text, sizeof text, "from_output=%d alpha=%.17g beta=%.17g", a.from_output,
                a.alpha, a.beta);
  return text;
}

// Input k of a regular case: 0 is x (the forward's INPUTS) or y = f(x) of
// such an x; 1 is dy, normal(0, 2).
void fill_grad_input(const GradRow& row, bool from_y, double alpha, size_t k, HostTensor& t,
                     Rng& rng) {
  if (k == 1) {
    fill_normal(t, rng, 2);
    return;
  }
  if (!from_y) {
    fill_unary_inputs(row.op, t, rng);
    return;
  }
  HostTensor x(CHORUS_DTYPE_F64, t.shape);
  fill_unary_inputs(row.op, x, rng);
  for (int64_t i = 0; i < t.numel(); ++i) t.set(i, forward(row.op, x.get(i), alpha));
}

void set_grad_check(const GradRow& row, const chorus_unary_backward_attrs& a, Check* check,
                    OracleKind* oracle, std::function<BoundFn()>* bound) {
  if (row.exact) {
    *check = Check::exact;
    *oracle = OracleKind::same;
    return;
  }
  *check = Check::bounded;
  *oracle = OracleKind::wide;
  const chorus_unary_op op = row.op;
  const bool from_y = a.from_output != 0;
  const double alpha = a.alpha, beta = a.beta;
  *bound = [op, from_y, alpha, beta] { return grad_bound(op, from_y, alpha, beta); };
}

// The matrix row: "sigmoid_backward" (from x), "sigmoid_backward_from_y".
std::string case_op(const GradRow& row, bool from_y) {
  return std::string(row.label) + (from_y ? "_from_y" : "");
}

// Every 16-bit input against normal dy.
void add_exhaustive(std::vector<CaseEntry>& cases, const GradRow& row, bool from_y,
                    chorus_dtype d) {
  const std::string dt = dtype_text(d);
  const std::string name = case_op(row, from_y);
  add_case(cases, name + "/" + dt + "/special/65536/exhaustive", name,
           CHORUS_OP_UNARY_BACKWARD, dt, "[256,256]", "special", Tier::ci, [row, from_y, d](Rng& rng) {
             CaseSpec s;
             const chorus_unary_backward_attrs a = grad_attrs(row, from_y, d);
             HostTensor v(d, {256, 256}), g(d, {256, 256});
             for (int64_t i = 0; i < 65536; ++i) v.set_bits(i, static_cast<uint64_t>(i));
             if (from_y)  // every output of f on the 16-bit inputs
               for (int64_t i = 0; i < 65536; ++i) v.set(i, forward(row.op, v.get(i), a.alpha));
             fill_normal(g, rng, 2);
             s.operands = {Operand{from_y ? "y" : "x", v, {}, 0, -1},
                           Operand{"dy", g, {}, 0, -1},
                           Operand{"dx", HostTensor(d, {256, 256}), {}, 0, -1}};
             s.output = 2;
             s.call = grad_call(a);
             s.call_text = grad_call_text(a);
             std::function<BoundFn()> bound;
             set_grad_check(row, a, &s.check, &s.oracle, &bound);
             if (bound) s.bound = bound();
             s.subnormal_inputs = d == CHORUS_DTYPE_BF16;
             return s;
           });
}

}  // namespace

void add_unary_backward_cases(std::vector<CaseEntry>& cases) {
  for (const GradRow& row : kGradRows) {
    for (const bool from_y : {false, true}) {
      if (from_y && row.from_y == GradFromY::none) continue;
      for (const chorus_dtype d : kFloatDtypes) {
        const chorus_unary_backward_attrs a = grad_attrs(row, from_y, d);
        ElementwiseOp e;
        e.op = case_op(row, from_y);
        e.op_kind = CHORUS_OP_UNARY_BACKWARD;
        e.dtype_label = dtype_text(d);
        e.inputs = {d, d};
        e.roles = {from_y ? "y" : "x", "dy", "dx"};
        e.output = d;
        e.call = grad_call(a);
        e.call_text = grad_call_text(a);
        set_grad_check(row, a, &e.check, &e.oracle, &e.bound);
        e.regular_kind = row.exact ? "exact" : "accuracy";
        const GradRow r = row;
        const double alpha = a.alpha;
        e.fill = [r, from_y, alpha](size_t k, HostTensor& t, Rng& rng) {
          fill_grad_input(r, from_y, alpha, k, t, rng);
        };
        const std::vector<long double> specials = pair_special_values(d);
        const int64_t n = static_cast<int64_t>(specials.size());
        e.special_count = n * n;
        // From y, the special values are f's outputs of the special inputs:
        // y is an output of f (a y that f cannot produce, as 3e38 for
        // sigmoid, may overflow the formula's intermediates).
        e.fill_special = [specials, n, r, from_y, alpha](std::vector<HostTensor>& in) {
          for (int64_t i = 0; i < n * n; ++i) {
            const long double v = specials[static_cast<size_t>(i / n)];
            in[0].set(i, from_y ? forward(r.op, v, alpha) : v);
            in[1].set(i, specials[static_cast<size_t>(i % n)]);
          }
        };
        e.in_place_input = 1;  // dx over dy, as training does
        // The views and tile sizes run the very kernels f32's sweep runs.
        e.views_tier = d == CHORUS_DTYPE_F32 && !from_y ? Tier::ci : Tier::full;
        const bool smoke = d == CHORUS_DTYPE_F32 && (row.op == CHORUS_UNARY_RELU ||
                                                     row.op == CHORUS_UNARY_GELU_TANH ||
                                                     (row.op == CHORUS_UNARY_SIGMOID && from_y));
        e.smoke_tier = smoke ? Tier::smoke : Tier::ci;
        add_elementwise_sweep(cases, e);
        if (d == CHORUS_DTYPE_F16 || d == CHORUS_DTYPE_BF16) add_exhaustive(cases, row, from_y, d);
      }
    }
  }
}

}  // namespace chorus::ops::elementwise
