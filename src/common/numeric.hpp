// numeric.hpp — host-side helpers shared by the reference backend, the test
// double and the conformance suite: f16/bf16 encode/decode with a single
// round-to-nearest-even from double, and element load/store of any chorus
// dtype through double (or long double for f64 outputs).
//
// Why not go through float: double -> float -> f16 rounds twice and can differ
// from the correctly rounded value; the numerics contract wants one rounding.
#pragma once

#include <chorus/chorus.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace chorus::numeric {

// Rounds a finite or special double once to a binary format with
// `mantissa_bits` stored fraction bits and `exponent_bits` exponent bits.
inline uint32_t round_to_small_float(double x, int mantissa_bits, int exponent_bits) {
  const uint32_t sign = std::signbit(x) ? 1u << (mantissa_bits + exponent_bits) : 0u;
  const uint32_t exp_all_ones = (1u << exponent_bits) - 1u;
  const uint32_t inf_bits = sign | (exp_all_ones << mantissa_bits);
  if (std::isnan(x)) return inf_bits | (1u << (mantissa_bits - 1));  // quiet NaN
  const double a = std::fabs(x);
  if (std::isinf(a)) return inf_bits;
  const int bias = (1 << (exponent_bits - 1)) - 1;
  const int min_exp = 1 - bias;  // exponent of the smallest normal
  const int max_exp = bias;
  if (a < std::ldexp(1.0, min_exp)) {
    // Subnormal range: fixed quantum 2^(min_exp - mantissa_bits). A result of
    // 2^mantissa_bits is the smallest normal, whose encoding is the same int.
    const double q = std::nearbyint(std::ldexp(a, mantissa_bits - min_exp));
    return sign | static_cast<uint32_t>(q);
  }
  int e = 0;
  std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  int exponent = e - 1;
  double q = std::nearbyint(std::ldexp(a, mantissa_bits - exponent));  // [2^m, 2^(m+1)]
  const double implicit_one = std::ldexp(1.0, mantissa_bits);
  if (q == 2 * implicit_one) {
    q = implicit_one;
    exponent += 1;
  }
  if (exponent > max_exp) return inf_bits;
  return sign | (static_cast<uint32_t>(exponent + bias) << mantissa_bits) |
         static_cast<uint32_t>(q - implicit_one);
}

inline double decode_small_float(uint32_t bits, int mantissa_bits, int exponent_bits) {
  const uint32_t sign = (bits >> (mantissa_bits + exponent_bits)) & 1u;
  const uint32_t exp_field = (bits >> mantissa_bits) & ((1u << exponent_bits) - 1u);
  const uint32_t frac = bits & ((1u << mantissa_bits) - 1u);
  const int bias = (1 << (exponent_bits - 1)) - 1;
  double v;
  if (exp_field == 0) {
    v = std::ldexp(static_cast<double>(frac), 1 - bias - mantissa_bits);
  } else if (exp_field == (1u << exponent_bits) - 1u) {
    v = frac ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  } else {
    v = std::ldexp(static_cast<double>(frac | (1u << mantissa_bits)),
                   static_cast<int>(exp_field) - bias - mantissa_bits);
  }
  return sign ? -v : v;
}

inline uint16_t f16_from_double(double x) {
  return static_cast<uint16_t>(round_to_small_float(x, 10, 5));
}
inline double f16_to_double(uint16_t h) { return decode_small_float(h, 10, 5); }
inline uint16_t bf16_from_double(double x) {
  return static_cast<uint16_t>(round_to_small_float(x, 7, 8));
}
inline double bf16_to_double(uint16_t h) { return decode_small_float(h, 7, 8); }

// Float -> integer conversion used by copy/fill: truncate toward zero,
// saturate at the type's range, NaN -> 0 (documented in docs/ops.md).
template <typename Int>
inline Int saturate_to_int(long double v) {
  if (std::isnan(v)) return 0;
  const long double t = std::trunc(v);
  if (t <= static_cast<long double>(std::numeric_limits<Int>::min()))
    return std::numeric_limits<Int>::min();
  if (t >= static_cast<long double>(std::numeric_limits<Int>::max()))
    return std::numeric_limits<Int>::max();
  return static_cast<Int>(t);
}

// Loads element `index` (in elements) of a buffer of `dtype` as long double
// (exact for every chorus dtype, i64 included).
inline long double load(const void* base, chorus_dtype dtype, int64_t index) {
  const auto* p = static_cast<const unsigned char*>(base);
  switch (dtype) {
    case CHORUS_DTYPE_F32: {
      float v;
      std::memcpy(&v, p + index * 4, 4);
      return v;
    }
    case CHORUS_DTYPE_F64: {
      double v;
      std::memcpy(&v, p + index * 8, 8);
      return v;
    }
    case CHORUS_DTYPE_F16: {
      uint16_t v;
      std::memcpy(&v, p + index * 2, 2);
      return f16_to_double(v);
    }
    case CHORUS_DTYPE_BF16: {
      uint16_t v;
      std::memcpy(&v, p + index * 2, 2);
      return bf16_to_double(v);
    }
    case CHORUS_DTYPE_I32: {
      int32_t v;
      std::memcpy(&v, p + index * 4, 4);
      return v;
    }
    case CHORUS_DTYPE_I64: {
      int64_t v;
      std::memcpy(&v, p + index * 8, 8);
      return static_cast<long double>(v);
    }
    case CHORUS_DTYPE_U8:
      return p[index];
    default:
      return std::numeric_limits<long double>::quiet_NaN();
  }
}

