// kokkos_ops.hpp — what the Kokkos backend's host driver (kokkos_backend.cpp)
// and its op families (kokkos_elementwise.cpp, kokkos_reduce.cpp,
// kokkos_rows.cpp, kokkos_gemm.cpp) share: the op entry points, each taking a
// normalised descriptor whose tensor buffers have already been replaced by
// device pointers, and the error-reporting hook. The op semantics are those
// of docs/ops.md; the dispatch from a runtime dtype to a kernel compiled for
// it lives here too, so each family writes its kernels once as templates.
#pragma once

#include <chorus/backend.h>

#include <string>

#include "common/numeric.hpp"
#include "kokkos_device.hpp"

namespace chorus::kokkos {

// Records the message for libchorus (chorus_last_error_message) and returns
// status.
chorus_status report(chorus_status status, const std::string& message);

chorus_status run_copy(const Exec& exec, const chorus_op_desc& d);
chorus_status run_fill(const Exec& exec, const chorus_op_desc& d);
chorus_status run_unary(const Exec& exec, const chorus_op_desc& d);
chorus_status run_binary(const Exec& exec, const chorus_op_desc& d);
chorus_status run_compare(const Exec& exec, const chorus_op_desc& d);
chorus_status run_where(const Exec& exec, const chorus_op_desc& d);
chorus_status run_reduce(const Exec& exec, const chorus_op_desc& d);
chorus_status run_argmax(const Exec& exec, const chorus_op_desc& d);
chorus_status run_gemm(const Exec& exec, const chorus_op_desc& d);
chorus_status run_softmax(const Exec& exec, const chorus_op_desc& d);
chorus_status run_norm(const Exec& exec, const chorus_op_desc& d, bool subtract_mean);

inline unsigned char* data_of(const chorus_backend_tensor& t) {
  return static_cast<unsigned char*>(t.buffer);
}

// Calls body.template operator()<D>() for the float dtype D; false when the
// dtype is not a float.
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

// As with_float_dtype, for the integer dtypes.
template <typename Body>
bool with_integer_dtype(chorus_dtype dtype, Body&& body) {
  switch (dtype) {
    case CHORUS_DTYPE_I32:
      body.template operator()<CHORUS_DTYPE_I32>();
      return true;
    case CHORUS_DTYPE_I64:
      body.template operator()<CHORUS_DTYPE_I64>();
      return true;
    case CHORUS_DTYPE_U8:
      body.template operator()<CHORUS_DTYPE_U8>();
      return true;
    default:
      return false;
  }
}

// For messages: "f32", ..., "an invalid dtype".
using numeric::dtype_name;

}  // namespace chorus::kokkos
