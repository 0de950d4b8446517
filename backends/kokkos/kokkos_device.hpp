// kokkos_device.hpp — the device-callable toolkit every Kokkos kernel of the
// backend is written with: element load/store for each chorus dtype
// (f16/bf16 decoded to float and encoded back with one round-to-nearest-even,
// NaN kept a NaN), the conversion rules of copy and fill, IEEE maximum and
// minimum, strided index walks over rank <= 8 views captured by value, and
// one reducer for Kokkos's nested parallel_reduce (the unary math, generated
// from unary_table.h, is kokkos_unary.hpp). Everything here is a
// KOKKOS_INLINE_FUNCTION or a plain struct, so the same text compiles for the
// host and for any device execution space; nothing names a particular one.
#pragma once

#include <chorus/backend.h>

#include <Kokkos_Core.hpp>
#include <cstdint>
#include <cstring>

namespace chorus::kokkos {

using Exec = Kokkos::DefaultExecutionSpace;
using Memory = Exec::memory_space;
using Index = Kokkos::IndexType<int64_t>;
using Range = Kokkos::RangePolicy<Exec, Index>;
using TeamPolicy = Kokkos::TeamPolicy<Exec, Index>;
using Member = TeamPolicy::member_type;
template <typename T>
using Scratch =
    Kokkos::View<T*, Exec::scratch_memory_space, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

// The math functions moved from Kokkos::Experimental to Kokkos in 3.7.
#if KOKKOS_VERSION >= 30700
namespace math = ::Kokkos;
#else
namespace math = ::Kokkos::Experimental;
#endif

// ------------------------------------------------------------------ bits

template <typename To, typename From>
KOKKOS_INLINE_FUNCTION To bit_cast(const From& from) {
  static_assert(sizeof(To) == sizeof(From));
  To to;
  memcpy(&to, &from, sizeof to);
  return to;
}

KOKKOS_INLINE_FUNCTION bool is_nan(float v) {
  return v != v;
}
KOKKOS_INLINE_FUNCTION bool is_nan(double v) {
  return v != v;
}
KOKKOS_INLINE_FUNCTION bool is_nan(int64_t) {
  return false;
}
KOKKOS_INLINE_FUNCTION bool sign_bit(float v) {
  return (bit_cast<uint32_t>(v) >> 31) != 0;
}
KOKKOS_INLINE_FUNCTION bool sign_bit(double v) {
  return (bit_cast<uint64_t>(v) >> 63) != 0;
}

KOKKOS_INLINE_FUNCTION int highest_bit(uint64_t v) {
  int top = 0;
  for (int shift = 32; shift > 0; shift /= 2) {
    if (v >> shift) {
      v >>= shift;
      top += shift;
    }
  }
  return top;
}

// Rounds sign * m * 2^e (exactly, m < 2^64) once, to nearest even, into a
// binary format with `mantissa_bits` fraction bits and `exponent_bits`
// exponent bits; returns its encoding. One routine serves every source
// (double, int64) so that no conversion goes through an intermediate format
// and rounds twice.
KOKKOS_INLINE_FUNCTION uint32_t round_to_format(bool negative, uint64_t m, int e, int mantissa_bits,
                                                int exponent_bits) {
  const uint32_t sign = negative ? 1u << (mantissa_bits + exponent_bits) : 0u;
  if (m == 0) return sign;
  const int bias = (1 << (exponent_bits - 1)) - 1;
  const int min_exponent = 1 - bias;
  int exponent = highest_bit(m) + e;  // the value lies in [2^exponent, 2^(exponent+1))
  const int quantum = (exponent < min_exponent ? min_exponent : exponent) - mantissa_bits;
  const int drop = quantum - e;  // low bits of m below the last kept bit
  uint64_t q;
  if (drop <= 0) {
    q = m << -drop;
  } else if (drop > 64) {
    q = 0;  // below half the smallest quantum
  } else {
    q = drop == 64 ? 0 : m >> drop;
    const uint64_t rest = drop == 64 ? m : m & ((uint64_t{1} << drop) - 1);
    const uint64_t half = uint64_t{1} << (drop - 1);
    if (rest > half || (rest == half && (q & 1))) ++q;
  }
  const uint64_t implicit_one = uint64_t{1} << mantissa_bits;
  // Subnormal: q counts quanta directly, and a carry to implicit_one is the
  // smallest normal, whose encoding is that same integer.
  if (exponent < min_exponent) return sign | static_cast<uint32_t>(q);
  if (q == 2 * implicit_one) {
    q = implicit_one;
    ++exponent;
  }
  if (exponent > bias) return sign | (((1u << exponent_bits) - 1u) << mantissa_bits);
  return sign | (static_cast<uint32_t>(exponent + bias) << mantissa_bits) |
         static_cast<uint32_t>(q - implicit_one);
}

// A quiet NaN of the small format keeping the top payload bits of a wider one.
KOKKOS_INLINE_FUNCTION uint16_t small_nan(bool negative, uint64_t payload_top, int mantissa_bits,
                                          int exponent_bits) {
  const uint32_t sign = negative ? 1u << (mantissa_bits + exponent_bits) : 0u;
  const uint32_t all_ones = ((1u << exponent_bits) - 1u) << mantissa_bits;
  const uint32_t quiet = 1u << (mantissa_bits - 1);
  const uint32_t payload = static_cast<uint32_t>(payload_top) & ((1u << mantissa_bits) - 1u);
  return static_cast<uint16_t>(sign | all_ones | quiet | payload);
}

KOKKOS_INLINE_FUNCTION uint16_t small_from_double(double v, int mantissa_bits, int exponent_bits) {
  const uint64_t u = bit_cast<uint64_t>(v);
  const bool negative = (u >> 63) != 0;
  const int field = static_cast<int>((u >> 52) & 0x7ff);
  const uint64_t fraction = u & ((uint64_t{1} << 52) - 1);
  if (field == 0x7ff) {
    if (fraction != 0)
      return small_nan(negative, fraction >> (52 - mantissa_bits), mantissa_bits, exponent_bits);
    return static_cast<uint16_t>((negative ? 1u << (mantissa_bits + exponent_bits) : 0u) |
                                 (((1u << exponent_bits) - 1u) << mantissa_bits));
  }
  if (field == 0)
    return static_cast<uint16_t>(
        round_to_format(negative, fraction, -1074, mantissa_bits, exponent_bits));
  return static_cast<uint16_t>(round_to_format(negative, fraction | (uint64_t{1} << 52),
                                               field - 1075, mantissa_bits, exponent_bits));
}

KOKKOS_INLINE_FUNCTION uint16_t small_from_int(int64_t v, int mantissa_bits, int exponent_bits) {
  const bool negative = v < 0;
  const uint64_t magnitude =
      negative ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  return static_cast<uint16_t>(
      round_to_format(negative, magnitude, 0, mantissa_bits, exponent_bits));
}

// ---------------------------------------------------------- f16 and bf16

KOKKOS_INLINE_FUNCTION float f16_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t field = (h >> 10) & 0x1fu;
  const uint32_t fraction = h & 0x3ffu;
  if (field == 0) {
    // Zero or subnormal: fraction * 2^-24, exact in float.
    const float magnitude = static_cast<float>(fraction) * 5.9604644775390625e-8f;
    return bit_cast<float>(bit_cast<uint32_t>(magnitude) | sign);
  }
  if (field == 0x1f) return bit_cast<float>(sign | 0x7f800000u | (fraction << 13));
  return bit_cast<float>(sign | ((field + 112u) << 23) | (fraction << 13));
}

