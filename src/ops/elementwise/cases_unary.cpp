// cases_unary.cpp — every unary op, generated from unary_table.h, its one
// definition: dtypes from DTYPES (the float dtypes; FLOATS_INTS adds i32 and
// i64), the judgement from CHECK, the inputs from INPUTS, and the test
// values of PARAMS passed through chorus_unary_ex (the ops without
// parameters go through chorus_unary). Each (op, dtype) runs the elementwise
// sweep (regular, odd, tile edges, zero-size, views, in place, big shapes,
// special values) and, for f16 and bf16, every one of the 65,536 inputs. A
// new row in the table is a new op here, with nothing to edit.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <string>

#include "conformance/bounds.hpp"
#include "conformance/cases.hpp"
#include "elementwise/cases_elementwise.hpp"

namespace chorus::ops::elementwise {

using namespace chorus::conformance;
using namespace chorus::conformance::detail;

namespace {

// ------------------------------------------------------- the table as data

enum class CheckKind { exact, exact_signed, ulps };
struct UnaryCheck {
  CheckKind kind;
  double wide_ulps;    // f32 (and f64) outputs
  double narrow_ulps;  // f16 and bf16 outputs
  bool floor;          // the absolute floor where the function crosses zero or underflows
};

enum class Domain { typical, normal, uniform, exp_range, positive, log1p_range, halves, nonzero, tails };
struct UnaryInputs {
  Domain domain;
  double a, b, c = 0;  // sigma; lo, hi; lo_log2, hi_log2; sigma, lo, hi (tails)
};

enum class ParamKind { none, alpha, min_max };
struct UnaryParams {
  ParamKind kind;
  double alpha, beta;  // the table's test values (not the defaults)
};

struct UnaryRow {
  chorus_unary_op op;
  const char* name;
  bool integers;  // DTYPES is FLOATS_INTS
  UnaryParams params;
  UnaryCheck check;
  UnaryInputs inputs;
};

#define FLOATS false
#define FLOATS_INTS true
#define NO_PARAMS UnaryParams{ParamKind::none, 0, 0}
#define ALPHA(default_value, test) UnaryParams{ParamKind::alpha, test, 0}
#define MIN_MAX(test_min, test_max) UnaryParams{ParamKind::min_max, test_min, test_max}
#define EXACT UnaryCheck{CheckKind::exact, 0, 0, false}
#define EXACT_SIGNED UnaryCheck{CheckKind::exact_signed, 0, 0, false}
#define ULPS(f32, narrow, floor) UnaryCheck{CheckKind::ulps, f32, narrow, floor}
#define FLOOR true
#define NO_FLOOR false
#define TYPICAL(sigma) UnaryInputs{Domain::typical, sigma, 0}
#define NORMAL(sigma) UnaryInputs{Domain::normal, sigma, 0}
#define UNIFORM(lo, hi) UnaryInputs{Domain::uniform, lo, hi}
#define EXP_RANGE UnaryInputs{Domain::exp_range, 0, 0}
#define POSITIVE(lo_log2, hi_log2) UnaryInputs{Domain::positive, lo_log2, hi_log2}
#define LOG1P_RANGE UnaryInputs{Domain::log1p_range, 0, 0}
#define HALVES UnaryInputs{Domain::halves, 0, 0}
#define NONZERO UnaryInputs{Domain::nonzero, 0, 0}
#define TAILS(sigma, lo, hi) UnaryInputs{Domain::tails, sigma, lo, hi}
#define UNARY_OP(NAME, name, DTYPES, PARAMS, KERNEL, KERNEL_INT, REFERENCE, REFERENCE_INT, CHECK, \
                 REF, INPUTS)                                                                     \
  UnaryRow{CHORUS_UNARY_##NAME, #name, DTYPES, PARAMS, CHECK, INPUTS},
const UnaryRow kUnaryRows[] = {
#include "elementwise/unary_table.h"
};
#undef UNARY_OP
#undef FLOATS
#undef FLOATS_INTS
#undef NO_PARAMS
#undef ALPHA
#undef MIN_MAX
#undef EXACT
#undef EXACT_SIGNED
#undef ULPS
#undef FLOOR
#undef NO_FLOOR
#undef TYPICAL
#undef NORMAL
#undef UNIFORM
#undef EXP_RANGE
#undef POSITIVE
#undef LOG1P_RANGE
#undef HALVES
#undef NONZERO
#undef TAILS
static_assert(sizeof kUnaryRows / sizeof kUnaryRows[0] == CHORUS_UNARY_COUNT_,
              "unary_table.h has a row for every chorus_unary_op");

// ---------------------------------------------------------------- bounds
//
// The CHECK column. EXACT rows are compared bit for bit against an oracle in
// the output dtype, EXACT_SIGNED rows with the sign of zero too (sign
// operations: neg, abs, floor, ceil, round, sign); integer outputs of any row
// are exact (integer ops are). ULPS(f32, f16/bf16, floor) rows are judged
// against a wide (f64) oracle by bounds::ulps: the f32 column's ulps of the
// output at y for f32 and f64 outputs, the second column's for f16 and bf16,
// at least the absolute floor 8 u max(1, |x|) where FLOOR (plus R for 16-bit
// outputs), plus the f64 oracle's own half ulp. The derivations of the rows'
// values:
//
// 16-bit outputs are computed in f32 and rounded once: the f32 error is a
// tiny fraction of a 16-bit ulp (2^-13 of one per f32 ulp for f16, 2^-16 for
// bf16), so the allowance is mostly that rounding (half an ulp) plus the
// oracle's half ulp; the table's 1-2 ulp leave room for f32 math functions
// of the precision the f32 column allows (4 for the erf rows, whose 16 f32
// ulp are 16 * 2^-13 of an f16 ulp on top).
//
// f32 columns:
//  - sqrt 3, rsqrt 2, exp 3, log 3, tanh 5, erf 16, log1p 2 (OpenCL's),
//    expm1 3, sin 4, cos 4, reciprocal 2.5: the single builtin, at
//    CONFORMANCE.md's / OpenCL's single-precision bound for it (sin and cos
//    over the whole range: accurate argument reduction is part of the
//    builtin, so their zeros need no floor; erf, log1p and expm1 are
//    relative-accurate through their zero, likewise).
//  - sigmoid, silu, gelu_tanh 5: CONFORMANCE.md's "tanh, sigmoid, silu, gelu
//    <= 5 ulp"; gelu_erf contains erf, whose own allowance is 16 ulp
//    (OpenCL's erf).
//  - FLOOR (tanh, sigmoid, silu, gelu_tanh, gelu_erf): functions that cross
//    zero (tanh, silu, gelu at 0) or underflow (sigmoid, silu, gelu for large
//    negative x): near those points a relative (ulp) bound asks for more
//    than any f32 formula gives. gelu_tanh(x) = 0.5x(1 + tanh(z)) and
//    gelu_erf(x) = 0.5x(1 + erf(x/sqrt2)) cancel for x < 0, leaving an
//    absolute error of a few u times |x|; sigmoid as 0.5 + 0.5 tanh(x/2)
//    leaves a few u absolute. Floor: 8 u max(1, |x|) absolute.
//  - leaky_relu 1: x > 0 gives x; otherwise one product x * alpha with alpha
//    rounded to the compute type (the cases pass alpha already so rounded, so
//    the wide oracle multiplies by the very value the device uses): one
//    correctly rounded product, <= 0.5 ulp. 16-bit: the f32 product rounds
//    by 0.5 f32 ulp, then to 16 bits: <= 0.5 ulp (1 + 2^-12) <= 1.
//  - elu 7: x > 0 gives x; otherwise alpha * expm1(x) with expm1 <= 3 ulp
//    (OpenCL). For any alpha, |alpha| ulp(e) < 2 ulp(alpha e) for e =
//    expm1(x), so the 3 ulp of e are below 6 ulp of y; the product's
//    rounding adds 0.5: 6.5 <= 7. (The test alpha, 1.5, needs only 5.)
//  - softplus 11: the kernel's forms do not cancel (x + log1p(exp(-x)) for
//    x > 0 adds two non-negative terms; log1p(exp(x)) otherwise), and the
//    argument t of log1p passes its relative error through damped
//    (t / ((1 + t) log1p(t)) <= 1). With OpenCL's exp (3 ulp, 6u relative)
//    and log1p (2 ulp, 4u relative) the log1p term is within 10u relative,
//    <= 10 ulp of y (the term is at most y), plus 0.5 ulp for the sum:
//    10.5 <= 11. (Builtins of about 1 ulp, as glibc's, CUDA's and PoCL's,
//    stay near 4.5.)
//  - hardsigmoid 4: (x + 3) / 6 with x + 3 exact for x in [-6, -1.5]
//    (Sterbenz) and otherwise within 0.5 ulp(x + 3) <= 0.5 * 8/6 ulp(y), 0.67
//    ulp (x + 3 = 6y, ulp(6y) <= 8 ulp(y)); OpenCL's division (2.5 ulp, on a
//    device without correctly rounded divide) adds 2.5: 3.17 <= 4.
//  - hardswish 5: x (x + 3) / 6: the sum (exact near -3, Sterbenz) and the
//    product round relative u each, <= 2 ulp of y; OpenCL's 2.5-ulp division
//    adds 2.5: 4.5 <= 5.
//  - floor, ceil, round (ties to even), sign: exact results, sign of zero
//    included (ceil(-0.5) = -0, round(-0.25) = -0, sign(-0) = -0).
//  - square: one product, correctly rounded (the reference's double product
//    of two <= 24-bit significands is exact; for 16-bit dtypes the f32
//    product of two <= 11-bit significands is exact too): exact; integers
//    wrap.
//  - clamp: a selection of x or a bound rounded to the dtype: exact.
// f16/bf16 columns: 1 for the single correctly rounded operations (and
// reciprocal, whose f32 2.5 ulp are 2.5 * 2^-13 of an f16 ulp), 2 for the
// functions within a few f32 ulp, 4 for erf and gelu_erf (see above).

BoundFn unary_bound(const UnaryCheck& c) {
  return bounds::ulps(c.wide_ulps, c.narrow_ulps, c.floor);
}

// ------------------------------------------------------------ the inputs

// lo, hi (log2 of magnitudes) kept inside dtype d's normal range.
void clamp_log2_range(chorus_dtype d, double* lo, double* hi) {
  *lo = std::max(*lo, std::log2(min_normal(d)));
  *hi = std::min(*hi, std::floor(std::log2(max_finite(d))));
}

// Real inputs of a domain (floats; integers go through fill_integer_domain).
void fill_real_domain(const UnaryInputs& in, HostTensor& t, Rng& rng) {
  const chorus_dtype d = t.dtype;
  switch (in.domain) {
    case Domain::typical:
      fill_typical(t, rng, in.a);
      break;
    case Domain::normal:
      fill_normal(t, rng, in.a);
      break;
    case Domain::tails:
      // normal(sigma), a fifth of the elements uniform in [lo, hi] (where
      // the function underflows: its formula must not overflow there).
      fill_normal(t, rng, in.a);
      for (int64_t i = 0; i < t.numel(); ++i)
        if (rng.chance(0.2)) t.set(i, rng.uniform(in.b, in.c));
      break;
    case Domain::uniform:
      fill_uniform(t, rng, in.a, in.b);
      break;
    case Domain::exp_range:
      // Where exp stays finite: up to ln(max finite), down to where the
      // result is subnormal (f16) or near the normal range's end.
      if (d == CHORUS_DTYPE_F16)
        fill_uniform(t, rng, -17, 11);
      else if (d == CHORUS_DTYPE_F64)
        fill_uniform(t, rng, -700, 700);
      else
        fill_uniform(t, rng, -87, 88);
      break;
    case Domain::positive: {
      // 2^U(lo, hi), within the dtype's normal range.
      double lo = in.a, hi = in.b;
      clamp_log2_range(d, &lo, &hi);
      fill_log_uniform(t, rng, lo, hi);
      break;
    }
    case Domain::log1p_range: {
      // 40%: (-1, 0], log-uniformly close to -1 (x = -(1 - 2^-s), s up to
      // the dtype's digits, so the last representable values above -1 come
      // up); 10%: small negatives -2^U(-30, -1); 50%: log-uniform positives.
      double lo = -30, hi = 60;
      clamp_log2_range(d, &lo, &hi);
      const double digits = significand_digits(d);
      for (int64_t i = 0; i < t.numel(); ++i) {
        const double r = rng.uniform();
        if (r < 0.4)
          t.set(i, -(1 - std::exp2(-rng.uniform(0, digits))));
        else if (r < 0.5)
          t.set(i, -std::exp2(rng.uniform(lo, -1)));
        else
          t.set(i, std::exp2(rng.uniform(lo, hi)));
      }
      break;
    }
    case Domain::halves: {
      // k + {0, .25, .5, .75}, either sign: 75% small k (every quarter
      // representable), 25% k from 2^(digits - 3) to 2^(digits + 2), where
      // the fractions stop being representable (f32: up to 2^26 >= 2^24).
      const int digits = significand_digits(d);
      const int64_t small = std::min<int64_t>(100, int64_t{1} << (digits - 4));
      for (int64_t i = 0; i < t.numel(); ++i) {
        const long double frac = 0.25L * static_cast<long double>(rng.integer(0, 3));
        const long double k =
            rng.chance(0.75)
                ? static_cast<long double>(rng.integer(0, small))
                : std::floor(static_cast<long double>(std::exp2(rng.uniform(digits - 3, digits + 2))));
        t.set(i, (k + frac) * (rng.chance(0.5) ? -1 : 1));
      }
      break;
    }
    case Domain::nonzero: {
      // Log-uniform magnitudes over the dtype's normal range, random signs.
      double lo = -1e9, hi = 1e9;
      clamp_log2_range(d, &lo, &hi);
      fill_log_uniform(t, rng, lo, hi, 0.5);
      break;
    }
  }
}

// Integer inputs: TYPICAL is fill_typical's mix (half small, half anywhere
// in the range); any other domain gives its real values rounded to integers
// (saturated), with a quarter anywhere in the range (high bits, extremes).
void fill_integer_domain(const UnaryInputs& in, HostTensor& t, Rng& rng) {
  if (in.domain == Domain::typical) {
    fill_typical(t, rng, in.a);
    return;
  }
  HostTensor real(CHORUS_DTYPE_F64, t.shape);
  fill_real_domain(in, real, rng);
  const long double lo = static_cast<long double>(int_min(t.dtype));
  const long double hi = static_cast<long double>(int_max(t.dtype));
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (rng.chance(0.25))
      t.set_bits(i, rng.next());
    else
      t.set(i, std::clamp(std::nearbyint(real.get(i)), lo, hi));
  }
}

void fill_domain(const UnaryInputs& in, HostTensor& t, Rng& rng) {
  if (is_float(t.dtype))
    fill_real_domain(in, t, rng);
  else
    fill_integer_domain(in, t, rng);
}

// -------------------------------------------------------------- the call

// The table's test parameters as the device will use them: alpha rounded to
// the compute type (f32, or f64 for f64 data), min and max to a float dtype
// (integers convert like copy, in libchorus and in the same-dtype oracle
// alike). The wide oracle then computes with the very parameter the device
// uses, and a backend that ignores its parameters fails.
chorus_unary_attrs test_attrs(const UnaryRow& row, chorus_dtype d) {
  chorus_unary_attrs a{};
  a.struct_size = sizeof a;
  a.op = row.op;
  a.alpha = row.params.alpha;
  a.beta = row.params.beta;
  if (row.params.kind == ParamKind::alpha && d != CHORUS_DTYPE_F64)
    a.alpha = static_cast<double>(static_cast<float>(a.alpha));
  if (row.params.kind == ParamKind::min_max && is_float(d)) {
    HostTensor bound(d, {2});
    bound.set(0, a.alpha);
    bound.set(1, a.beta);
    a.alpha = static_cast<double>(bound.get(0));
    a.beta = static_cast<double>(bound.get(1));
  }
  return a;
}

OpCall unary_call(const UnaryRow& row, chorus_dtype d) {
  if (row.params.kind == ParamKind::none) {
    const chorus_unary_op op = row.op;
    return [op](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
      return chorus_unary(q, op, t[0], t[1]);
    };
  }
  const chorus_unary_attrs attrs = test_attrs(row, d);
  return [attrs](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
    return chorus_unary_ex(q, &attrs, t[0], t[1]);
  };
}

std::string call_text(const UnaryRow& row, chorus_dtype d) {
  const chorus_unary_attrs a = test_attrs(row, d);
  char text[96];
  switch (row.params.kind) {
    case ParamKind::none:
      return "";
    case ParamKind::alpha:
      std::snprintf(text, sizeof text, "alpha=%.17g", a.alpha);
      return text;
    case ParamKind::min_max:
      std::snprintf(text, sizeof text, "min=%.17g max=%.17g", a.alpha, a.beta);
      return text;
  }
  return "";
}

// How the row's output in dtype d is judged.
void set_check(const UnaryRow& row, chorus_dtype d, Check* check, OracleKind* oracle,
               bool* bounded) {
  *bounded = false;
  *oracle = OracleKind::same;
  if (!is_float(d) || row.check.kind == CheckKind::exact) {
    *check = Check::exact;
  } else if (row.check.kind == CheckKind::exact_signed) {
    *check = Check::exact_signed;
  } else {
    *check = Check::bounded;
    *oracle = OracleKind::wide;
    *bounded = true;
  }
}

// ------------------------------------------------------------- the cases

void add_exhaustive(std::vector<CaseEntry>& cases, const UnaryRow& row, chorus_dtype d) {
  const std::string dt = dtype_text(d);
  add_case(cases, std::string(row.name) + "/" + dt + "/special/65536/exhaustive", row.name,
           CHORUS_OP_UNARY, dt, "[256,256]", "special", Tier::ci, [row, d](Rng&) {
             CaseSpec s;
             Operand x;
             x.role = "x";
             x.value = HostTensor(d, {256, 256});
             for (int64_t i = 0; i < 65536; ++i) x.value.set_bits(i, static_cast<uint64_t>(i));
             Operand y;
             y.role = "y";
             y.value = HostTensor(d, {256, 256});
             s.operands = {x, y};
             s.output = 1;
             s.call = unary_call(row, d);
             s.call_text = call_text(row, d);
             bool bounded = false;
             set_check(row, d, &s.check, &s.oracle, &bounded);
             if (bounded) s.bound = unary_bound(row.check);
             // bf16 subnormals are f32 subnormals: flushed under declared FTZ.
             s.subnormal_inputs = d == CHORUS_DTYPE_BF16;
             return s;
           });
}

}  // namespace

