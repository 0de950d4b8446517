// tensor.cpp — the two helpers of chorus.h for building views, with every
// product checked for overflow.
#include <chorus/chorus.h>

#include <cstdio>

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

// ------------------------------------------------------------ views, concat, pad

namespace {

// The first and last element offsets a view can touch ([lo, hi]); false for
// an empty view.
bool element_span(const chorus_tensor& t, int64_t* lo, int64_t* hi) {
  *lo = *hi = t.offset;
  for (uint32_t k = 0; k < t.rank; ++k) {
    if (t.shape[k] == 0) return false;
    *hi += (t.shape[k] - 1) * t.strides[k];
  }
  return true;
}

// A view that names a rank chorus knows and has no negative extent.
chorus_status check_view(const char* fn, const char* name, const chorus_tensor* t) {
  if (!t) return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", fn, name);
  if (t->rank > CHORUS_MAX_RANK)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s has rank %u, above %d", fn, name, t->rank,
                 CHORUS_MAX_RANK);
  for (uint32_t k = 0; k < t->rank; ++k)
    if (t->shape[k] < 0 || t->strides[k] < 0)
      return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s has a negative extent or stride on axis %u",
                   fn, name, k);
  return CHORUS_OK;
}

}  // namespace

extern "C" {

CHORUS_API chorus_status chorus_tensor_slice(const chorus_tensor* in, uint32_t axis, int64_t begin,
                                             int64_t end, int64_t step, chorus_tensor* out) {
  if (auto s = check_view("tensor_slice", "in", in)) return s;
  if (!out) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "tensor_slice: out is NULL");
  if (axis >= in->rank)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "tensor_slice: axis %u is not an axis of in (rank %u)",
                 axis, in->rank);
  const int64_t extent = in->shape[axis];
  if (begin < 0 || end < begin || end > extent)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                 "tensor_slice: begin %lld and end %lld must satisfy 0 <= begin <= end <= %lld "
                 "(in's extent on axis %u)",
                 static_cast<long long>(begin), static_cast<long long>(end),
                 static_cast<long long>(extent), axis);
  if (step < 1)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "tensor_slice: step %lld must be >= 1",
                 static_cast<long long>(step));
  chorus_tensor t = *in;
  t.shape[axis] = (end - begin + step - 1) / step;
  if (t.shape[axis] > 0) t.offset += begin * in->strides[axis];
  if (__builtin_mul_overflow(in->strides[axis], step, &t.strides[axis]))
    return fail(CHORUS_ERROR_INVALID_ARGUMENT, "tensor_slice: stride x step passes 2^63-1");
  *out = t;
  return CHORUS_OK;
}

CHORUS_API chorus_status chorus_tensor_permute(const chorus_tensor* in, const uint32_t* order,
                                               chorus_tensor* out) {
  if (auto s = check_view("tensor_permute", "in", in)) return s;
  if (!out) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "tensor_permute: out is NULL");
  if (in->rank && !order) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "tensor_permute: order is NULL");
  bool seen[CHORUS_MAX_RANK] = {};
  for (uint32_t k = 0; k < in->rank; ++k) {
    if (order[k] >= in->rank || seen[order[k]])
      return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                   "tensor_permute: order is not a permutation of 0..%u (order[%u] = %u)",
                   in->rank - 1, k, order[k]);
    seen[order[k]] = true;
  }
  chorus_tensor t = *in;
  for (uint32_t k = 0; k < in->rank; ++k) {
    t.shape[k] = in->shape[order[k]];
    t.strides[k] = in->strides[order[k]];
  }
  *out = t;
  return CHORUS_OK;
}

