/* unary_table.h — every unary op of chorus, one row each: the single place
 * that says what a unary op is. It is read as an X-macro by every layer:
 *   the core (names, dtype rule, attributes: schema.cpp),
 *   the reference (REFERENCE / REFERENCE_INT: reference.cpp),
 *   the portable kernels (KERNEL / KERNEL_INT: elementwise.cl) and their
 *   planner (kernel names: plan.cpp),
 *   Kokkos (KERNEL / KERNEL_INT: kokkos.cpp),
 *   the conformance suite (CHECK, INPUTS and the test attributes: cases.cpp).
 * It is plain preprocessor text, valid in OpenCL C, CUDA/HIP C++ and host
 * C++: a consumer defines UNARY_OP(...) and includes this file. Adding a
 * unary op is one row here, its enum value in chorus.h and its line in
 * docs/ops.md (docs/adding-an-op.md).
 *
 * UNARY_OP(NAME, name, DTYPES, PARAMS, KERNEL, KERNEL_INT, REFERENCE,
 *          REFERENCE_INT, CHECK, REF, INPUTS)
 *  NAME, name  CHORUS_UNARY_<NAME>; name in messages, kernels, reports.
 *  DTYPES      FLOATS (f32 f16 bf16 f64) or FLOATS_INTS (also i32 and i64:
 *              the ops whose integer result is an integer, computed exactly
 *              and wrapping like every integer op; u8 holds masks and takes
 *              no unary math). The rule, stated once: docs/ops.md.
 *  PARAMS      NO_PARAMS; ALPHA(default, test) for an alpha that is rounded
 *              to the compute type (f32, or f64 for f64 data) before use;
 *              MIN_MAX(test_min, test_max) for clamp's bounds, rounded to the
 *              tensor's dtype (floats) or converted like copy (integers).
 *  KERNEL      the value in the compute type, from x (a scalar or, in OpenCL,
 *              a vector), P0 and P1 (the parameters) and K(c) constants,
 *              with the math builtins every API shares. Forms that do not
 *              cancel (softplus, sigmoid, gelu) are the ones written here.
 *  KERNEL_INT  on integers: from x (64-bit), P0 and P1 as 64-bit integers,
 *              the result's 64-bit two's-complement bits (a U64); NONE when
 *              DTYPES is FLOATS.
 *  REFERENCE   the oracle's formula in T (double, or long double for f64
 *              outputs), from x, alpha, beta; helpers from reference.cpp.
 *  REFERENCE_INT  the oracle on integers (int64_t x, ai, bi -> uint64_t).
 *  CHECK       how the suite judges it: EXACT, EXACT_SIGNED (the sign of
 *              zero counts), or ULPS(f32, f16/bf16, floor) with floor
 *              FLOOR (an absolute floor 8u max(1,|x|) where the function
 *              crosses zero or underflows) or NO_FLOOR. Each value is
 *              derived for any implementation within OpenCL's bounds for the
 *              builtins it uses (src/ops/elementwise/cases_unary.cpp).
 *  REF         IEEE when the op is one correctly rounded IEEE operation (the
 *              reference then computes f64 in double: long double would round
 *              twice), WIDE otherwise.
 *  INPUTS      the test inputs: TYPICAL(sigma), NORMAL(sigma),
 *              UNIFORM(lo, hi), EXP_RANGE, POSITIVE(lo_log2, hi_log2),
 *              LOG1P_RANGE, HALVES, NONZERO, TAILS(sigma, lo, hi) (normal,
 *              a fifth of it uniform in [lo, hi]) (cases_unary.cpp).
 *              sigmoid and silu are written as {1 or e^x}/(1 + e^-|x|):
 *              e^-x overflows below x = -88 (f32), which made 1/(1 + e^-x)
 *              0 where sigmoid is a subnormal number, and silu -0 where it is
 *              a normal one; TAILS(..., -104, -80) tests that range.
 */

UNARY_OP(NEG, neg, FLOATS_INTS, NO_PARAMS,
         (-(x)), ((U64)0 - (U64)(x)),
         (-x), (uint64_t{0} - static_cast<uint64_t>(x)),
         EXACT_SIGNED, IEEE, TYPICAL(10))
UNARY_OP(ABS, abs, FLOATS_INTS, NO_PARAMS,
         fabs(x), ((x) < 0 ? (U64)0 - (U64)(x) : (U64)(x)),
         (std::fabs(x)), (x < 0 ? uint64_t{0} - static_cast<uint64_t>(x) : static_cast<uint64_t>(x)),
         EXACT_SIGNED, IEEE, TYPICAL(10))
