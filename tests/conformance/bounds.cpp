// bounds.cpp — every per-element bound of the suite, with its derivation.
//
// Notation: y is the oracle's value of an element (computed in f64 or long
// double from the very inputs the device got, so it is the exact result to
// far below any bound here), u the unit roundoff of the accumulation type
// (2^-24 for f32, f16 and bf16 outputs, which compute in f32; 2^-53 for f64),
// ulp(y) the spacing of the output dtype at y, R the final rounding (see
// bounds.hpp), c = kC = 2. "Roundings to first order" uses the standard model
// fl(a op b) = (a op b)(1 + d), |d| <= u, and gamma_n = n u / (1 - n u).
//
// Exact classes (copy/convert, fill, relu, neg, abs, max, min, compare, where,
// argmax, integer ops, reduce max/min, add/sub/mul) need no bound: the harness
// compares them bit for bit (Check::exact*). add/sub/mul are exact against an
// oracle in the output dtype because the reference computes them in double,
// and double is wide enough (53 >= 2*24 + 2) that double-then-round is the
// correctly rounded f32/f16/bf16 result (and f64 is computed in double).
//
// f64 outputs: the oracle is then itself an f64 value, rounded once from a
// long double computation, so it may sit half an ulp from the exact result;
// ulp-based bounds add that half ulp (oracle_rounding) and nothing else.
#include "bounds.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "common/numeric.hpp"

namespace chorus::conformance::detail::bounds {
namespace {

double ulp_of(chorus_dtype d, long double y) {
  return numeric::ulp(d, static_cast<double>(y));
}

// Half an ulp of the f64 oracle's own rounding (see the file comment).
double oracle_rounding(chorus_dtype out, long double y) {
  return out == CHORUS_DTYPE_F64 ? 0.5 * ulp_of(out, y) : 0.0;
}

// The dtype an op computes in: f32 for every narrower float, else itself.
chorus_dtype compute_dtype(chorus_dtype out) {
  return out == CHORUS_DTYPE_F64 ? CHORUS_DTYPE_F64 : CHORUS_DTYPE_F32;
}

// Flat index into an input of in_shape broadcast (numpy, aligned at the last
// axis) to out_shape.
int64_t broadcast_source(const std::vector<int64_t>& out_shape,
                         const std::vector<int64_t>& in_shape, int64_t flat) {
  if (in_shape == out_shape) return flat;
  int64_t source = 0, in_stride = 1;
  const size_t lead = out_shape.size() - in_shape.size();
  for (size_t k = out_shape.size(); k-- > 0;) {
    const int64_t index = flat % out_shape[k];
    flat /= out_shape[k];
    if (k < lead) continue;
    const int64_t extent = in_shape[k - lead];
    if (extent != 1) source += index * in_stride;
    in_stride *= extent;
  }
  return source;
}

HostTensor absolute(const HostTensor& t) {
  if (!t.present) return t;
  HostTensor a = t;
  for (int64_t i = 0; i < t.numel(); ++i) a.set(i, std::fabs(t.get(i)));
  return a;
}

// Rows of `shape` along `axis`: calls row(first, stride, n) for each.
template <typename Row>
void for_each_row(const std::vector<int64_t>& shape, size_t axis, Row&& row) {
  int64_t outer = 1, inner = 1;
  for (size_t k = 0; k < axis; ++k) outer *= shape[k];
  for (size_t k = axis + 1; k < shape.size(); ++k) inner *= shape[k];
  const int64_t n = shape[axis];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) row(o * n * inner + i, inner, n);
}

// a * b where b == 0 means "this element is exactly zero": the relative part
// of its bound is then 0 even when a is infinite (a masked -inf element).
double times(double a, long double b) {
  return b == 0 ? 0.0 : a * static_cast<double>(std::fabs(b));
}

}  // namespace

double accumulation_u(chorus_dtype out) {
  return out == CHORUS_DTYPE_F64 ? std::ldexp(1.0, -53) : std::ldexp(1.0, -24);
}

double final_rounding(chorus_dtype out, double y) {
  if (is_16bit_float(out)) return numeric::ulp(out, y);
  return min_subnormal(out);
}

// ------------------------------------------------------------- unary

