// bounds.cpp — the generic bound helpers (bounds.hpp states the notation and
// what every derivation assumes). The bounds of the ops themselves, each with
// its derivation, are in src/ops/<family>/cases*.cpp.
#include "bounds.hpp"

#include <algorithm>
#include <cmath>

#include "common/numeric.hpp"

namespace chorus::conformance::detail::bounds {

double ulp_of(chorus_dtype d, long double y) {
  return numeric::ulp(d, static_cast<double>(y));
}

double oracle_rounding(chorus_dtype out, long double y) {
  return out == CHORUS_DTYPE_F64 ? 0.5 * ulp_of(out, y) : 0.0;
}

chorus_dtype compute_dtype(chorus_dtype out) {
  return out == CHORUS_DTYPE_F64 ? CHORUS_DTYPE_F64 : CHORUS_DTYPE_F32;
}

double accumulation_u(chorus_dtype out) {
  return out == CHORUS_DTYPE_F64 ? std::ldexp(1.0, -53) : std::ldexp(1.0, -24);
}

double final_rounding(chorus_dtype out, double y) {
  if (is_16bit_float(out)) return numeric::ulp(out, y);
  return min_subnormal(out);
}

double absolute_floor(chorus_dtype out, long double x) {
  return 8 * accumulation_u(out) * std::max(1.0L, std::fabs(x));
}

BoundFn ulps(double wide_ulps, double narrow_ulps, bool floor) {
  return [wide_ulps, narrow_ulps, floor](const BoundInputs& in) {
    const HostTensor& x = in.operands[0];
    const HostTensor& y = in.expected;
    const chorus_dtype out = in.out_dtype;
    const double allowance = is_16bit_float(out) ? narrow_ulps : wide_ulps;
    std::vector<double> b(static_cast<size_t>(y.numel()));
    for (int64_t i = 0; i < y.numel(); ++i) {
      const long double yi = y.get(i);
      double bound = allowance * ulp_of(out, yi);
      if (floor) {
        // For 16-bit outputs the f32 value near the floor is rounded once
        // more: floor + R.
        double f = absolute_floor(out, x.get(broadcast_source(y.shape, x.shape, i)));
        if (is_16bit_float(out)) f += final_rounding(out, static_cast<double>(yi));
        bound = std::max(bound, f);
      }
      b[static_cast<size_t>(i)] = bound + oracle_rounding(out, yi);
    }
    return b;
  };
}

HostTensor absolute(const HostTensor& t) {
  if (!t.present) return t;
  HostTensor a = t;
  for (int64_t i = 0; i < t.numel(); ++i) a.set(i, std::fabs(t.get(i)));
  return a;
}

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

double times(double a, long double b) {
  return b == 0 ? 0.0 : a * static_cast<double>(std::fabs(b));
}

BoundFn magnitude_sum(int64_t rounds, OpCall call, bool tf32_products,
                      std::vector<size_t> as_given, bool output_is_read) {
  return [rounds, call, tf32_products, as_given, output_is_read](const BoundInputs& in) {
    const chorus_dtype out = in.out_dtype;
    std::vector<HostTensor> scale;
    for (size_t k = 0; k < in.operands.size(); ++k) {
      const bool keep = std::find(as_given.begin(), as_given.end(), k) != as_given.end();
      scale.push_back(keep ? in.operands[k] : absolute(in.operands[k]));
    }
    in.reference.run(call, scale, in.output, output_is_read);
    const double u = accumulation_u(out);
    const double eta = min_subnormal(compute_dtype(out));
    const double tf32 = tf32_products && (in.numerics & CHORUS_NUMERICS_ALLOW_TF32) &&
                                out == CHORUS_DTYPE_F32
                            ? kC * std::ldexp(1.0, -11)
                            : 0.0;
    const HostTensor& y = in.expected;
    std::vector<double> b(static_cast<size_t>(y.numel()));
    for (int64_t i = 0; i < y.numel(); ++i) {
      const double s = static_cast<double>(scale[in.output].get(i));
      const long double yi = y.get(i);
      b[static_cast<size_t>(i)] = kC * static_cast<double>(rounds) * (u * s + eta) + tf32 * s +
                                  final_rounding(out, static_cast<double>(yi)) +
                                  oracle_rounding(out, yi);
    }
    return b;
  };
}

}  // namespace chorus::conformance::detail::bounds
