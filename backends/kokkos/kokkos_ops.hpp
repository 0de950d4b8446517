// kokkos_ops.hpp — what the Kokkos backend's host driver (kokkos_backend.cpp)
// and its op families (src/ops/<family>/kokkos.cpp) share: the op registry,
// the error-reporting hook, and the dispatch from a runtime dtype to a kernel
// compiled for it, so that each family writes its kernels once as templates.
//
// Each family's register_kokkos() (called once, through the generated
// chorus::ops::register_all_kokkos()) registers one OpEntry per op kind it
// implements. An entry's check answers op_supports for a record of tensor
// layouts; its run executes the op bound to device memory (tensor buffers
// are device pointers to the start of their allocation, offsets and strides
// in elements). The op semantics are those of docs/ops.md; the normal form
// each family receives is stated in backend.h and src/ops/<family>/schema.cpp.
#pragma once

#include <chorus/backend.h>

#include <cstring>
#include <string>

#include "common/numeric.hpp"
#include "common/op_view.hpp"
#include "kokkos_device.hpp"

namespace chorus::kokkos {

// Records the message for libchorus (chorus_last_error_message) and returns
// status.
chorus_status report(chorus_status status, const std::string& message);

// CHORUS_ERROR_UNSUPPORTED with "kokkos: <op>: <message>".
inline chorus_status unsupported(const char* op, const std::string& message) {
  return report(CHORUS_ERROR_UNSUPPORTED, std::string("kokkos: ") + op + ": " + message);
}

// One op kind as a family implements it.
struct OpEntry {
  // sizeof the attributes struct this plugin was built with (0: none). A
  // record whose attributes carry nonzero bytes past it is refused
  // (chorus_backend_attrs_known); a shorter one, from an older libchorus,
  // reads as zero past its end (attrs_of).
  uint32_t attrs_size = 0;
  // CHORUS_OK, or CHORUS_ERROR_UNSUPPORTED (reported) for an enum value,
  // dtype or layout the family does not implement. Sees layouts only:
  // buffers are NULL. Must accept exactly what run can do.
  chorus_status (*check)(const BoundOp& op) = nullptr;
  // Enqueues the op on exec. Runs only ops that check accepted.
  chorus_status (*run)(const Exec& exec, const BoundOp& op) = nullptr;
};

// Called by the families' register_kokkos() (once per kind).
void register_op(chorus_op_kind kind, const OpEntry& entry);

// An op's attributes as this plugin's struct A: bytes an older libchorus did
// not send read as zero, their "as before" value.
template <typename A>
A attrs_of(const BoundOp& op) {
  A a{};
  if (op.attrs != nullptr)
    std::memcpy(&a, op.attrs, op.attrs_size < sizeof a ? op.attrs_size : sizeof a);
  return a;
}

inline unsigned char* data_of(const chorus_backend_tensor& t) {
  return static_cast<unsigned char*>(t.buffer);
}

inline bool is_float_dtype(chorus_dtype d) {
  return d == CHORUS_DTYPE_F32 || d == CHORUS_DTYPE_F16 || d == CHORUS_DTYPE_BF16 ||
         d == CHORUS_DTYPE_F64;
}
// The integers the arithmetic ops take (u8 holds masks only).
inline bool is_signed_int_dtype(chorus_dtype d) {
  return d == CHORUS_DTYPE_I32 || d == CHORUS_DTYPE_I64;
}
// Every dtype the backend stores.
inline bool is_known_dtype(chorus_dtype d) {
  return is_float_dtype(d) || is_signed_int_dtype(d) || d == CHORUS_DTYPE_U8;
}

// Calls body.template operator()<D>() for the float dtype D; false (nothing
// called) when the dtype is not a float.
template <typename Body>
bool with_float_dtype(chorus_dtype dtype, Body&& body) {
  switch (dtype) {
    case CHORUS_DTYPE_F32:
      body.template operator()<CHORUS_DTYPE_F32>();
      return true;
    case CHORUS_DTYPE_F16:
      body.template operator()<CHORUS_DTYPE_F16>();
      return true;
    case CHORUS_DTYPE_BF16:
      body.template operator()<CHORUS_DTYPE_BF16>();
      return true;
    case CHORUS_DTYPE_F64:
      body.template operator()<CHORUS_DTYPE_F64>();
      return true;
    default:
      return false;
  }
}

// As with_float_dtype, for i32 and i64.
template <typename Body>
bool with_signed_int_dtype(chorus_dtype dtype, Body&& body) {
  switch (dtype) {
    case CHORUS_DTYPE_I32:
      body.template operator()<CHORUS_DTYPE_I32>();
      return true;
    case CHORUS_DTYPE_I64:
      body.template operator()<CHORUS_DTYPE_I64>();
      return true;
    default:
      return false;
  }
}

// As with_float_dtype, for i32, i64 and u8.
template <typename Body>
bool with_integer_dtype(chorus_dtype dtype, Body&& body) {
  if (dtype == CHORUS_DTYPE_U8) {
    body.template operator()<CHORUS_DTYPE_U8>();
    return true;
  }
  return with_signed_int_dtype(dtype, body);
}

// For messages: "f32", ..., "invalid".
using numeric::dtype_name;

inline chorus_status unsupported_dtype(const char* op, chorus_dtype dtype) {
  return unsupported(op, std::string("dtype ") + dtype_name(dtype) +
                             " is not one this op takes on the Kokkos backend");
}

}  // namespace chorus::kokkos