double unary_ulps(chorus_unary_op op, chorus_dtype dtype) {
  // 16-bit outputs are computed in f32 and rounded once: the f32 error is a
  // tiny fraction of a 16-bit ulp, so the allowance is mostly that rounding
  // (half an ulp) plus the oracle's half ulp; the table's 1-2 ulp leave
  // room for f32 math functions of the precision the f32 column allows.
  const bool narrow = is_16bit_float(dtype);
  switch (op) {
    case CHORUS_UNARY_NEG:
    case CHORUS_UNARY_ABS:
    case CHORUS_UNARY_RELU:
      return 0;  // bit-exact class
    case CHORUS_UNARY_SQRT:
      return narrow ? 1 : 3;
    case CHORUS_UNARY_RSQRT:
      return narrow ? 1 : 2;
    case CHORUS_UNARY_EXP:
    case CHORUS_UNARY_LOG:
      return narrow ? 2 : 3;
    case CHORUS_UNARY_TANH:
    case CHORUS_UNARY_SIGMOID:
    case CHORUS_UNARY_SILU:
    case CHORUS_UNARY_GELU_TANH:
      return narrow ? 2 : 5;
    // gelu_erf contains erf, whose own allowance is 16 ulp (OpenCL's erf).
    case CHORUS_UNARY_GELU_ERF:
      return narrow ? 4 : 16;
    default:
      return 0;
  }
}

namespace {
// Functions that cross zero (tanh, silu, gelu at 0) or underflow (sigmoid,
// silu, gelu for large negative x): near those points a relative (ulp) bound
// asks for more than any f32 formula gives. gelu_tanh(x) = 0.5x(1 + tanh(z))
// and gelu_erf(x) = 0.5x(1 + erf(x/sqrt2)) cancel for x < 0, leaving an
// absolute error of a few u times |x|; sigmoid as 0.5 + 0.5 tanh(x/2) leaves
// a few u absolute. Floor: 8 u max(1, |x|) absolute.
bool has_absolute_floor(chorus_unary_op op) {
  return op == CHORUS_UNARY_TANH || op == CHORUS_UNARY_SIGMOID || op == CHORUS_UNARY_SILU ||
         op == CHORUS_UNARY_GELU_TANH || op == CHORUS_UNARY_GELU_ERF;
}
double absolute_floor(chorus_dtype out, long double x) {
  return 8 * accumulation_u(out) * std::max(1.0L, std::fabs(x));
}
}  // namespace

BoundFn unary(chorus_unary_op op) {
  return [op](const BoundInputs& in) {
    const HostTensor& x = in.operands[0];
    const HostTensor& y = in.expected;
    const chorus_dtype out = in.out_dtype;
    const double ulps = unary_ulps(op, out);
    std::vector<double> b(static_cast<size_t>(y.numel()));
    for (int64_t i = 0; i < y.numel(); ++i) {
      const long double yi = y.get(i);
      double bound = ulps * ulp_of(out, yi);
      if (has_absolute_floor(op)) {
        // For 16-bit outputs the f32 value near the floor is rounded once
        // more: floor + R.
        double floor = absolute_floor(out, x.get(broadcast_source(y.shape, x.shape, i)));
        if (is_16bit_float(out)) floor += final_rounding(out, static_cast<double>(yi));
        bound = std::max(bound, floor);
      }
      b[static_cast<size_t>(i)] = bound + oracle_rounding(out, yi);
    }
    return b;
  };
}

// ------------------------------------------------------------- binary

BoundFn binary(chorus_binary_op op) {
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
  const bool is_pow = op == CHORUS_BINARY_POW;
  return [is_pow](const BoundInputs& in) {
    const HostTensor& y = in.expected;
    const chorus_dtype out = in.out_dtype;
    const bool narrow = is_16bit_float(out);
    const double ulps = is_pow ? (narrow ? 2 : 16) : (narrow ? 1 : 2.5);
    std::vector<double> b(static_cast<size_t>(y.numel()));
    for (int64_t i = 0; i < y.numel(); ++i)
      b[static_cast<size_t>(i)] = ulps * ulp_of(out, y.get(i)) + oracle_rounding(out, y.get(i));
    return b;
  };
}

// ---------------------------------------------------------- reductions

BoundFn reduce(chorus_reduce_op op, uint32_t axes_mask) {
  // sum of n terms in any order (sequential, pairwise, tree, atomics):
  //   |err| <= gamma_(n-1) sum|x|  (n-1 additions, each rounding relative to
  //   a partial sum bounded by sum|x|), plus the final rounding of an f32
  //   output, u |y| <= u sum|x|. Total <= n u sum|x| (1 + O(nu)), so
  //   |err| <= c n u sum|x| + R, the R for 16-bit outputs.
  // mean = sum / n: the sum's error divided by n plus one more rounding,
  //   u |mean| <= u mean|x|: (n-1) u mean|x| + 2u mean|x| <= c n u mean|x| + R
  //   (n >= 1). The reference's mean of |x| is that scale.
  // S (sum|x| or mean|x|) comes from the reference run on |x|.
  return [op, axes_mask](const BoundInputs& in) {
    const HostTensor& y = in.expected;
    std::vector<HostTensor> scale{absolute(in.operands[0]), HostTensor(y.dtype, y.shape)};
    const OpCall call = [op, axes_mask](chorus_queue q,
                                        const std::vector<const chorus_tensor*>& t) {
      return chorus_reduce(q, op, t[0], axes_mask, t[1]);
    };
    in.reference.run(call, scale, 1, false);
    const double n =
        y.numel() ? static_cast<double>(in.operands[0].numel()) / static_cast<double>(y.numel())
                  : 0;
    const double u = accumulation_u(in.out_dtype);
    std::vector<double> b(static_cast<size_t>(y.numel()));
    for (int64_t i = 0; i < y.numel(); ++i)
      b[static_cast<size_t>(i)] = kC * n * u * static_cast<double>(scale[1].get(i)) +
                                  final_rounding(in.out_dtype, static_cast<double>(y.get(i)));
    return b;
  };
}

