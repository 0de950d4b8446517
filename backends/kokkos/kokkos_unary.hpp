// kokkos_unary.hpp — every unary op of chorus as a device function,
// generated from src/ops/elementwise/unary_table.h, the ops' one definition:
//   UnaryFloat<op>::apply(x, p0, p1)    its KERNEL column, in the compute
//                                       type T (float, or double for f64);
//   UnaryInteger<op>::apply(x, p0, p1)  its KERNEL_INT column, on 64-bit
//                                       integers, for the rows whose DTYPES
//                                       take integers (FLOATS_INTS);
//   with_unary_op(op, body)             the dispatch from a runtime op code.
// No op is written here by hand: a new row of the table is a new op on
// Kokkos too. Shared by the unary op (src/ops/elementwise/kokkos.cpp) and
// GEMM's epilogue, whose activations are the unary ops of the same names.
#pragma once

#include <cstdint>

#include "kokkos_device.hpp"

namespace chorus::kokkos {

namespace unary_math {
// Kokkos 3.4 has no rint. nearbyint rounds the same way (to nearest, ties to
// even, in the default rounding mode) and differs only in never raising
// FE_INEXACT, which no chorus op observes.
template <typename T>
KOKKOS_INLINE_FUNCTION T rint(T x) {
  return math::nearbyint(x);
}
}  // namespace unary_math

template <int Op>
struct UnaryFloat;  // defined for every row of the table
template <int Op>
struct UnaryInteger;  // defined for the FLOATS_INTS rows

// The vocabulary of the table's kernel columns (its header comment): K(c) a
// constant in the compute type, U64 the integer result's bits, CK_MAXIMUM /
// CK_MINIMUM IEEE 754-2019 maximum / minimum (functions here, so each
// argument is evaluated once), and the math names, which the block-scope
// using-declarations below resolve to Kokkos's math (the same on a device
// build) before any ::exp of the C library.
#define K(c) static_cast<T>(c)
#define U64 uint64_t
#define CK_MAXIMUM(a, b) ::chorus::kokkos::maximum(a, b)
#define CK_MINIMUM(a, b) ::chorus::kokkos::minimum(a, b)
#define CHORUS_KOKKOS_UNARY_MATH_NAMES \
  using math::exp;                     \
  using math::log;                     \
  using math::log1p;                   \
  using math::expm1;                   \
  using math::sin;                     \
  using math::cos;                     \
  using math::erf;                     \
  using math::erfc;                    \
  using math::tanh;                    \
  using math::sqrt;                    \
  using math::fabs;                    \
  using math::floor;                   \
  using math::ceil;                    \
  using unary_math::rint;

#define CHORUS_KOKKOS_UNARY_INT_FLOATS(NAME, KERNEL_INT)
#define CHORUS_KOKKOS_UNARY_INT_FLOATS_INTS(NAME, KERNEL_INT)                            \
  template <>                                                                            \
  struct UnaryInteger<CHORUS_UNARY_##NAME> {                                             \
    KOKKOS_INLINE_FUNCTION static uint64_t apply(int64_t x, [[maybe_unused]] int64_t P0, \
                                                 [[maybe_unused]] int64_t P1) {          \
      return KERNEL_INT;                                                                 \
    }                                                                                    \
  };
#define UNARY_OP(NAME, name, DTYPES, PARAMS, KERNEL, KERNEL_INT, ...)                          \
  template <>                                                                                  \
  struct UnaryFloat<CHORUS_UNARY_##NAME> {                                                     \
    template <typename T>                                                                      \
    KOKKOS_INLINE_FUNCTION static T apply(T x, [[maybe_unused]] T P0, [[maybe_unused]] T P1) { \
      CHORUS_KOKKOS_UNARY_MATH_NAMES                                                           \
      return KERNEL;                                                                           \
    }                                                                                          \
  };                                                                                           \
  CHORUS_KOKKOS_UNARY_INT_##DTYPES(NAME, KERNEL_INT)
#include "elementwise/unary_table.h"
#undef UNARY_OP
#undef CHORUS_KOKKOS_UNARY_INT_FLOATS
#undef CHORUS_KOKKOS_UNARY_INT_FLOATS_INTS

// The activation gradients of unary_grad_table.h: UnaryGrad<op,
// from_y>::apply(v, g, p0, p1) is dx from x (KERNEL_X) or y (KERNEL_Y) and
// dy = g, defined for the forms the row has.
template <int Op, bool FromY>
struct UnaryGrad;
#define CHORUS_KOKKOS_UNARY_GRAD_FORM(NAME, FROM_Y_BOOL, V, EXPR)                           \
  template <>                                                                              \
  struct UnaryGrad<CHORUS_UNARY_##NAME, FROM_Y_BOOL> {                                     \
    template <typename T>                                                                  \
    KOKKOS_INLINE_FUNCTION static T apply(T V, T g, [[maybe_unused]] T P0,                 \
                                          [[maybe_unused]] T P1) {                         \
      CHORUS_KOKKOS_UNARY_MATH_NAMES                                                       \
      return EXPR;                                                                         \
    }                                                                                      \
  };
