/* unary_grad_table.h — the gradients of chorus's activation functions (the
 * unary_backward op, since ABI 2.5), one row each: dx = dy * f'(x), from x,
 * or from y = f(x) where the row says the formula allows it. Read as an
 * X-macro by every layer, like unary_table.h (whose rows these are):
 *   the core (which ops have a gradient, which take y: schema.cpp),
 *   the reference (REFERENCE_X / REFERENCE_Y: reference.cpp),
 *   the portable kernels (KERNEL_X / KERNEL_Y: elementwise.cl, EW_UNARY_GRAD)
 *   and their planner (plan.cpp), Kokkos (kokkos_unary.hpp),
 *   the conformance suite (CHECK, SCALE_X / SCALE_Y: cases_unary_grad.cpp).
 * Plain preprocessor text, valid in OpenCL C, CUDA/HIP C++ and host C++.
 *
 * UNARY_GRAD(NAME, name, FROM_Y, KERNEL_X, KERNEL_Y, REFERENCE_X, REFERENCE_Y,
 *            CHECK, SCALE_X, SCALE_Y)
 *  NAME, name  the unary_table.h row (CHORUS_UNARY_<NAME>).
 *  FROM_Y      Y_ANY: y serves for any parameters; Y_ALPHA_POSITIVE /
 *              Y_ALPHA_NONNEGATIVE: only for alpha > 0 / >= 0 (otherwise y
 *              does not tell the branch: leaky_relu, elu); Y_NONE: x only.
 *  KERNEL_X    dx in the compute type from x, g (dy), P0, P1 (the forward's
 *              alpha and beta, normalised as for the unary op) and K(c)
 *              constants, with the math builtins every API shares, valid for
 *              a scalar and an OpenCL vector alike. The forms are the ones
 *              that neither overflow nor cancel: e^-|v| instead of e^-v, the
 *              logistic derivative as e/(1+e)^2 instead of s(1-s).
 *  KERNEL_Y    the same from y (NONE when FROM_Y is Y_NONE).
 *  REFERENCE_X, REFERENCE_Y  the oracle's dx from x or y and g, in T
 *              (double, or long double for f64 outputs), with the helpers of
 *              unary_grad_math.hpp, selecting 0 where the kernel does; NONE
 *              for no y form.
 *  CHECK       EXACT: the result is a selection of dy or 0, compared bit for
 *              bit; BOUND: |dx - dx*| <= kC |dy| (u SCALE + 8 (1 + |v|) eta)
 *              + R, with SCALE_X or SCALE_Y (in T, of x or y and alpha) the
 *              roundings of the kernel's form counted to first order, each
 *              times the magnitude it scales (derivations beside the cases:
 *              cases_unary_grad.cpp), eta the compute type's smallest
 *              subnormal (underflowed exponentials), v the input.
 *
 * Semantics (docs/ops.md "Activation gradients"): PyTorch's backward formulas,
 * including which side of a kink takes which branch: relu's gradient is 0 at
 * x <= 0, leaky_relu's slope applies at x <= 0, clamp passes dy for
 * min <= x <= max (clamp's autograd, not hardtanh's open interval). A NaN x
 * gives NaN where the formula computes with x and the "else" branch where it
 * only compares (relu: dy). Selected zeros are +0 whatever dy is.
 */

#ifndef CHORUS_UNARY_GRAD_HELPERS
#define CHORUS_UNARY_GRAD_HELPERS
/* e^-|v| (never overflows), the logistic function and its derivative
 * written with it: sigma(v) = 1/(1+e) for v >= 0, e/(1+e) otherwise;
 * sigma'(v) = e/(1+e)^2. NaN propagates (v >= 0 is false, e is NaN). */
#define UG_EXPNEG(v) exp(-fabs(v))
#define UG_SIGMOID(v) (((v) >= K(0.0) ? K(1.0) : UG_EXPNEG(v)) / (K(1.0) + UG_EXPNEG(v)))
#define UG_DSIGMOID(v) (UG_EXPNEG(v) / ((K(1.0) + UG_EXPNEG(v)) * (K(1.0) + UG_EXPNEG(v))))
/* gelu_tanh's inner argument is w = 2 sqrt(2/pi) (x + 0.044715 x^3), its
 * value x sigma(w); x is clamped to +-1e4 first (beyond it the gradient is
 * 0 or 1 in every precision, and w' would overflow to inf * 0). */
#define UG_CLAMP4(x) ((x) < K(-1e4) ? K(-1e4) : (x) > K(1e4) ? K(1e4) : (x))
#define UG_GT_W(c) (K(1.5957691216057308) * ((c) + K(0.044715) * (c) * (c) * (c)))
#define UG_GT_DW(c) (K(1.5957691216057308) * (K(1.0) + K(0.134145) * (c) * (c)))
#endif

UNARY_GRAD(RELU, relu, Y_ANY,
           ((x) <= K(0.0) ? K(0.0) : (g)),
           ((y) <= K(0.0) ? K(0.0) : (g)),
           (x <= 0 ? T(0) : g),
           (y <= 0 ? T(0) : g),
           EXACT, 0, 0)