// ---------------------------------------------------------------- GEMM

BoundFn gemm(const GemmParams& p) {
  // c = act(alpha * sum_k a_ik b_kj + beta c + bias), K products summed in
  // any order: gamma_K on sum|a||b|; times alpha, plus beta c (one product,
  // one addition) and plus bias (one addition) make at most K + 3 roundings
  // on any term, so |err| <= (K+3) u S (1 + O(Ku)) <= c (K+2) u S + R with
  //   S = |alpha| |A||B| + |beta| |C| + |bias|,
  // computed by the reference on absolute values (no activation).
  // allow_tf32 (declared by the queue, f32 only): inputs rounded to 10
  // fraction bits, u_in = 2^-11, add c u_in S.
  // Underflow: a product that lands below the normal range is off by up to
  // half a subnormal quantum in absolute terms, which no relative bound
  // covers; K products and three more operations add (K+3) eta, taken as
  // c (K+2) eta with eta the compute type's smallest subnormal.
  // Activation: the pre-activation t carries |dt| <= the bound above; the
  // activation adds its own error, so
  //   bound = L * bound_pre + (activation's ulp bound, with its absolute floor)
  // with L = max|phi'| = 1.2 (gelu_erf 1.13, gelu_tanh 1.13, silu 1.10) and
  // L = 1, no extra error, for relu.
  return [p](const BoundInputs& in) {
    const HostTensor& y = in.expected;
    const chorus_dtype out = in.out_dtype;
    const double u = accumulation_u(out);
    const chorus_gemm_desc original{
        sizeof(chorus_gemm_desc), p.transpose_a, p.transpose_b, p.alpha, p.beta,
        CHORUS_ACTIVATION_NONE};
    const auto call_with = [](chorus_gemm_desc desc) -> OpCall {
      return [desc](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
        return chorus_gemm(q, &desc, t[0], t[1], t[2], t[3]);
      };
    };
    chorus_gemm_desc magnitude = original;
    magnitude.alpha = std::fabs(p.alpha);
    magnitude.beta = std::fabs(p.beta);
    std::vector<HostTensor> scale;
    for (const HostTensor& t : in.operands) scale.push_back(absolute(t));
    const bool read_c = p.beta != 0;
    if (!read_c) scale[3] = HostTensor(y.dtype, y.shape);
    in.reference.run(call_with(magnitude), scale, 3, read_c);

    const bool smooth = p.activation == CHORUS_ACTIVATION_GELU_ERF ||
                        p.activation == CHORUS_ACTIVATION_GELU_TANH ||
                        p.activation == CHORUS_ACTIVATION_SILU;
    std::vector<HostTensor> pre;
    if (smooth) {
      pre = in.operands;
      if (!read_c) pre[3] = HostTensor(y.dtype, y.shape);
      in.reference.run(call_with(original), pre, 3, read_c);
    }
    const double tf32 = (in.numerics & CHORUS_NUMERICS_ALLOW_TF32) && out == CHORUS_DTYPE_F32
                            ? kC * std::ldexp(1.0, -11)
                            : 0.0;
    const double act_ulps = p.activation == CHORUS_ACTIVATION_GELU_ERF ? 16 : 5;
    std::vector<double> b(static_cast<size_t>(y.numel()));
    for (int64_t i = 0; i < y.numel(); ++i) {
      const double s = static_cast<double>(scale[3].get(i));
      const long double yi = y.get(i);
      double bound =
          kC * static_cast<double>(p.k + 2) * (u * s + min_subnormal(compute_dtype(out))) +
          tf32 * s;
      if (smooth) {
        bound = 1.2 * bound + std::max(act_ulps * ulp_of(compute_dtype(out), yi),
                                       absolute_floor(out, pre[3].get(i)));
      }
      b[static_cast<size_t>(i)] =
          bound + final_rounding(out, static_cast<double>(yi)) + oracle_rounding(out, yi);
    }
    return b;
  };
}