#define CHORUS_KOKKOS_GRAD_Y_Y_NONE(NAME, EXPR)
#define CHORUS_KOKKOS_GRAD_Y_Y_ANY(NAME, EXPR) CHORUS_KOKKOS_UNARY_GRAD_FORM(NAME, true, y, EXPR)
#define CHORUS_KOKKOS_GRAD_Y_Y_ALPHA_POSITIVE(NAME, EXPR) \
  CHORUS_KOKKOS_UNARY_GRAD_FORM(NAME, true, y, EXPR)
#define CHORUS_KOKKOS_GRAD_Y_Y_ALPHA_NONNEGATIVE(NAME, EXPR) \
  CHORUS_KOKKOS_UNARY_GRAD_FORM(NAME, true, y, EXPR)
#define UNARY_GRAD(NAME, name, FROM_Y, KERNEL_X, KERNEL_Y, ...)   \
  CHORUS_KOKKOS_UNARY_GRAD_FORM(NAME, false, x, KERNEL_X)          \
  CHORUS_KOKKOS_GRAD_Y_##FROM_Y(NAME, KERNEL_Y)
#include "elementwise/unary_grad_table.h"
#undef UNARY_GRAD
#undef CHORUS_KOKKOS_GRAD_Y_Y_NONE
#undef CHORUS_KOKKOS_GRAD_Y_Y_ANY
#undef CHORUS_KOKKOS_GRAD_Y_Y_ALPHA_POSITIVE
#undef CHORUS_KOKKOS_GRAD_Y_Y_ALPHA_NONNEGATIVE
#undef CHORUS_KOKKOS_UNARY_GRAD_FORM
#undef CHORUS_KOKKOS_UNARY_MATH_NAMES
#undef CK_MINIMUM
#undef CK_MAXIMUM
#undef U64
#undef K

// Calls body.template operator()<Op, TakesIntegers>() for the runtime op
// code (TakesIntegers: the row's DTYPES include i32 and i64); false, with
// nothing called, for a code the table does not have.
#define CHORUS_KOKKOS_TAKES_INTS_FLOATS false
#define CHORUS_KOKKOS_TAKES_INTS_FLOATS_INTS true
template <typename Body>
bool with_unary_op(int32_t op, Body&& body) {
  switch (op) {
#define UNARY_OP(NAME, name, DTYPES, ...)                                               \
  case CHORUS_UNARY_##NAME:                                                             \
    body.template operator()<CHORUS_UNARY_##NAME, CHORUS_KOKKOS_TAKES_INTS_##DTYPES>(); \
    return true;
#include "elementwise/unary_table.h"
#undef UNARY_OP
  }
  return false;
}

// Calls body.template operator()<Op, FromY>() for a gradient the table has
// (op, and from_y where the row has a y form); false, calling nothing, else.
#define CHORUS_KOKKOS_HAS_Y_Y_NONE false
#define CHORUS_KOKKOS_HAS_Y_Y_ANY true
#define CHORUS_KOKKOS_HAS_Y_Y_ALPHA_POSITIVE true
#define CHORUS_KOKKOS_HAS_Y_Y_ALPHA_NONNEGATIVE true
template <typename Body>
bool with_unary_grad_op(int32_t op, bool from_y, Body&& body) {
  switch (op) {
#define UNARY_GRAD(NAME, name, FROM_Y, ...)                                 \
  case CHORUS_UNARY_##NAME:                                                 \
    if (!from_y) {                                                          \
      body.template operator()<CHORUS_UNARY_##NAME, false>();               \
      return true;                                                          \
    }                                                                       \
    if constexpr (CHORUS_KOKKOS_HAS_Y_##FROM_Y) {                           \
      body.template operator()<CHORUS_UNARY_##NAME, CHORUS_KOKKOS_HAS_Y_##FROM_Y>(); \
      return true;                                                          \
    }                                                                       \
    return false;
#include "elementwise/unary_grad_table.h"
#undef UNARY_GRAD
  }
  return false;
}
#undef CHORUS_KOKKOS_HAS_Y_Y_NONE
#undef CHORUS_KOKKOS_HAS_Y_Y_ANY
#undef CHORUS_KOKKOS_HAS_Y_Y_ALPHA_POSITIVE
#undef CHORUS_KOKKOS_HAS_Y_Y_ALPHA_NONNEGATIVE

// The op's name in the table ("exp"), for messages; NULL for a code it lacks.
inline const char* unary_op_name(int32_t op) {
  switch (op) {
#define UNARY_OP(NAME, name, ...) \
  case CHORUS_UNARY_##NAME:       \
    return #name;
#include "elementwise/unary_table.h"
#undef UNARY_OP
  }
  return nullptr;
}

// Whether the table has op, and whether that row takes i32 and i64.
inline bool unary_op_known(int32_t op, bool* takes_integers) {
  return with_unary_op(op, [&]<int Op, bool TakesIntegers>() { *takes_integers = TakesIntegers; });
}
#undef CHORUS_KOKKOS_TAKES_INTS_FLOATS
#undef CHORUS_KOKKOS_TAKES_INTS_FLOATS_INTS

}  // namespace chorus::kokkos