UNARY_OP(EXP, exp, FLOATS, NO_PARAMS,
         exp(x), NONE,
         (std::exp(x)), NONE,
         ULPS(3, 2, NO_FLOOR), WIDE, EXP_RANGE)
UNARY_OP(LOG, log, FLOATS, NO_PARAMS,
         log(x), NONE,
         (std::log(x)), NONE,
         ULPS(3, 2, NO_FLOOR), WIDE, POSITIVE(-60, 60))
UNARY_OP(SQRT, sqrt, FLOATS, NO_PARAMS,
         sqrt(x), NONE,
         (std::sqrt(x)), NONE,
         ULPS(3, 1, NO_FLOOR), IEEE, POSITIVE(-60, 60))
UNARY_OP(RSQRT, rsqrt, FLOATS, NO_PARAMS,
         (K(1.0) / sqrt(x)), NONE,
         (T(1) / std::sqrt(x)), NONE,
         ULPS(2, 1, NO_FLOOR), WIDE, POSITIVE(-60, 60))
UNARY_OP(TANH, tanh, FLOATS, NO_PARAMS,
         tanh(x), NONE,
         (std::tanh(x)), NONE,
         ULPS(5, 2, FLOOR), WIDE, NORMAL(3))
UNARY_OP(SIGMOID, sigmoid, FLOATS, NO_PARAMS,
         (((x) >= K(0.0) ? K(1.0) : exp(x)) / (K(1.0) + exp(-fabs(x)))), NONE,
         (ref_sigmoid(x)), NONE,
         ULPS(5, 2, NO_FLOOR), WIDE, TAILS(8, -104, -80))
UNARY_OP(RELU, relu, FLOATS_INTS, NO_PARAMS,
         (((x) > K(0.0) || (x) != (x)) ? (x) : K(0.0)), ((x) > 0 ? (U64)(x) : (U64)0),
         (ref_relu(x)), (x > 0 ? static_cast<uint64_t>(x) : uint64_t{0}),
         EXACT, IEEE, TYPICAL(10))
UNARY_OP(GELU_ERF, gelu_erf, FLOATS, NO_PARAMS,
         (K(0.5) * (x) * erfc((x) * K(-0.70710678118654752))), NONE,
         (ref_gelu_erf(x)), NONE,
         ULPS(16, 4, FLOOR), WIDE, NORMAL(4))
UNARY_OP(GELU_TANH, gelu_tanh, FLOATS, NO_PARAMS,
         ((x) / (K(1.0) + exp(K(-1.5957691216057308) * ((x) + K(0.044715) * (x) * (x) * (x))))), NONE,
         (ref_gelu_tanh(x)), NONE,
         ULPS(5, 2, FLOOR), WIDE, NORMAL(4))
UNARY_OP(SILU, silu, FLOATS, NO_PARAMS,
         ((x) * (((x) >= K(0.0) ? K(1.0) : exp(x)) / (K(1.0) + exp(-fabs(x))))), NONE,
         (x * ref_sigmoid(x)), NONE,
         ULPS(5, 2, FLOOR), WIDE, TAILS(4, -104, -80))
/* ---- since ABI 2.1 */
UNARY_OP(LEAKY_RELU, leaky_relu, FLOATS, ALPHA(0.01, 0.2),
         ((x) > K(0.0) ? (x) : (x) * P0), NONE,
         (x > 0 ? x : x * alpha), NONE,
         ULPS(1, 1, NO_FLOOR), IEEE, NORMAL(10))
UNARY_OP(ELU, elu, FLOATS, ALPHA(1.0, 1.5),
         ((x) > K(0.0) ? (x) : P0 * expm1(x)), NONE,
         (x > 0 ? x : alpha * std::expm1(x)), NONE,
         ULPS(7, 2, NO_FLOOR), WIDE, NORMAL(4))
UNARY_OP(SOFTPLUS, softplus, FLOATS, NO_PARAMS,
         ((x) > K(0.0) ? (x) + log1p(exp(-(x))) : log1p(exp(x))), NONE,
         (x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x))), NONE,
         ULPS(11, 2, NO_FLOOR), WIDE, NORMAL(8))
UNARY_OP(HARDSIGMOID, hardsigmoid, FLOATS, NO_PARAMS,
         ((x) <= K(-3.0) ? K(0.0) : (x) >= K(3.0) ? K(1.0) : ((x) + K(3.0)) / K(6.0)), NONE,
         (x <= -3 ? T(0) : x >= 3 ? T(1) : (x + 3) / 6), NONE,
         ULPS(4, 1, NO_FLOOR), WIDE, UNIFORM(-5, 5))