// ------------------------------------------------------------- softmax

BoundFn softmax(int32_t axis, bool log) {
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

// ---------------------------------------------------------- layer norm

BoundFn layer_norm(double eps) {
  // y = z gamma + beta, z = (x - mu) / sigma, sigma = sqrt(var + eps), over n.
  //  - mu: a sum of n terms over n, |d mu| <= n u mean|x| (as for mean);
  //  - x_i - mu: |d mu| + u |x_i - mu|, i.e. in units of sigma
  //    n u mean|x|/sigma + u |z_i|;
  //  - var from a second pass around mu (one-pass E[x^2] - mu^2 cancels, and
  //    that is what the large-mean cases catch): relative n u, plus the
  //    squared mean error (n u mean|x|/sigma)^2, which is below
  //    n u mean|x|/sigma while that is below 1;
  //  - rsqrt (<= 2 ulp) or sqrt + divide (<= 3 + 2.5 ulp): <= 11 u, and
  //    half the variance's relative error;
  //  - times gamma, plus beta: u |z gamma| + u |y| <= 2u|z gamma| + u|beta|.
  //  Collecting, with n + 10 covering the n-proportional terms and the
  //  constant ones (11 u + 3 u):
  //    |err_i| <= c (n + 10) u (|z_i| + mean|x|/sigma (1 + |z_i|)) |gamma_i|
  //               + c u |beta_i| + R,
  //  z from the reference (no gamma/beta), mean|x| and sigma over the row.
  return [eps](const BoundInputs& in) {
    const HostTensor& x = in.operands[0];
    const HostTensor& gamma = in.operands[1];
    const HostTensor& beta = in.operands[2];
    const HostTensor& y = in.expected;
    const chorus_dtype out = in.out_dtype;
    const double u = accumulation_u(out);
    std::vector<HostTensor> normalised{x, HostTensor::absent(), HostTensor::absent(),
                                       HostTensor(y.dtype, y.shape)};
    const OpCall call = [eps](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
      return chorus_layer_norm(q, t[0], nullptr, nullptr, eps, t[3]);
    };
    in.reference.run(call, normalised, 3, false);
    const HostTensor& z = normalised[3];
    std::vector<double> b(static_cast<size_t>(y.numel()), 0.0);
    for_each_row(x.shape, x.shape.size() - 1, [&](int64_t first, int64_t, int64_t n) {
      long double mean = 0, mean_abs = 0;
      for (int64_t j = 0; j < n; ++j) {
        mean += x.get(first + j);
        mean_abs += std::fabs(x.get(first + j));
      }
      mean /= n;
      mean_abs /= n;
      long double var = 0;
      for (int64_t j = 0; j < n; ++j) var += (x.get(first + j) - mean) * (x.get(first + j) - mean);
      const long double sigma = std::sqrt(var / n + eps);
      const double dn = static_cast<double>(n);
      for (int64_t j = 0; j < n; ++j) {
        const long double zi = std::fabs(z.get(first + j));
        const long double g = gamma.present ? std::fabs(gamma.get(j)) : 1.0L;
        const long double be = beta.present ? std::fabs(beta.get(j)) : 0.0L;
        const long double spread = zi + mean_abs / sigma * (1 + zi);
        double bound = static_cast<double>(kC * (dn + 10) * u * spread * g + kC * u * be);
        if (!(bound >= 0)) bound = 0;  // NaN rows: checked exactly
        const long double yi = y.get(first + j);
        b[static_cast<size_t>(first + j)] = bound + final_rounding(out, static_cast<double>(yi));
      }
    });
    return b;
  };
}

BoundFn rms_norm() {
  // y = x r gamma, r = 1 / sqrt(mean(x^2) + eps): mean of n non-negative
  // squares, relative (n + 1) u; the root halves it; rsqrt <= 2 ulp or
  // sqrt + divide <= 5.5 ulp, <= 11 u; times x and gamma, 2u. All relative,
  // so |err_i| <= ((n + 1)/2 + 13) u |y_i| <= c (n + 10) u |y_i| + R.
  return [](const BoundInputs& in) {
    const HostTensor& y = in.expected;
    const chorus_dtype out = in.out_dtype;
    const double u = accumulation_u(out);
    const double n = static_cast<double>(y.shape.back());
    std::vector<double> b(static_cast<size_t>(y.numel()));
    for (int64_t i = 0; i < y.numel(); ++i) {
      const long double yi = y.get(i);
      double bound = times(kC * (n + 10) * u, yi);
      if (!(bound >= 0)) bound = 0;
      b[static_cast<size_t>(i)] = bound + final_rounding(out, static_cast<double>(yi));
    }
    return b;
  };
}

}  // namespace chorus::conformance::detail::bounds
