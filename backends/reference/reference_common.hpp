// reference_common.hpp — what every op family's reference (the oracle,
// src/ops/<family>/reference.cpp) is written with: plain loops over a generic
// rank-<=8 index, each element loaded through chorus::numeric::load into
// double (long double when the output is f64), computed there and rounded
// once on store; the scalar functions of docs/ops.md in forms without
// cancellation. Correctness and readability come first.
#pragma once

#include <chorus/backend.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numbers>
#include <string>

#include "common/numeric.hpp"
#include "common/op_view.hpp"
#include "reference.hpp"

namespace chorus::reference {

using numeric::dtype_name;
using numeric::dtype_size;
using numeric::is_float;
using numeric::is_integer;
using Tensor = chorus_backend_tensor;

// ------------------------------------------------------------ tensor access

// Element number (in units of the dtype) of the element at `index`.
inline int64_t element_of(const Tensor& t, const int64_t* index) {
  int64_t element = t.offset;
  for (uint32_t k = 0; k < t.rank; ++k) element += index[k] * t.strides[k];
  return element;
}

// Calls visit(index) for every index of `shape` in row-major order (once for
// rank 0). Entries of index past `rank` stay 0, so walking only the leading
// axes of a tensor yields the start of each of its rows.
template <typename Visit>
void for_each_index(uint32_t rank, const int64_t* shape, Visit&& visit) {
  int64_t index[CHORUS_MAX_RANK] = {};
  for (;;) {
    visit(static_cast<const int64_t*>(index));
    int k = static_cast<int>(rank) - 1;
    for (; k >= 0; --k) {
      if (++index[k] < shape[k]) break;
      index[k] = 0;
    }
    if (k < 0) return;
  }
}

template <typename T>
T load_as(const Tensor& t, int64_t element) {
  return static_cast<T>(numeric::load(t.buffer, t.dtype, element));
}

inline int64_t load_integer(const Tensor& t, int64_t element) {
  const long double v = numeric::load(t.buffer, t.dtype, element);
  return is_float(t.dtype) ? numeric::saturate_to_int<int64_t>(v) : static_cast<int64_t>(v);
}

// numeric::store reaches f16/bf16 through double, which would round twice for
// a long double that is not already a double (an i64 copied to bf16, say).
// Rounding to double *to odd* first keeps the final rounding correct, since
// double has more than two bits beyond either format's significand.
inline double to_double_round_to_odd(long double v) {
  double d = static_cast<double>(v);
  if (!std::isfinite(d) || static_cast<long double>(d) == v) return d;
  if (std::fabs(static_cast<long double>(d)) > std::fabs(v)) d = std::nextafter(d, 0.0);
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  bits |= 1;
  std::memcpy(&d, &bits, sizeof bits);
  return d;
}

inline void store_rounded(const Tensor& t, int64_t element, long double v) {
  if (t.dtype == CHORUS_DTYPE_F16 || t.dtype == CHORUS_DTYPE_BF16) v = to_double_round_to_odd(v);
  numeric::store(t.buffer, t.dtype, element, v);
}

// Stores the low bits of a two's-complement result: integer ops wrap.
inline void store_wrapped(const Tensor& t, int64_t element, uint64_t bits) {
  unsigned char* at = static_cast<unsigned char*>(t.buffer) + element * dtype_size(t.dtype);
  switch (t.dtype) {
    case CHORUS_DTYPE_I32: {
      const auto v = static_cast<int32_t>(static_cast<uint32_t>(bits));
      std::memcpy(at, &v, sizeof v);
      break;
    }
    case CHORUS_DTYPE_I64: {
      const auto v = static_cast<int64_t>(bits);
      std::memcpy(at, &v, sizeof v);
      break;
    }
    case CHORUS_DTYPE_U8:
      *at = static_cast<unsigned char>(bits);
      break;
    default:
      store_rounded(t, element, static_cast<long double>(static_cast<int64_t>(bits)));
      break;
  }
}

// Copies one element: its bits when the dtypes match (NaN payloads survive),
// a single rounding otherwise.
inline void copy_element(const Tensor& dst, int64_t dst_element, const Tensor& src,
                         int64_t src_element) {
  if (dst.dtype == src.dtype) {
    const size_t size = dtype_size(dst.dtype);
    std::memcpy(static_cast<unsigned char*>(dst.buffer) + dst_element * size,
                static_cast<const unsigned char*>(src.buffer) + src_element * size, size);
  } else {
    store_rounded(dst, dst_element, numeric::load(src.buffer, src.dtype, src_element));
  }
}

// Elements in a row made of the trailing `inner` axes of t.
inline int64_t row_length(const Tensor& t, uint32_t inner) {
  int64_t n = 1;
  for (uint32_t k = t.rank - inner; k < t.rank; ++k) n *= t.shape[k];
  return n;
}

// ------------------------------------------------------------- scalar math

// IEEE 754-2019 maximum/minimum: NaN wins, and +0 is above -0, so the result
// is one definite bit pattern whatever the order of the operands.
template <typename T>
T maximum(T a, T b) {
  if (std::isnan(a)) return a;
  if (std::isnan(b)) return b;
  if (a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}

template <typename T>
T minimum(T a, T b) {
  if (std::isnan(a)) return a;
  if (std::isnan(b)) return b;
  if (a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

template <typename T>
T ref_sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

template <typename T>
T ref_relu(T x) {
  return std::isnan(x) || x > T(0) ? x : T(0);
}

template <typename T>
T ref_gelu_erf(T x) {
  // erfc, not 1 + erf: for large negative x, 1 + erf(x/√2) cancels to 0 long
  // before x·Φ(x) underflows.
  return T(0.5) * x * std::erfc(-x / std::numbers::sqrt2_v<T>);
}

template <typename T>
T ref_gelu_tanh(T x) {
  const T z = std::sqrt(T(2) / std::numbers::pi_v<T>) * (x + T(0.044715L) * x * x * x);
  // 0.5·(1 + tanh z) == sigmoid(2z), which does not cancel for negative z.
  return x * ref_sigmoid(T(2) * z);
}

template <typename T>
T ref_clamp(T x, T lo, T hi) {
  return minimum(maximum(x, lo), hi);
}

// ------------------------------------------------------------------- errors

inline chorus_status unsupported(const std::string& message) {
  return report(CHORUS_ERROR_UNSUPPORTED, "reference: " + message);
}

}  // namespace chorus::reference