// The hot path of every f16 store: float bits straight to f16 bits, with the
// same single round-to-nearest-even as round_to_format.
KOKKOS_INLINE_FUNCTION uint16_t f16_from_float(float f) {
  const uint32_t u = bit_cast<uint32_t>(f);
  const uint32_t sign = (u >> 16) & 0x8000u;
  const uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520 rounds to inf
  if (a < 0x38800000u) {
    // Below f16's normal range: count quanta of 2^-24.
    const uint32_t field = a >> 23;
    if (field < 102) return static_cast<uint16_t>(sign);  // below 2^-25: rounds to 0
    const uint32_t m = (a & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126u - field;  // 14 .. 24
    uint32_t q = m >> shift;
    const uint32_t rest = m & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1u);
    if (rest > half || (rest == half && (q & 1u))) ++q;
    return static_cast<uint16_t>(sign | q);
  }
  const uint32_t rebased = a - 0x38000000u;  // exponent bias 127 -> 15
  uint32_t q = rebased >> 13;
  const uint32_t rest = rebased & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (q & 1u))) ++q;
  return static_cast<uint16_t>(sign | q);
}

KOKKOS_INLINE_FUNCTION float bf16_to_float(uint16_t h) {
  return bit_cast<float>(static_cast<uint32_t>(h) << 16);
}