chorus_unary_attrs unary_test_attrs(chorus_unary_op op, chorus_dtype d) {
  return test_attrs(kUnaryRows[op], d);
}

void fill_unary_inputs(chorus_unary_op op, HostTensor& t, Rng& rng) {
  fill_domain(kUnaryRows[op].inputs, t, rng);
}

void add_unary_cases(std::vector<CaseEntry>& cases) {
  // Smoke samples the table, not a list of names: at f32 (regular and padded
  // cases) the first op of each CHECK class and of each kind of PARAMS, and
  // at f16 the first op with an absolute floor.
  std::set<std::string> sampled;
  bool f16_sampled = false;
  for (const UnaryRow& row : kUnaryRows) {
    const std::string check_class = std::to_string(static_cast<int>(row.check.kind)) + "/" +
                                    std::to_string(row.check.floor);
    bool smoke_f32 = sampled.insert("check " + check_class).second;
    if (row.params.kind != ParamKind::none)
      smoke_f32 = sampled.insert("params " + std::to_string(static_cast<int>(row.params.kind)))
                      .second ||
                  smoke_f32;
    const bool smoke_f16 = !f16_sampled && row.check.kind == CheckKind::ulps && row.check.floor;
    f16_sampled = f16_sampled || smoke_f16;

    std::vector<chorus_dtype> dtypes = kFloatDtypes;
    if (row.integers) {
      dtypes.push_back(CHORUS_DTYPE_I32);
      dtypes.push_back(CHORUS_DTYPE_I64);
    }
    for (const chorus_dtype d : dtypes) {
      ElementwiseOp e;
      e.op = row.name;
      e.op_kind = CHORUS_OP_UNARY;
      e.dtype_label = dtype_text(d);
      e.inputs = {d};
      e.roles = {"x", "y"};
      e.output = d;
      e.call = unary_call(row, d);
      e.call_text = call_text(row, d);
      bool bounded = false;
      set_check(row, d, &e.check, &e.oracle, &bounded);
      if (bounded) {
        const UnaryCheck c = row.check;
        e.bound = [c] { return unary_bound(c); };
      }
      e.regular_kind = bounded ? "accuracy" : "exact";
      const UnaryInputs domain = row.inputs;
      e.fill = [domain](size_t, HostTensor& t, Rng& rng) { fill_domain(domain, t, rng); };
      const std::vector<long double> specials = special_values(d);
      e.special_count = static_cast<int64_t>(specials.size());
      e.fill_special = [specials](std::vector<HostTensor>& in) { fill_list(in[0], specials); };
      e.in_place_input = 0;
      const bool smoke = (d == CHORUS_DTYPE_F32 && smoke_f32) || (d == CHORUS_DTYPE_F16 && smoke_f16);
      e.smoke_tier = smoke ? Tier::smoke : Tier::ci;
      add_elementwise_sweep(cases, e);
      if (is_16bit_float(d)) add_exhaustive(cases, row, d);
    }
  }
}

}  // namespace chorus::ops::elementwise