UNARY_GRAD(LEAKY_RELU, leaky_relu, Y_ALPHA_POSITIVE,
           ((x) > K(0.0) ? (g) : (g) * P0),
           ((y) > K(0.0) ? (g) : (g) * P0),
           (x > 0 ? g : g * alpha),
           (y > 0 ? g : g * alpha),
           BOUND, (x > 0 ? T(0) : std::fabs(alpha)), (y > 0 ? T(0) : std::fabs(alpha)))
UNARY_GRAD(ELU, elu, Y_ALPHA_NONNEGATIVE,
           ((x) <= K(0.0) ? (g) * (P0 * exp(x)) : (g)),
           ((y) <= K(0.0) ? (g) * ((y) + P0) : (g)),
           (x <= 0 ? g * (alpha * std::exp(x)) : g),
           (y <= 0 ? g * (y + alpha) : g),
           BOUND, (x <= 0 ? 8 * std::fabs(alpha * std::exp(x)) : T(0)),
           (y <= 0 ? 2 * std::fabs(y + alpha) : T(0)))
UNARY_GRAD(SIGMOID, sigmoid, Y_ANY,
           ((g) * UG_DSIGMOID(x)),
           ((g) * ((K(1.0) - (y)) * (y))),
           (g * gm_dsigmoid(x)),
           (g * ((1 - y) * y)),
           BOUND, 21 * gm_dsigmoid(x), 3 * std::fabs((1 - y) * y))
UNARY_GRAD(TANH, tanh, Y_ANY,
           ((g) * (K(4.0) * UG_DSIGMOID(K(2.0) * (x)))),
           ((g) * (K(1.0) - (y) * (y))),
           (g * (4 * gm_dsigmoid(2 * x))),
           (g * (1 - y * y)),
           BOUND, 84 * gm_dsigmoid(2 * x), (y * y + 2 * std::fabs(1 - y * y)))
UNARY_GRAD(GELU_ERF, gelu_erf, Y_NONE,
           ((g) * (K(0.5) * erfc((x) * K(-0.70710678118654752)) +
                   (x) * (exp(K(-0.5) * (x) * (x)) * K(0.39894228040143268)))),
           NONE,
           (g * (gm_gelu_erf_cdf(x) + x * gm_gelu_erf_pdf(x))),
           NONE,
           BOUND, (34 * gm_gelu_erf_cdf(x) + (13 + x * x / 2) * std::fabs(x * gm_gelu_erf_pdf(x))),
           NONE)
UNARY_GRAD(GELU_TANH, gelu_tanh, Y_NONE,
           ((g) * (UG_SIGMOID(UG_GT_W(UG_CLAMP4(x))) +
                   UG_CLAMP4(x) * UG_GT_DW(UG_CLAMP4(x)) * UG_DSIGMOID(UG_GT_W(UG_CLAMP4(x))))),
           NONE,
           (g * gm_gelu_tanh_grad(x)),
           NONE,
           BOUND, (gm_gelu_tanh_scale(x)),
           NONE)
UNARY_GRAD(SILU, silu, Y_NONE,
           ((g) * (UG_SIGMOID(x) + (x) * UG_DSIGMOID(x))),
           NONE,
           (g * (gm_sigmoid(x) + x * gm_dsigmoid(x))),
           NONE,
           BOUND, (17 * gm_sigmoid(x) + 23 * std::fabs(x * gm_dsigmoid(x))),
           NONE)
UNARY_GRAD(SOFTPLUS, softplus, Y_NONE,
           ((g) * UG_SIGMOID(x)),
           NONE,
           (g * gm_sigmoid(x)),
           NONE,
           BOUND, 16 * gm_sigmoid(x),
           NONE)
UNARY_GRAD(HARDSIGMOID, hardsigmoid, Y_NONE,
           (((x) > K(-3.0) && (x) < K(3.0)) ? (g) * K(0.16666666666666667) : K(0.0)),
           NONE,
           ((x > -3 && x < 3) ? g / 6 : T(0)),
           NONE,
           BOUND, ((x > -3 && x < 3) ? T(2) / 6 : T(0)),
           NONE)
UNARY_GRAD(HARDSWISH, hardswish, Y_NONE,
           ((x) < K(-3.0) ? K(0.0)
                          : (x) < K(3.0) ? (g) * ((x) * K(0.33333333333333333) + K(0.5)) : (g)),
           NONE,
           (x < -3 ? T(0) : x < 3 ? g * (x / 3 + T(0.5)) : g),
           NONE,
           BOUND,
           ((x >= -3 && x < 3) ? 2 * std::fabs(x) / 3 + 2 * std::fabs(x / 3 + T(0.5)) : T(0)),
           NONE)
UNARY_GRAD(CLAMP, clamp, Y_NONE,
           (((x) >= P0 && (x) <= P1) ? (g) : K(0.0)),
           NONE,
           ((x >= alpha && x <= beta) ? g : T(0)),
           NONE,
           EXACT, 0,
           NONE)
UNARY_GRAD(SOFTSIGN, softsign, Y_NONE,
           ((g) / (K(1.0) + fabs(x)) / (K(1.0) + fabs(x))),
           NONE,
           (g / ((1 + std::fabs(x)) * (1 + std::fabs(x)))),
           NONE,
           BOUND, 12 / ((1 + std::fabs(x)) * (1 + std::fabs(x))),
           NONE)
