// bounds.hpp — per-element error bounds, each derived in bounds.cpp next to
// its formula. Bounds depend on the op, the dtype, the inputs and the
// numerics the queue declares; never on a device's name or vendor.
#pragma once

#include <chorus/chorus.h>

#include "detail.hpp"

namespace chorus::conformance::detail::bounds {

// The constant c of CONFORMANCE.md: every derivation below counts roundings
// to first order and then doubles the count, so second-order terms and the
// rounding of the bound's own scale never decide a verdict.
constexpr double kC = 2.0;

// u of the accumulation type: f32 for f32/f16/bf16 outputs, f64 for f64.
double accumulation_u(chorus_dtype out);
// R: the final rounding to the output dtype. One ulp at y for 16-bit outputs
// (half an ulp for the device's rounding, half for the oracle's reference
// point sitting anywhere between two 16-bit values); for f32/f64 only the
// underflow term of the rounding model, fl(v) = v(1+d) + e with |e| below
// the smallest subnormal, which no relative bound covers.
double final_rounding(chorus_dtype out, double y);

// ulp allowance of a unary op (0: bit-exact class).
double unary_ulps(chorus_unary_op op, chorus_dtype dtype);
// x = operand 0, same shape as the output.
BoundFn unary(chorus_unary_op op);
// div and pow (add/sub/mul/max/min are bit-exact).
BoundFn binary(chorus_binary_op op);
// sum or mean of x (operand 0) over axes_mask into the output (operand 1).
BoundFn reduce(chorus_reduce_op op, uint32_t axes_mask);

struct GemmParams {
  bool transpose_a = false, transpose_b = false;
  double alpha = 1, beta = 0;
  chorus_activation activation = CHORUS_ACTIVATION_NONE;
  int64_t k = 0;
};
// Operands a, b, bias (may be absent), c.
BoundFn gemm(const GemmParams& params);
// x, y along axis.
BoundFn softmax(int32_t axis, bool log);
// x, gamma, beta (either may be absent), y over the last axis.
BoundFn layer_norm(double eps);
// x, gamma (may be absent), y over the last axis.
BoundFn rms_norm();

}  // namespace chorus::conformance::detail::bounds