CHORUS_API chorus_status chorus_concat(chorus_queue queue, uint32_t count,
                                       const chorus_tensor* inputs, uint32_t axis,
                                       const chorus_tensor* out) {
  if (auto s = check_view("concat", "out", out)) return s;
  if (count == 0 || !inputs)
    return fail(CHORUS_ERROR_INVALID_ARGUMENT, "concat: inputs is NULL or count is 0");
  if (axis >= out->rank)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "concat: axis %u is not an axis of out (rank %u)",
                 axis, out->rank);
  // Every check before the first copy, so a refused call enqueues nothing.
  int64_t total = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const chorus_tensor& in = inputs[i];
    char name[32];
    std::snprintf(name, sizeof name, "inputs[%u]", i);
    if (auto s = check_view("concat", name, &in)) return s;
    if (in.rank != out->rank)
      return failf(CHORUS_ERROR_INVALID_ARGUMENT, "concat: %s has rank %u; out has rank %u", name,
                   in.rank, out->rank);
    for (uint32_t k = 0; k < out->rank; ++k)
      if (k != axis && in.shape[k] != out->shape[k])
        return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                     "concat: %s has extent %lld on axis %u; out has %lld (only axis %u may differ)",
                     name, static_cast<long long>(in.shape[k]), k,
                     static_cast<long long>(out->shape[k]), axis);
    total += in.shape[axis];
  }
  if (total != out->shape[axis])
    return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                 "concat: the inputs' extents on axis %u add up to %lld; out has %lld", axis,
                 static_cast<long long>(total), static_cast<long long>(out->shape[axis]));
  int64_t at = 0;
  for (uint32_t i = 0; i < count; ++i) {
    chorus_tensor part;
    const int64_t n = inputs[i].shape[axis];
    if (auto s = chorus_tensor_slice(out, axis, at, at + n, 1, &part)) return s;
    if (auto s = chorus_copy(queue, &inputs[i], &part)) return s;
    at += n;
  }
  return CHORUS_OK;
}

CHORUS_API chorus_status chorus_pad(chorus_queue queue, const chorus_tensor* x,
                                    const int64_t* pad_before, const int64_t* pad_after,
                                    double value, const chorus_tensor* y) {
  if (auto s = check_view("pad", "x", x)) return s;
  if (auto s = check_view("pad", "y", y)) return s;
  if (x->rank != y->rank)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "pad: x has rank %u; y has rank %u", x->rank,
                 y->rank);
  if (x->rank && (!pad_before || !pad_after))
    return fail(CHORUS_ERROR_INVALID_ARGUMENT, "pad: pad_before or pad_after is NULL");
  chorus_tensor interior = *y;
  for (uint32_t k = 0; k < x->rank; ++k) {
    if (pad_before[k] < 0 || pad_after[k] < 0)
      return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                   "pad: pad_before[%u] and pad_after[%u] must be >= 0 (cropping is a slice)", k, k);
    int64_t want = 0;
    if (__builtin_add_overflow(x->shape[k], pad_before[k], &want) ||
        __builtin_add_overflow(want, pad_after[k], &want) || want != y->shape[k])
      return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                   "pad: y has extent %lld on axis %u; x's %lld plus the pads %lld + %lld is not that",
                   static_cast<long long>(y->shape[k]), k, static_cast<long long>(x->shape[k]),
                   static_cast<long long>(pad_before[k]), static_cast<long long>(pad_after[k]));
    if (auto s = chorus_tensor_slice(&interior, k, pad_before[k], pad_before[k] + x->shape[k], 1,
                                     &interior))
      return s;
  }
  int64_t xl, xh, yl, yh;
  if (x->buffer == y->buffer && element_span(*x, &xl, &xh) && element_span(*y, &yl, &yh)) {
    const int64_t xs = static_cast<int64_t>(chorus_dtype_size(x->dtype)),
                  ys = static_cast<int64_t>(chorus_dtype_size(y->dtype));
    if (xl * xs < (yh + 1) * ys && yl * ys < (xh + 1) * xs)
      return fail(CHORUS_ERROR_INVALID_ARGUMENT, "pad: y overlaps x (the fill would overwrite x)");
  }
  if (auto s = chorus_fill(queue, y, value)) return s;
  return chorus_copy(queue, x, &interior);
}

}  // extern "C"