UNARY_OP(HARDSWISH, hardswish, FLOATS, NO_PARAMS,
         ((x) <= K(-3.0) ? K(0.0) : (x) >= K(3.0) ? (x) : (x) * ((x) + K(3.0)) / K(6.0)), NONE,
         (x <= -3 ? T(0) : x >= 3 ? x : x * (x + 3) / 6), NONE,
         ULPS(5, 2, NO_FLOOR), WIDE, UNIFORM(-5, 5))
UNARY_OP(SIN, sin, FLOATS, NO_PARAMS,
         sin(x), NONE,
         (std::sin(x)), NONE,
         ULPS(4, 2, NO_FLOOR), WIDE, NORMAL(10))
UNARY_OP(COS, cos, FLOATS, NO_PARAMS,
         cos(x), NONE,
         (std::cos(x)), NONE,
         ULPS(4, 2, NO_FLOOR), WIDE, NORMAL(10))
UNARY_OP(ERF, erf, FLOATS, NO_PARAMS,
         erf(x), NONE,
         (std::erf(x)), NONE,
         ULPS(16, 4, NO_FLOOR), WIDE, NORMAL(2))
UNARY_OP(LOG1P, log1p, FLOATS, NO_PARAMS,
         log1p(x), NONE,
         (std::log1p(x)), NONE,
         ULPS(2, 2, NO_FLOOR), WIDE, LOG1P_RANGE)
UNARY_OP(EXPM1, expm1, FLOATS, NO_PARAMS,
         expm1(x), NONE,
         (std::expm1(x)), NONE,
         ULPS(3, 2, NO_FLOOR), WIDE, EXP_RANGE)
UNARY_OP(FLOOR, floor, FLOATS, NO_PARAMS,
         floor(x), NONE,
         (std::floor(x)), NONE,
         EXACT_SIGNED, IEEE, HALVES)
UNARY_OP(CEIL, ceil, FLOATS, NO_PARAMS,
         ceil(x), NONE,
         (std::ceil(x)), NONE,
         EXACT_SIGNED, IEEE, HALVES)
UNARY_OP(ROUND, round, FLOATS, NO_PARAMS,
         rint(x), NONE,
         (std::nearbyint(x)), NONE,
         EXACT_SIGNED, IEEE, HALVES)
UNARY_OP(SIGN, sign, FLOATS_INTS, NO_PARAMS,
         ((x) > K(0.0) ? K(1.0) : (x) < K(0.0) ? K(-1.0) : (x)), ((x) > 0 ? (U64)1 : (x) < 0 ? ~(U64)0 : (U64)0),
         (x > 0 ? T(1) : x < 0 ? T(-1) : x), (x > 0 ? uint64_t{1} : x < 0 ? ~uint64_t{0} : uint64_t{0}),
         EXACT_SIGNED, IEEE, TYPICAL(10))
UNARY_OP(SQUARE, square, FLOATS_INTS, NO_PARAMS,
         ((x) * (x)), ((U64)(x) * (U64)(x)),
         (x * x), (static_cast<uint64_t>(x) * static_cast<uint64_t>(x)),
         EXACT, IEEE, TYPICAL(10))
UNARY_OP(RECIPROCAL, reciprocal, FLOATS, NO_PARAMS,
         (K(1.0) / (x)), NONE,
         (T(1) / x), NONE,
         ULPS(2.5, 1, NO_FLOOR), IEEE, NONZERO)
UNARY_OP(CLAMP, clamp, FLOATS_INTS, MIN_MAX(-1.5, 2.25),
         CK_MINIMUM(CK_MAXIMUM(x, P0), P1), ((x) < P0 ? ((P0) > P1 ? (U64)P1 : (U64)P0) : (x) > P1 ? (U64)P1 : (U64)(x)),
         (ref_clamp(x, alpha, beta)), (x < ai ? static_cast<uint64_t>(ai > bi ? bi : ai) : x > bi ? static_cast<uint64_t>(bi) : static_cast<uint64_t>(x)),
         EXACT, IEEE, NORMAL(4))
/* softsign, bound 4: 1 + |x| rounds once (a relative u, at most 1 ulp of y),
 * OpenCL's division adds 2.5 ulp: 3.5 <= 4. 16-bit: the f32 error is a small
 * fraction of an ulp, one rounding: 1. */
UNARY_OP(SOFTSIGN, softsign, FLOATS, NO_PARAMS,
         ((x) / (K(1.0) + fabs(x))), NONE,
         (x / (1 + std::fabs(x))), NONE,
         ULPS(4, 1, NO_FLOOR), WIDE, NORMAL(10))
