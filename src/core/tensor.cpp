// tensor.cpp — the two helpers of chorus.h for building views, with every
// product checked for overflow.
#include <chorus/chorus.h>

#include "core/error.hpp"

using chorus::core::fail;
using chorus::core::failf;

extern "C" {

CHORUS_API chorus_status chorus_tensor_contiguous(chorus_buffer buffer, chorus_dtype dtype,
                                                  uint32_t rank, const int64_t* shape,
                                                  chorus_tensor* out) {
  if (!out) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "tensor_contiguous: out is NULL");
  if (rank > CHORUS_MAX_RANK)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "tensor_contiguous: rank %u exceeds %d", rank,
                 CHORUS_MAX_RANK);
  if (rank && !shape) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "tensor_contiguous: shape is NULL");
  if (!chorus_dtype_size(dtype))
    return fail(CHORUS_ERROR_INVALID_ARGUMENT, "tensor_contiguous: dtype is not a chorus dtype");
  chorus_tensor t{};
  t.buffer = buffer;
  t.dtype = dtype;
  t.rank = rank;
  int64_t stride = 1;
  for (uint32_t i = rank; i-- > 0;) {
    if (shape[i] < 0)
      return failf(CHORUS_ERROR_INVALID_ARGUMENT, "tensor_contiguous: shape[%u] is negative", i);
    t.shape[i] = shape[i];
    t.strides[i] = stride;
    if (shape[i] > 0 && __builtin_mul_overflow(stride, shape[i], &stride))
      return fail(CHORUS_ERROR_INVALID_ARGUMENT,
                  "tensor_contiguous: the shape has more than 2^63-1 elements");
  }
  *out = t;
  return CHORUS_OK;
}

CHORUS_API int64_t chorus_tensor_numel(const chorus_tensor* tensor) {
  if (!tensor || tensor->rank > CHORUS_MAX_RANK) return -1;
  int64_t n = 1;
  for (uint32_t i = 0; i < tensor->rank; ++i) {
    if (tensor->shape[i] < 0) return -1;
    if (__builtin_mul_overflow(n, tensor->shape[i], &n)) return -1;
  }
  return n;
}

}  // extern "C"