KOKKOS_INLINE_FUNCTION uint16_t bf16_from_float(float f) {
  const uint32_t u = bit_cast<uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  // Adding 0x7fff plus the lowest kept bit rounds to nearest even; a carry
  // out of the fraction steps the exponent, up to inf, as it should.
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// --------------------------------------------------------------- storage

// Storage<D>: how one dtype is loaded into its compute type and stored back.
// Floats compute in float (f32, f16, bf16) or double (f64); integers in
// int64_t, and their stores keep the low bits, so integer arithmetic wraps.
template <chorus_dtype D>
struct Storage;

template <typename Bits>
KOKKOS_INLINE_FUNCTION Bits load_bits(const unsigned char* base, int64_t element) {
  Bits v;
  memcpy(&v, base + element * static_cast<int64_t>(sizeof(Bits)), sizeof v);
  return v;
}
template <typename Bits>
KOKKOS_INLINE_FUNCTION void store_bits(unsigned char* base, int64_t element, Bits v) {
  memcpy(base + element * static_cast<int64_t>(sizeof(Bits)), &v, sizeof v);
}

template <>
struct Storage<CHORUS_DTYPE_F32> {
  using compute = float;
  KOKKOS_INLINE_FUNCTION static float load(const unsigned char* b, int64_t e) {
    return load_bits<float>(b, e);
  }
  KOKKOS_INLINE_FUNCTION static void store(unsigned char* b, int64_t e, float v) {
    store_bits<float>(b, e, v);
  }
};
template <>
struct Storage<CHORUS_DTYPE_F16> {
  using compute = float;
  KOKKOS_INLINE_FUNCTION static float load(const unsigned char* b, int64_t e) {
    return f16_to_float(load_bits<uint16_t>(b, e));
  }
  KOKKOS_INLINE_FUNCTION static void store(unsigned char* b, int64_t e, float v) {
    store_bits<uint16_t>(b, e, f16_from_float(v));
  }
};
template <>
struct Storage<CHORUS_DTYPE_BF16> {
  using compute = float;
  KOKKOS_INLINE_FUNCTION static float load(const unsigned char* b, int64_t e) {
    return bf16_to_float(load_bits<uint16_t>(b, e));
  }
  KOKKOS_INLINE_FUNCTION static void store(unsigned char* b, int64_t e, float v) {
    store_bits<uint16_t>(b, e, bf16_from_float(v));
  }
};
template <>
struct Storage<CHORUS_DTYPE_F64> {
  using compute = double;
  KOKKOS_INLINE_FUNCTION static double load(const unsigned char* b, int64_t e) {
    return load_bits<double>(b, e);
  }
  KOKKOS_INLINE_FUNCTION static void store(unsigned char* b, int64_t e, double v) {
    store_bits<double>(b, e, v);
  }
};
template <>
struct Storage<CHORUS_DTYPE_I32> {
  using compute = int64_t;
  KOKKOS_INLINE_FUNCTION static int64_t load(const unsigned char* b, int64_t e) {
    return load_bits<int32_t>(b, e);
  }
  KOKKOS_INLINE_FUNCTION static void store(unsigned char* b, int64_t e, int64_t v) {
    store_bits<uint32_t>(b, e, static_cast<uint32_t>(static_cast<uint64_t>(v)));
  }
};
template <>
struct Storage<CHORUS_DTYPE_I64> {
  using compute = int64_t;
  KOKKOS_INLINE_FUNCTION static int64_t load(const unsigned char* b, int64_t e) {
    return load_bits<int64_t>(b, e);
  }
  KOKKOS_INLINE_FUNCTION static void store(unsigned char* b, int64_t e, int64_t v) {
    store_bits<int64_t>(b, e, v);
  }
};
template <>
struct Storage<CHORUS_DTYPE_U8> {
  using compute = int64_t;
  KOKKOS_INLINE_FUNCTION static int64_t load(const unsigned char* b, int64_t e) { return b[e]; }
  KOKKOS_INLINE_FUNCTION static void store(unsigned char* b, int64_t e, int64_t v) {
    b[e] = static_cast<unsigned char>(static_cast<uint64_t>(v));
  }
};

KOKKOS_INLINE_FUNCTION constexpr bool is_integer_dtype(int dtype) {
  return dtype == CHORUS_DTYPE_I32 || dtype == CHORUS_DTYPE_I64 || dtype == CHORUS_DTYPE_U8;
}

// --------------------------------------------------- conversions (copy)

// The runtime-dtype helpers below name every chorus dtype; a value outside
// them never reaches a kernel (the families' checks refuse it on the host),
// so what follows each switch is unreachable and only keeps the compilers
// content.

// Loads any float dtype exactly as a double.
KOKKOS_INLINE_FUNCTION double load_as_double(const unsigned char* b, int dtype, int64_t e) {
  switch (dtype) {
    case CHORUS_DTYPE_F32:
      return Storage<CHORUS_DTYPE_F32>::load(b, e);
    case CHORUS_DTYPE_F16:
      return Storage<CHORUS_DTYPE_F16>::load(b, e);
    case CHORUS_DTYPE_BF16:
      return Storage<CHORUS_DTYPE_BF16>::load(b, e);
    case CHORUS_DTYPE_F64:
      return Storage<CHORUS_DTYPE_F64>::load(b, e);
  }
  return bit_cast<double>(uint64_t{0x7ff8000000000000});  // a NaN: unreachable
}

// Loads any integer dtype exactly as an int64_t.
KOKKOS_INLINE_FUNCTION int64_t load_as_int(const unsigned char* b, int dtype, int64_t e) {
  switch (dtype) {
    case CHORUS_DTYPE_I32:
      return Storage<CHORUS_DTYPE_I32>::load(b, e);
    case CHORUS_DTYPE_I64:
      return Storage<CHORUS_DTYPE_I64>::load(b, e);
    case CHORUS_DTYPE_U8:
      return Storage<CHORUS_DTYPE_U8>::load(b, e);
  }
  return 0;  // unreachable
}

// v saturated to the range of the integer dtype (i32, i64 or u8).
KOKKOS_INLINE_FUNCTION int64_t clamp_int(int64_t v, int dtype) {
  int64_t low = INT64_MIN, high = INT64_MAX;  // i64
  if (dtype == CHORUS_DTYPE_I32) {
    low = INT32_MIN;
    high = INT32_MAX;
  } else if (dtype == CHORUS_DTYPE_U8) {
    low = 0;
    high = 255;
  }
  return v < low ? low : v > high ? high : v;
}

// Float -> integer: truncate toward zero, saturate, NaN -> 0 (docs/ops.md).
KOKKOS_INLINE_FUNCTION int64_t saturate_to_int(double v, int dtype) {
  if (is_nan(v)) return 0;
  const double t = math::trunc(v);
  // 2^63 is exactly representable; every double below it converts exactly.
  if (t >= 9223372036854775808.0) return clamp_int(INT64_MAX, dtype);
  if (t <= -9223372036854775808.0) return clamp_int(INT64_MIN, dtype);
  return clamp_int(static_cast<int64_t>(t), dtype);
}

// The encoding of a double rounded once to `dtype`, in the low bytes.
KOKKOS_INLINE_FUNCTION uint64_t encode_double(double v, int dtype) {
  switch (dtype) {
    case CHORUS_DTYPE_F32:
      return bit_cast<uint32_t>(static_cast<float>(v));
    case CHORUS_DTYPE_F16:
      return small_from_double(v, 10, 5);
    case CHORUS_DTYPE_BF16:
      return small_from_double(v, 7, 8);
    case CHORUS_DTYPE_F64:
      return bit_cast<uint64_t>(v);
    case CHORUS_DTYPE_I32:
    case CHORUS_DTYPE_I64:
    case CHORUS_DTYPE_U8:
      return static_cast<uint64_t>(saturate_to_int(v, dtype));
  }
  return 0;  // unreachable
}

// The encoding of an integer rounded once (floats) or saturated (integers).
KOKKOS_INLINE_FUNCTION uint64_t encode_int(int64_t v, int dtype) {
  switch (dtype) {
    case CHORUS_DTYPE_F32:
      return bit_cast<uint32_t>(static_cast<float>(v));
    case CHORUS_DTYPE_F16:
      return small_from_int(v, 10, 5);
    case CHORUS_DTYPE_BF16:
      return small_from_int(v, 7, 8);
    case CHORUS_DTYPE_F64:
      return bit_cast<uint64_t>(static_cast<double>(v));
    case CHORUS_DTYPE_I32:
    case CHORUS_DTYPE_I64:
    case CHORUS_DTYPE_U8:
      return static_cast<uint64_t>(clamp_int(v, dtype));
  }
  return 0;  // unreachable
}

// Bytes per element; 0 for a value that is no chorus dtype.
KOKKOS_INLINE_FUNCTION int dtype_bytes(int dtype) {
  switch (dtype) {
    case CHORUS_DTYPE_U8:
      return 1;
    case CHORUS_DTYPE_F16:
    case CHORUS_DTYPE_BF16:
      return 2;
    case CHORUS_DTYPE_F32:
    case CHORUS_DTYPE_I32:
      return 4;
    case CHORUS_DTYPE_F64:
    case CHORUS_DTYPE_I64:
      return 8;
  }
  return 0;
}

// Writes the low dtype_bytes(dtype) bytes of an encoding (little-endian
// hosts and devices, like every platform chorus targets).
KOKKOS_INLINE_FUNCTION void store_encoded(unsigned char* b, int dtype, int64_t e, uint64_t bits) {
  switch (dtype_bytes(dtype)) {
    case 1:
      b[e] = static_cast<unsigned char>(bits);
      break;
    case 2:
      store_bits<uint16_t>(b, e, static_cast<uint16_t>(bits));
      break;
    case 4:
      store_bits<uint32_t>(b, e, static_cast<uint32_t>(bits));
      break;
    case 8:
      store_bits<uint64_t>(b, e, bits);
      break;
  }
}

// --------------------------------------------------------- scalar math

// IEEE 754-2019 maximum/minimum, as the reference: NaN wins, +0 > -0.
template <typename T>
KOKKOS_INLINE_FUNCTION T maximum(T a, T b) {
  if (is_nan(a)) return a;
  if (is_nan(b)) return b;
  if (a == b) return sign_bit(a) ? b : a;
  return a > b ? a : b;
}
template <typename T>
KOKKOS_INLINE_FUNCTION T minimum(T a, T b) {
  if (is_nan(a)) return a;
  if (is_nan(b)) return b;
  if (a == b) return sign_bit(a) ? a : b;
  return a < b ? a : b;
}

// ----------------------------------------------------------- index walks

// The index (i[0], i[1], i[2], i[3]) of flat `item` in a row-major grid of
// extents [any, e1, e2, e3]: one work item's coordinates in a flat range.
KOKKOS_INLINE_FUNCTION void unravel4(int64_t item, int64_t e1, int64_t e2, int64_t e3,
                                     int64_t (&i)[4]) {
  i[3] = item % e3;
  item /= e3;
  i[2] = item % e2;
  item /= e2;
  i[1] = item % e1;
  i[0] = item / e1;
}

// N views of one shape, walked in row-major order: locate() turns a linear
// index into each view's element number. libchorus has already collapsed the
// axes (backend.h: extent-1 axes dropped, runs merged), once for every
// backend, so make_walk takes them as they come and the common dense case
// arrives as rank 1, which costs no division.
template <int N>
struct Walk {
  int rank = 0;
  int64_t extent[CHORUS_MAX_RANK] = {};
  int64_t stride[N][CHORUS_MAX_RANK] = {};
  int64_t offset[N] = {};
  int64_t count = 1;

  KOKKOS_INLINE_FUNCTION void locate(int64_t linear, int64_t (&at)[N]) const {
    for (int v = 0; v < N; ++v) at[v] = offset[v];
    for (int k = rank - 1; k > 0; --k) {
      const int64_t q = linear / extent[k];
      const int64_t c = linear - q * extent[k];
      linear = q;
      for (int v = 0; v < N; ++v) at[v] += c * stride[v][k];
    }
    if (rank > 0)
      for (int v = 0; v < N; ++v) at[v] += linear * stride[v][0];
  }
};

// The walk over axes [first, first + rank) of `shape`, with each view's
// strides on them (a null view walks nothing: stride 0, offset 0).
template <int N>
Walk<N> make_walk(uint32_t first, uint32_t rank, const int64_t* shape,
                  const chorus_backend_tensor* const (&views)[N]) {
  Walk<N> w;
  for (int v = 0; v < N; ++v) w.offset[v] = views[v] ? views[v]->offset : 0;
  for (uint32_t k = first; k < first + rank; ++k) {
    w.extent[w.rank] = shape[k];
    for (int v = 0; v < N; ++v) w.stride[v][w.rank] = views[v] ? views[v]->strides[k] : 0;
    w.count *= shape[k];
    ++w.rank;
  }
  return w;
}

// Visits the element numbers of linear indices [begin, end) of a one-view
// walk in order, stepping like an odometer instead of dividing per element.
template <typename Visit>
KOKKOS_INLINE_FUNCTION void walk_range(const Walk<1>& w, int64_t base, int64_t begin, int64_t end,
                                       const Visit& visit) {
  if (w.rank <= 1) {
    const int64_t s = w.rank == 1 ? w.stride[0][0] : 0;
    for (int64_t j = begin; j < end; ++j) visit(base + j * s);
    return;
  }
  int64_t coord[CHORUS_MAX_RANK];
  int64_t at = base;
  int64_t rest = begin;
  for (int k = w.rank - 1; k >= 0; --k) {
    coord[k] = rest % w.extent[k];
    rest /= w.extent[k];
    at += coord[k] * w.stride[0][k];
  }
  for (int64_t j = begin; j < end; ++j) {
    visit(at);
    int k = w.rank - 1;
    ++coord[k];
    at += w.stride[0][k];
    while (k > 0 && coord[k] == w.extent[k]) {
      at -= w.extent[k] * w.stride[0][k];
      coord[k] = 0;
      --k;
      ++coord[k];
      at += w.stride[0][k];
    }
  }
}

template <typename T>
KOKKOS_INLINE_FUNCTION T infinity();
template <>
KOKKOS_INLINE_FUNCTION float infinity<float>() {
  return bit_cast<float>(0x7f800000u);
}
template <>
KOKKOS_INLINE_FUNCTION double infinity<double>() {
  return bit_cast<double>(uint64_t{0x7ff0000000000000});
}
template <typename T>
KOKKOS_INLINE_FUNCTION T quiet_nan();
template <>
KOKKOS_INLINE_FUNCTION float quiet_nan<float>() {
  return bit_cast<float>(0x7fc00000u);
}
template <>
KOKKOS_INLINE_FUNCTION double quiet_nan<double>() {
  return bit_cast<double>(uint64_t{0x7ff8000000000000});
}

// --------------------------------------------------------------- reducer

// A Kokkos reducer for any associative, commutative combine that is exact
// (IEEE max/min, wrapping integer sums, argmax's best element): such a
// result is the same whatever order a team joins partial values in, which
// keeps these reductions deterministic on every execution space. Float sums
// are not of this kind and never use it (see the fixed-chunk sums).
// A reduction value that Kokkos 3 can also read and write through volatile
// references (its team joins use them).
template <typename T>
struct Boxed {
  T value;
  KOKKOS_INLINE_FUNCTION static Boxed copy(const volatile Boxed& from) { return Boxed{from.value}; }
  KOKKOS_INLINE_FUNCTION void assign(const Boxed& from) volatile { value = from.value; }
};

template <class Combine>
struct ExactReducer {
  using reducer = ExactReducer;
  using value_type = typename Combine::value_type;
  using result_view_type = Kokkos::View<value_type, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>;

  value_type* target;

  KOKKOS_INLINE_FUNCTION explicit ExactReducer(value_type& value) : target(&value) {}
  KOKKOS_INLINE_FUNCTION void join(value_type& into, const value_type& from) const {
    into = Combine::combine(into, from);
  }
#if KOKKOS_VERSION < 40000
  // Kokkos 3 joins through volatile references as well.
  KOKKOS_INLINE_FUNCTION void join(volatile value_type& into,
                                   const volatile value_type& from) const {
    into.assign(Combine::combine(value_type::copy(into), value_type::copy(from)));
  }
#endif
  KOKKOS_INLINE_FUNCTION void init(value_type& value) const {
    value = Combine::identity();
  }
  KOKKOS_INLINE_FUNCTION value_type& reference() const {
    return *target;
  }
  KOKKOS_INLINE_FUNCTION result_view_type view() const {
    return result_view_type(target);
  }
  KOKKOS_INLINE_FUNCTION bool references_scalar() const {
    return true;
  }
};

}  // namespace chorus::kokkos
