// bounds.hpp — the generic parts of the suite's per-element error bounds:
// the unit roundoffs, the final rounding R, the ulp machinery shared by the
// elementwise ops, and small helpers for bounds computed from the oracle.
// Each op's own bound, with its derivation, lives beside its cases
// (src/ops/<family>/cases*.cpp). Bounds depend on the op, the dtype, the
// inputs and the numerics the queue declares; never on a device's name or
// vendor.
//
// Notation used by every derivation: y is the oracle's value of an element
// (computed in f64 or long double from the very inputs the device got, so it
// is the exact result to far below any bound here), u the unit roundoff of
// the accumulation type (2^-24 for f32, f16 and bf16 outputs, which compute in
// f32; 2^-53 for f64), ulp(y) the spacing of the output dtype at y, R the
// final rounding (final_rounding below), c = kC = 2. "Roundings to first
// order" uses the standard model fl(a op b) = (a op b)(1 + d), |d| <= u, and
// gamma_n = n u / (1 - n u).
//
// Exact classes (copy/convert, fill, relu, neg, abs, max, min, compare, where,
// argmax, integer ops, reduce max/min, add/sub/mul) need no bound: the harness
// compares them bit for bit (Check::exact*).
//
// f64 outputs: the oracle is then itself an f64 value, rounded once from a
// long double computation, so it may sit half an ulp from the exact result;
// ulp-based bounds add that half ulp (oracle_rounding) and nothing else.
#pragma once

#include <chorus/chorus.h>

#include "detail.hpp"

namespace chorus::conformance::detail::bounds {

// The constant c of CONFORMANCE.md: every derivation counts roundings to
// first order and then doubles the count, so second-order terms and the
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
// ulp of dtype d at y.
double ulp_of(chorus_dtype d, long double y);
// Half an ulp of the f64 oracle's own rounding (see the file comment); 0 for
// every other output dtype.
double oracle_rounding(chorus_dtype out, long double y);
// The dtype an op computes in: f32 for every narrower float, else itself.
chorus_dtype compute_dtype(chorus_dtype out);

// An absolute floor for functions that cross zero or underflow, where a
// relative (ulp) bound asks for more than any f32 formula gives: 8 u
// max(1, |x|) with x the input. Its derivation is with the functions that
// use it (the unary ops, GEMM's activation epilogue).
double absolute_floor(chorus_dtype out, long double x);

// The ulp machinery of the elementwise ops: a bound of `ulps` ulps of the
// output at y, where ulps is `wide_ulps` for f32/f64 outputs and
// `narrow_ulps` for f16/bf16 outputs; with `floor`, at least
// absolute_floor(x) (plus R for 16-bit outputs, whose f32 value near the
// floor is rounded once more), x being operand 0 (broadcast to the output).
// Plus oracle_rounding. Each op that uses it derives its ulps beside its
// cases.
BoundFn ulps(double wide_ulps, double narrow_ulps, bool floor);

// ---- helpers for bounds that run the reference on magnitudes

// |t| element by element (t itself when absent).
HostTensor absolute(const HostTensor& t);
// Flat index into an input of in_shape broadcast (numpy, aligned at the last
// axis) to out_shape.
int64_t broadcast_source(const std::vector<int64_t>& out_shape,
                         const std::vector<int64_t>& in_shape, int64_t flat);
// The bound of a sum whose every term carries at most `rounds` roundings
// to first order (a dot product of K terms: K, plus one per addition or
// division after it): kC rounds (u S + eta) + R + the f64 oracle's half
// ulp, S the op's result on the magnitudes of its operands (`call` run by
// the reference on |operands|; the op must be monotone in them, as sums of
// products and quotients by positive counts are), eta the compute type's
// smallest subnormal (an underflowed product or partial sum, which no
// relative bound covers). With `tf32_products`, an f32 output whose queue
// declares CHORUS_NUMERICS_ALLOW_TF32 adds kC 2^-11 S (inputs rounded to 10
// fraction bits before they multiply: GEMM's rule in CONFORMANCE.md).
// Operands listed in `as_given` reach the reference unchanged: those that
// select rather than scale (pooling's indices, or the x whose argmax routes
// a gradient), whose magnitudes would select something else. With
// `output_is_read` the output's old value (its magnitude) is a term too
// (an in-out output: scatter-add's out).
BoundFn magnitude_sum(int64_t rounds, OpCall call, bool tf32_products,
                      std::vector<size_t> as_given = {}, bool output_is_read = false);
// a * |b| where b == 0 means "this element is exactly zero": the relative
// part of its bound is then 0 even when a is infinite (a masked -inf element).
double times(double a, long double b);

// Rows of `shape` along `axis`: calls row(first, stride, n) for each, first
// being the flat (row-major) index of the row's element 0.
template <typename Row>
void for_each_row(const std::vector<int64_t>& shape, size_t axis, Row&& row) {
  int64_t outer = 1, inner = 1;
  for (size_t k = 0; k < axis; ++k) outer *= shape[k];
  for (size_t k = axis + 1; k < shape.size(); ++k) inner *= shape[k];
  const int64_t n = shape[axis];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) row(o * n * inner + i, inner, n);
}

}  // namespace chorus::conformance::detail::bounds