// Rounds v once to `dtype` and stores it at element `index`.
inline void store(void* base, chorus_dtype dtype, int64_t index, long double v) {
  auto* p = static_cast<unsigned char*>(base);
  switch (dtype) {
    case CHORUS_DTYPE_F32: {
      // long double -> float is one correctly rounded conversion.
      const float f = static_cast<float>(v);
      std::memcpy(p + index * 4, &f, 4);
      break;
    }
    case CHORUS_DTYPE_F64: {
      const double d = static_cast<double>(v);
      std::memcpy(p + index * 8, &d, 8);
      break;
    }
    case CHORUS_DTYPE_F16: {
      // long double -> double is exact for values an f16 can round to
      // differently only when v carries more than 53 bits; the reference
      // computes f16 results in double, so this is a single rounding.
      const uint16_t h = f16_from_double(static_cast<double>(v));
      std::memcpy(p + index * 2, &h, 2);
      break;
    }
    case CHORUS_DTYPE_BF16: {
      const uint16_t h = bf16_from_double(static_cast<double>(v));
      std::memcpy(p + index * 2, &h, 2);
      break;
    }
    case CHORUS_DTYPE_I32: {
      const int32_t i = saturate_to_int<int32_t>(v);
      std::memcpy(p + index * 4, &i, 4);
      break;
    }
    case CHORUS_DTYPE_I64: {
      const int64_t i = saturate_to_int<int64_t>(v);
      std::memcpy(p + index * 8, &i, 8);
      break;
    }
    case CHORUS_DTYPE_U8:
      p[index] = saturate_to_int<uint8_t>(v);
      break;
    default:
      break;
  }
}

// Header-only twins of chorus_dtype_size / chorus_dtype_name, for plugins,
// which must not depend on libchorus's symbols (it may be loaded RTLD_LOCAL).
inline size_t dtype_size(chorus_dtype d) {
  switch (d) {
    case CHORUS_DTYPE_F16: case CHORUS_DTYPE_BF16: return 2;
    case CHORUS_DTYPE_F32: case CHORUS_DTYPE_I32: return 4;
    case CHORUS_DTYPE_F64: case CHORUS_DTYPE_I64: return 8;
    case CHORUS_DTYPE_U8: return 1;
    default: return 0;
  }
}
inline const char* dtype_name(chorus_dtype d) {
  switch (d) {
    case CHORUS_DTYPE_F32: return "f32";
    case CHORUS_DTYPE_F16: return "f16";
    case CHORUS_DTYPE_BF16: return "bf16";
    case CHORUS_DTYPE_F64: return "f64";
    case CHORUS_DTYPE_I32: return "i32";
    case CHORUS_DTYPE_I64: return "i64";
    case CHORUS_DTYPE_U8: return "u8";
    default: return "invalid";
  }
}

inline bool is_float(chorus_dtype d) {
  return d == CHORUS_DTYPE_F32 || d == CHORUS_DTYPE_F16 || d == CHORUS_DTYPE_BF16 ||
         d == CHORUS_DTYPE_F64;
}
inline bool is_integer(chorus_dtype d) {
  return d == CHORUS_DTYPE_I32 || d == CHORUS_DTYPE_I64 || d == CHORUS_DTYPE_U8;
}

// Unit roundoff of a float dtype's significand (2^-p).
inline double unit_roundoff(chorus_dtype d) {
  switch (d) {
    case CHORUS_DTYPE_F32: return std::ldexp(1.0, -24);
    case CHORUS_DTYPE_F16: return std::ldexp(1.0, -11);
    case CHORUS_DTYPE_BF16: return std::ldexp(1.0, -8);
    case CHORUS_DTYPE_F64: return std::ldexp(1.0, -53);
    default: return 0.0;
  }
}

// Distance between v and the next representable value away from zero in
// dtype (the ulp at v), subnormal quantum below the normal range.
inline double ulp(chorus_dtype d, double v) {
  int mant = 0, min_exp = 0;
  switch (d) {
    case CHORUS_DTYPE_F32: mant = 23; min_exp = -126; break;
    case CHORUS_DTYPE_F16: mant = 10; min_exp = -14; break;
    case CHORUS_DTYPE_BF16: mant = 7; min_exp = -126; break;
    case CHORUS_DTYPE_F64: mant = 52; min_exp = -1022; break;
    default: return 0.0;
  }
  const double a = std::fabs(v);
  if (!std::isfinite(a)) return std::numeric_limits<double>::infinity();
  int e = 0;
  if (a == 0.0) return std::ldexp(1.0, min_exp - mant);
  std::frexp(a, &e);
  const int exponent = e - 1 < min_exp ? min_exp : e - 1;
  return std::ldexp(1.0, exponent - mant);
}

}  // namespace chorus::numeric
