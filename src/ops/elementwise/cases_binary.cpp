// cases_binary.cpp — add, sub, mul, max, min (floats, i32, i64), div and pow
// (floats). add/sub/mul/max/min and every integer op are bit-exact; div and
// pow are judged in ulps against a wide oracle. Each op has a random-reals
// sweep, an exact small-integer case, and every pair of special values.
#include <cmath>

#include "conformance/bounds.hpp"
#include "conformance/cases.hpp"
#include "elementwise/cases_elementwise.hpp"

namespace chorus::ops::elementwise {

using namespace chorus::conformance;
using namespace chorus::conformance::detail;

namespace {

// ---------------------------------------------------------------- bounds
//
// add/sub/mul (and max/min, and every integer op) are exact against an
// oracle in the output dtype because the reference computes them in double,
// and double is wide enough (53 >= 2*24 + 2) that double-then-round is the
// correctly rounded f32/f16/bf16 result (and f64 is computed in double).
//
// div: 2.5 ulp in f32 admits a reciprocal-then-multiply (two roundings of
// an approximate reciprocal); the 16-bit result of an f32 division of
// 16-bit values is within half a 16-bit ulp plus a 2^-13 fraction of one,
// so 1 ulp.
// pow: 16 ulp f32 (OpenCL's bound), because pow is exp(y log x) composed:
// a relative error e in log x becomes an absolute error |y log x| e in the
// exponent, i.e. a relative error of |y log x| e in the result. Only a log
// carried in extra precision keeps that small; 16 ulp is what such
// implementations reach. For 16-bit outputs even a plain f32 composition
// (|y log x| <= 89 before overflow, e ~ 3u) stays far below one 16-bit ulp:
// 2 ulp.
// Both: ulps of the output at y (bounds::ulps, no absolute floor), plus the
// f64 oracle's own half ulp.
BoundFn binary_bound(chorus_binary_op op) {
  const bool is_pow = op == CHORUS_BINARY_POW;
  return bounds::ulps(is_pow ? 16 : 2.5, is_pow ? 2 : 1, false);
}

struct BinaryInfo {
  chorus_binary_op op;
  const char* name;
};
const BinaryInfo kBinary[] = {
    {CHORUS_BINARY_ADD, "add"}, {CHORUS_BINARY_SUB, "sub"}, {CHORUS_BINARY_MUL, "mul"},
    {CHORUS_BINARY_DIV, "div"}, {CHORUS_BINARY_MAX, "max"}, {CHORUS_BINARY_MIN, "min"},
    {CHORUS_BINARY_POW, "pow"},
};

bool bounded(chorus_binary_op op) {
  return op == CHORUS_BINARY_DIV || op == CHORUS_BINARY_POW;
}

// Random reals for input k.
void fill_reals(chorus_binary_op op, size_t k, HostTensor& t, Rng& rng) {
  const chorus_dtype d = t.dtype;
  if (!is_float(d)) {
    fill_typical(t, rng, 0);
    return;
  }
  switch (op) {
    case CHORUS_BINARY_ADD:
    case CHORUS_BINARY_SUB:
      // Wide exponent spread, so alignment shifts and cancellation happen.
      for (int64_t i = 0; i < t.numel(); ++i)
        t.set(i, rng.normal() * std::exp2(rng.uniform(-12, 12)));
      break;
    case CHORUS_BINARY_MUL:
      fill_normal(t, rng, 10);
      break;
    case CHORUS_BINARY_DIV:
      if (k == 0)
        fill_normal(t, rng, 10);
      else
        fill_log_uniform(t, rng, -10, 10, 0.5);
      break;
    case CHORUS_BINARY_POW:
      // x > 0 over a few binades, y with |y log x| up to ~22 (f16: ~6, so
      // most results stay finite there).
      if (k == 0)
        fill_log_uniform(t, rng, d == CHORUS_DTYPE_F16 ? -3 : -4, d == CHORUS_DTYPE_F16 ? 3 : 4);
      else
        fill_uniform(t, rng, d == CHORUS_DTYPE_F16 ? -3 : -8, d == CHORUS_DTYPE_F16 ? 3 : 8);
      break;
    default:
      // max/min: a third of the pairs tie, and some are +0 against -0.
      for (int64_t i = 0; i < t.numel(); ++i) {
        const double r = rng.uniform();
        t.set(i, r < 0.3    ? static_cast<double>(rng.integer(-2, 2))
                 : r < 0.35 ? (k ? -0.0 : 0.0)
                            : 5 * rng.normal());
      }
      break;
  }
}

OpCall binary_call(chorus_binary_op op) {
  return [op](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
    return chorus_binary(q, op, t[0], t[1], t[2]);
  };
}

// Exact case: small integers give exact sums, differences and products in
// every dtype; division by powers of two is exact too.
void add_exact_case(std::vector<CaseEntry>& cases, const BinaryInfo& b, chorus_dtype d, Tier tier) {
  const std::string dt = dtype_text(d);
  const chorus_binary_op op = b.op;
  add_case(cases, std::string(b.name) + "/" + dt + "/exact/64x96", b.name, CHORUS_OP_BINARY, dt,
           "[64,96]", "exact", tier, [op, d](Rng& rng) {
             CaseSpec s;
             const int64_t m = exact_magnitude(d);
             HostTensor a(d, {64, 96}), bt(d, {64, 96});
             fill_integers(a, rng, -m, m, 0.1);
             if (op == CHORUS_BINARY_DIV) {
               for (int64_t i = 0; i < bt.numel(); ++i)
                 bt.set(i, std::ldexp(rng.chance(0.5) ? 1.0 : -1.0,
                                      static_cast<int>(rng.integer(-3, 3))));
             } else {
               fill_integers(bt, rng, -m, m, 0.1);
             }
             s.operands = {Operand{"a", a, {}, 0, -1}, Operand{"b", bt, {}, 0, -1},
                           Operand{"out", HostTensor(d, {64, 96}), {}, 0, -1}};
             s.output = 2;
             s.call = binary_call(op);
             s.check = Check::exact;
             return s;
           });
}

}  // namespace

void add_binary_cases(std::vector<CaseEntry>& cases) {
  for (const BinaryInfo& b : kBinary) {
    std::vector<chorus_dtype> dtypes = kFloatDtypes;
    if (!bounded(b.op)) {
      dtypes.push_back(CHORUS_DTYPE_I32);
      dtypes.push_back(CHORUS_DTYPE_I64);
    }
    for (const chorus_dtype d : dtypes) {
      const chorus_binary_op op = b.op;
      ElementwiseOp e;
      e.op = b.name;
      e.op_kind = CHORUS_OP_BINARY;
      e.dtype_label = dtype_text(d);
      e.inputs = {d, d};
      e.roles = {"a", "b", "out"};
      e.output = d;
      e.call = binary_call(op);
      const bool is_minmax = op == CHORUS_BINARY_MAX || op == CHORUS_BINARY_MIN;
      if (bounded(op)) {
        e.check = Check::bounded;
        e.oracle = OracleKind::wide;
        e.bound = [op] { return binary_bound(op); };
      } else {
        e.check = Check::exact;  // correctly rounded: 0 ulp
      }
      e.regular_kind = !is_float(d) || is_minmax ? "exact" : "accuracy";
      e.fill = [op](size_t k, HostTensor& t, Rng& rng) { fill_reals(op, k, t, rng); };
      const std::vector<long double> specials = pair_special_values(d);
      const int64_t n = static_cast<int64_t>(specials.size());
      e.special_count = n * n;
      e.fill_special = [specials, n](std::vector<HostTensor>& in) {
        for (int64_t i = 0; i < n * n; ++i) {
          in[0].set(i, specials[static_cast<size_t>(i / n)]);
          in[1].set(i, specials[static_cast<size_t>(i % n)]);
        }
      };
      e.in_place_input = 0;
      const bool smoke =
          (d == CHORUS_DTYPE_F32 &&
           (op == CHORUS_BINARY_ADD || op == CHORUS_BINARY_DIV || op == CHORUS_BINARY_POW)) ||
          (d == CHORUS_DTYPE_BF16 && op == CHORUS_BINARY_MUL) ||
          (d == CHORUS_DTYPE_I64 && op == CHORUS_BINARY_MAX);
      e.smoke_tier = smoke ? Tier::smoke : Tier::ci;
      add_elementwise_sweep(cases, e);
      if (is_float(d) && op != CHORUS_BINARY_POW && !is_minmax)
        add_exact_case(cases, b, d,
                       d == CHORUS_DTYPE_F16 && op == CHORUS_BINARY_ADD ? Tier::smoke : Tier::ci);
    }
  }
}

}  // namespace chorus::ops::elementwise
