// ops.cpp — the op entry points: validate every argument with a message that
// names it, then normalise the call (broadcasts as stride-0 axes, transposes
// and axis permutations folded into strides, see backend.h) and hand it to the
// queue's backend. Backends therefore never re-validate and never handle
// broadcasting or axis choice themselves.
#include <algorithm>
#include <array>
#include <cstdio>
#include <string>

#include "core/error.hpp"
#include "core/objects.hpp"

using chorus::core::fail;
using chorus::core::failf;

namespace {

constexpr uint32_t bit(chorus_dtype d) { return 1u << static_cast<uint32_t>(d); }
constexpr uint32_t kFloats =
    bit(CHORUS_DTYPE_F32) | bit(CHORUS_DTYPE_F16) | bit(CHORUS_DTYPE_BF16) | bit(CHORUS_DTYPE_F64);
constexpr uint32_t kSignedInts = bit(CHORUS_DTYPE_I32) | bit(CHORUS_DTYPE_I64);
constexpr uint32_t kAll = kFloats | kSignedInts | bit(CHORUS_DTYPE_U8);

std::string dtype_list(uint32_t mask) {
  std::string out;
  for (int d = 1; d < CHORUS_DTYPE_COUNT_; ++d)
    if (mask & (1u << d)) out += (out.empty() ? "" : ", ") + std::string(chorus_dtype_name(static_cast<chorus_dtype>(d)));
  return out;
}

std::string shape_text(uint32_t rank, const int64_t* shape) {
  std::string s = "[";
  for (uint32_t i = 0; i < rank; ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

int64_t numel(const chorus_backend_tensor& t) {
  int64_t n = 1;
  for (uint32_t i = 0; i < t.rank; ++i) n *= t.shape[i];
  return n;
}

const char* unary_name(int op) {
  static const char* names[] = {"neg",  "abs",     "exp",  "log",      "sqrt",      "rsqrt",
                                "tanh", "sigmoid", "relu", "gelu_erf", "gelu_tanh", "silu"};
  return op >= 0 && op < CHORUS_UNARY_COUNT_ ? names[op] : "unary";
}
const char* binary_name(int op) {
  static const char* names[] = {"add", "sub", "mul", "div", "max", "min", "pow"};
  return op >= 0 && op < CHORUS_BINARY_COUNT_ ? names[op] : "binary";
}
const char* compare_name(int op) {
  static const char* names[] = {"eq", "ne", "lt", "le", "gt", "ge"};
  return op >= 0 && op < CHORUS_COMPARE_COUNT_ ? names[op] : "compare";
}
const char* reduce_name(int op) {
  static const char* names[] = {"sum", "mean", "max", "min"};
  return op >= 0 && op < CHORUS_REDUCE_COUNT_ ? names[op] : "reduce";
}

// Checks one tensor argument and converts it to the backend's view.
// optional: a NULL pointer yields an absent tensor (buffer NULL), not an error.
chorus_status take_tensor(const char* op, const char* arg, chorus_queue queue,
                          const chorus_tensor* t, chorus_backend_tensor* out,
                          bool optional = false) {
  *out = chorus_backend_tensor{};
  if (!t) {
    if (optional) return CHORUS_OK;
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", op, arg);
  }
  if (!t->buffer) return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s.buffer is NULL", op, arg);
  if (t->buffer->device != queue->device)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s lives on %s but the queue is on %s", op,
                 arg, t->buffer->device->info.name, queue->device->info.name);
  const size_t esize = chorus_dtype_size(t->dtype);
  if (!esize)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s.dtype %d is not a chorus dtype", op, arg,
                 static_cast<int>(t->dtype));
  if (t->rank > CHORUS_MAX_RANK)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s.rank is %u; the most is %d", op, arg,
                 t->rank, CHORUS_MAX_RANK);
  if (t->offset < 0)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s.offset is %lld; it must be >= 0", op, arg,
                 static_cast<long long>(t->offset));
  __int128 last = t->offset;
  bool empty = false;
  for (uint32_t i = 0; i < t->rank; ++i) {
    if (t->shape[i] < 0)
      return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s.shape[%u] is %lld; it must be >= 0", op,
                   arg, i, static_cast<long long>(t->shape[i]));
    if (t->strides[i] < 0)
      return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s.strides[%u] is %lld; it must be >= 0", op,
                   arg, i, static_cast<long long>(t->strides[i]));
    if (t->shape[i] == 0) empty = true;
    last += static_cast<__int128>(t->shape[i] > 0 ? t->shape[i] - 1 : 0) * t->strides[i];
  }
  if (!empty && (last + 1) * static_cast<__int128>(esize) > t->buffer->bytes)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                 "%s: %s (shape %s, offset %lld) reaches element %lld, past the end of its "
                 "%llu-byte buffer",
                 op, arg, shape_text(t->rank, t->shape).c_str(), static_cast<long long>(t->offset),
                 static_cast<long long>(last), static_cast<unsigned long long>(t->buffer->bytes));
  const chorus_device_info& info = queue->device->info;
  if (!(info.dtype_mask & bit(t->dtype)))
    return failf(CHORUS_ERROR_UNSUPPORTED, "%s: %s is %s, which %s does not support", op, arg,
                 chorus_dtype_name(t->dtype), info.name);
  out->buffer = t->buffer->handle;
  out->dtype = t->dtype;
  out->rank = t->rank;
  out->offset = t->offset;
  for (uint32_t i = 0; i < t->rank; ++i) {
    out->shape[i] = t->shape[i];
    // Extent-1 axes never move; a canonical 0 stride keeps later merges simple.
    out->strides[i] = t->shape[i] == 1 ? 0 : t->strides[i];
  }
  return CHORUS_OK;
}

chorus_status check_dtype(const char* op, const char* arg, chorus_dtype dtype, uint32_t allowed) {
  if (allowed & bit(dtype)) return CHORUS_OK;
  return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s is %s; %s takes %s", op, arg,
               chorus_dtype_name(dtype), op, dtype_list(allowed).c_str());
}

chorus_status check_same_dtype(const char* op, const char* arg, const chorus_backend_tensor& t,
                               const char* ref_arg, const chorus_backend_tensor& ref) {
  if (t.dtype == ref.dtype) return CHORUS_OK;
  return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s is %s but %s is %s; they must match", op, arg,
               chorus_dtype_name(t.dtype), ref_arg, chorus_dtype_name(ref.dtype));
}

// numpy broadcasting of `in` to (rank, shape): aligned at the last axis.
chorus_status broadcast_to(const char* op, const char* arg, chorus_backend_tensor* in,
                           uint32_t rank, const int64_t* shape, const char* target) {
  if (in->rank > rank)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s has rank %u, more than %s's rank %u", op,
                 arg, in->rank, target, rank);
  chorus_backend_tensor out = *in;
  out.rank = rank;
  const uint32_t lead = rank - in->rank;
  for (uint32_t i = 0; i < rank; ++i) {
    out.shape[i] = shape[i];
    if (i < lead) {
      out.strides[i] = 0;
      continue;
    }
    const int64_t extent = in->shape[i - lead];
    if (extent == shape[i]) {
      out.strides[i] = in->strides[i - lead];
    } else if (extent == 1) {
      out.strides[i] = 0;
    } else {
      return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                   "%s: %s of shape %s does not broadcast to %s's shape %s (axis %u: %lld vs %lld)",
                   op, arg, shape_text(in->rank, in->shape).c_str(), target,
                   shape_text(rank, shape).c_str(), i - lead,
                   static_cast<long long>(extent), static_cast<long long>(shape[i]));
    }
  }
  *in = out;
  return CHORUS_OK;
}

// Bytes [first, last] a view can touch.
struct Footprint {
  int64_t first, last;
};
Footprint footprint(const chorus_backend_tensor& t) {
  const int64_t esize = static_cast<int64_t>(chorus_dtype_size(t.dtype));
  int64_t last = t.offset;
  for (uint32_t i = 0; i < t.rank; ++i) last += (t.shape[i] - 1) * t.strides[i];
  return {t.offset * esize, (last + 1) * esize - 1};
}

bool identical_view(const chorus_backend_tensor& a, const chorus_backend_tensor& b) {
  if (a.buffer != b.buffer || a.rank != b.rank) return false;
  const int64_t sa = static_cast<int64_t>(chorus_dtype_size(a.dtype));
  const int64_t sb = static_cast<int64_t>(chorus_dtype_size(b.dtype));
  if (sa != sb || a.offset != b.offset) return false;
  for (uint32_t i = 0; i < a.rank; ++i)
    if (a.shape[i] != b.shape[i] || a.strides[i] != b.strides[i]) return false;
  return true;
}

// An output may be exactly an input (in place, elementwise ops only) or
// disjoint from it; anything between would make the result depend on the
// order in which a backend happens to visit elements.
chorus_status check_alias(const char* op, const char* out_arg, const chorus_backend_tensor& out,
                          const char* in_arg, const chorus_backend_tensor& in,
                          bool allow_in_place) {
  if (!in.buffer || in.buffer != out.buffer || numel(in) == 0 || numel(out) == 0)
    return CHORUS_OK;
  if (allow_in_place && identical_view(in, out)) return CHORUS_OK;
  const Footprint a = footprint(out), b = footprint(in);
  if (a.last < b.first || b.last < a.first) return CHORUS_OK;
  if (allow_in_place)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                 "%s: %s overlaps %s without being the same view; use the identical view for an "
                 "in-place op, or separate memory",
                 op, out_arg, in_arg);
  return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s overlaps %s; %s cannot run in place", op,
               out_arg, in_arg, op);
}

void permute(chorus_backend_tensor* t, const std::array<uint32_t, CHORUS_MAX_RANK>& order) {
  chorus_backend_tensor out = *t;
  for (uint32_t i = 0; i < t->rank; ++i) {
    out.shape[i] = t->shape[order[i]];
    out.strides[i] = t->strides[order[i]];
  }
  *t = out;
}

chorus_status check_queue(const char* op, chorus_queue queue) {
  if (!queue) return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: queue is NULL", op);
  return CHORUS_OK;
}

chorus_op_desc make_desc(chorus_op_kind kind, chorus_queue queue) {
  chorus_op_desc desc{};
  desc.struct_size = sizeof(chorus_op_desc);
  desc.kind = kind;
  desc.numerics = queue->numerics_requested;
  desc.activation = CHORUS_ACTIVATION_NONE;
  return desc;
}

chorus_status execute(const char* op, chorus_queue queue, const chorus_op_desc& desc) {
  fail(CHORUS_OK, "");
  const chorus_status status = queue->device->plugin->vtable->op_execute(queue->handle, &desc);
  if (status != CHORUS_OK) {
    const std::string why = chorus_last_error_message();
    return failf(status, "%s on %s: %s", op, queue->device->info.name,
                 why.empty() ? chorus_status_name(status) : why.c_str());
  }
  return CHORUS_OK;
}

// Shared body of the elementwise ops: inputs broadcast to the last tensor
// (the output), which each input may alias exactly.
chorus_status elementwise(const char* op, chorus_queue queue, chorus_op_desc& desc,
                          const char* const* names) {
  chorus_backend_tensor& out = desc.tensors[desc.tensor_count - 1];
  for (uint32_t i = 0; i + 1 < desc.tensor_count; ++i) {
    if (auto s = broadcast_to(op, names[i], &desc.tensors[i], out.rank, out.shape,
                              names[desc.tensor_count - 1]))
      return s;
    if (auto s = check_alias(op, names[desc.tensor_count - 1], out, names[i], desc.tensors[i], true))
      return s;
  }
  if (numel(out) == 0) return CHORUS_OK;
  return execute(op, queue, desc);
}

// Moves the axes whose bits are in `mask` to the end, keeping both groups in
// order, for every tensor given.
std::array<uint32_t, CHORUS_MAX_RANK> axes_last_order(uint32_t rank, uint32_t mask) {
  std::array<uint32_t, CHORUS_MAX_RANK> order{};
  uint32_t n = 0;
  for (uint32_t i = 0; i < rank; ++i)
    if (!(mask & (1u << i))) order[n++] = i;
  for (uint32_t i = 0; i < rank; ++i)
    if (mask & (1u << i)) order[n++] = i;
  return order;
}

// Accepts `out` either with x's rank and extent 1 on the reduced axes, or
// with the reduced axes removed; returns it in the keep-dims form.
chorus_status keepdims_output(const char* op, const chorus_backend_tensor& x, uint32_t mask,
                              chorus_backend_tensor* out) {
  chorus_backend_tensor kept = *out;
  kept.rank = x.rank;
  bool ok = true;
  if (out->rank == x.rank) {
    for (uint32_t i = 0; i < x.rank; ++i) {
      const int64_t want = (mask & (1u << i)) ? 1 : x.shape[i];
      if (out->shape[i] != want) ok = false;
    }
  } else if (out->rank + static_cast<uint32_t>(__builtin_popcount(mask)) == x.rank) {
    uint32_t j = 0;
    for (uint32_t i = 0; i < x.rank; ++i) {
      if (mask & (1u << i)) {
        kept.shape[i] = 1;
        kept.strides[i] = 0;
      } else {
        if (out->shape[j] != x.shape[i]) ok = false;
        kept.shape[i] = out->shape[j];
        kept.strides[i] = out->strides[j];
        ++j;
      }
    }
  } else {
    ok = false;
  }
  if (!ok) {
    int64_t want[CHORUS_MAX_RANK];
    for (uint32_t i = 0; i < x.rank; ++i) want[i] = (mask & (1u << i)) ? 1 : x.shape[i];
    return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                 "%s: out has shape %s; reducing x of shape %s needs %s (or without the "
                 "reduced axes)",
                 op, shape_text(out->rank, out->shape).c_str(), shape_text(x.rank, x.shape).c_str(),
                 shape_text(x.rank, want).c_str());
  }
  *out = kept;
  return CHORUS_OK;
}

chorus_status normalise_axis(const char* op, int32_t axis, uint32_t rank, uint32_t* result) {
  const int64_t a = axis < 0 ? static_cast<int64_t>(axis) + rank : axis;
  if (rank == 0 || a < 0 || a >= static_cast<int64_t>(rank))
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: axis %d is out of range for rank %u", op, axis,
                 rank);
  *result = static_cast<uint32_t>(a);
  return CHORUS_OK;
}

// Fills `out` with value through the backend (used where the math of an op
// over an empty axis is a constant).
chorus_status fill_constant(const char* op, chorus_queue queue, const chorus_backend_tensor& out,
                            double value) {
  chorus_op_desc desc = make_desc(CHORUS_OP_FILL, queue);
  desc.value = value;
  desc.tensor_count = 1;
  desc.tensors[0] = out;
  return execute(op, queue, desc);
}

}  // namespace

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
  *out = chorus_tensor{};
  out->buffer = buffer;
  out->dtype = dtype;
  out->rank = rank;
  int64_t stride = 1;
  for (uint32_t i = rank; i-- > 0;) {
    if (shape[i] < 0)
      return failf(CHORUS_ERROR_INVALID_ARGUMENT, "tensor_contiguous: shape[%u] is negative", i);
    out->shape[i] = shape[i];
    out->strides[i] = stride;
    stride *= shape[i] > 0 ? shape[i] : 1;
  }
  return CHORUS_OK;
}

CHORUS_API int64_t chorus_tensor_numel(const chorus_tensor* tensor) {
  if (!tensor || tensor->rank > CHORUS_MAX_RANK) return 0;
  int64_t n = 1;
  for (uint32_t i = 0; i < tensor->rank; ++i) n *= tensor->shape[i];
  return n;
}

CHORUS_API chorus_status chorus_copy(chorus_queue queue, const chorus_tensor* src,
                                     const chorus_tensor* dst) {
  const char* op = "copy";
  if (auto s = check_queue(op, queue)) return s;
  chorus_op_desc desc = make_desc(CHORUS_OP_COPY, queue);
  desc.tensor_count = 2;
  if (auto s = take_tensor(op, "src", queue, src, &desc.tensors[0])) return s;
  if (auto s = take_tensor(op, "dst", queue, dst, &desc.tensors[1])) return s;
  static const char* names[] = {"src", "dst"};
  return elementwise(op, queue, desc, names);
}

CHORUS_API chorus_status chorus_fill(chorus_queue queue, const chorus_tensor* dst, double value) {
  const char* op = "fill";
  if (auto s = check_queue(op, queue)) return s;
  chorus_op_desc desc = make_desc(CHORUS_OP_FILL, queue);
  desc.tensor_count = 1;
  desc.value = value;
  if (auto s = take_tensor(op, "dst", queue, dst, &desc.tensors[0])) return s;
  if (numel(desc.tensors[0]) == 0) return CHORUS_OK;
  return execute(op, queue, desc);
}

CHORUS_API chorus_status chorus_unary(chorus_queue queue, chorus_unary_op unary,
                                      const chorus_tensor* x, const chorus_tensor* y) {
  if (auto s = check_queue("unary", queue)) return s;
  if (unary < 0 || unary >= CHORUS_UNARY_COUNT_)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "unary: op %d is not a chorus_unary_op",
                 static_cast<int>(unary));
  const char* op = unary_name(unary);
  chorus_op_desc desc = make_desc(CHORUS_OP_UNARY, queue);
  desc.subop = unary;
  desc.tensor_count = 2;
  if (auto s = take_tensor(op, "x", queue, x, &desc.tensors[0])) return s;
  if (auto s = take_tensor(op, "y", queue, y, &desc.tensors[1])) return s;
  const bool integer_ok =
      unary == CHORUS_UNARY_NEG || unary == CHORUS_UNARY_ABS || unary == CHORUS_UNARY_RELU;
  if (auto s = check_dtype(op, "x", desc.tensors[0].dtype, integer_ok ? kFloats | kSignedInts : kFloats))
    return s;
  if (auto s = check_same_dtype(op, "y", desc.tensors[1], "x", desc.tensors[0])) return s;
  static const char* names[] = {"x", "y"};
  return elementwise(op, queue, desc, names);
}

CHORUS_API chorus_status chorus_binary(chorus_queue queue, chorus_binary_op binary,
                                       const chorus_tensor* a, const chorus_tensor* b,
                                       const chorus_tensor* out) {
  if (auto s = check_queue("binary", queue)) return s;
  if (binary < 0 || binary >= CHORUS_BINARY_COUNT_)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "binary: op %d is not a chorus_binary_op",
                 static_cast<int>(binary));
  const char* op = binary_name(binary);
  chorus_op_desc desc = make_desc(CHORUS_OP_BINARY, queue);
  desc.subop = binary;
  desc.tensor_count = 3;
  if (auto s = take_tensor(op, "a", queue, a, &desc.tensors[0])) return s;
  if (auto s = take_tensor(op, "b", queue, b, &desc.tensors[1])) return s;
  if (auto s = take_tensor(op, "out", queue, out, &desc.tensors[2])) return s;
  const bool float_only = binary == CHORUS_BINARY_DIV || binary == CHORUS_BINARY_POW;
  if (auto s = check_dtype(op, "a", desc.tensors[0].dtype, float_only ? kFloats : kFloats | kSignedInts))
    return s;
  if (auto s = check_same_dtype(op, "b", desc.tensors[1], "a", desc.tensors[0])) return s;
  if (auto s = check_same_dtype(op, "out", desc.tensors[2], "a", desc.tensors[0])) return s;
  static const char* names[] = {"a", "b", "out"};
  return elementwise(op, queue, desc, names);
}

CHORUS_API chorus_status chorus_compare(chorus_queue queue, chorus_compare_op compare,
                                        const chorus_tensor* a, const chorus_tensor* b,
                                        const chorus_tensor* out) {
  if (auto s = check_queue("compare", queue)) return s;
  if (compare < 0 || compare >= CHORUS_COMPARE_COUNT_)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "compare: op %d is not a chorus_compare_op",
                 static_cast<int>(compare));
  const char* op = compare_name(compare);
  chorus_op_desc desc = make_desc(CHORUS_OP_COMPARE, queue);
  desc.subop = compare;
  desc.tensor_count = 3;
  if (auto s = take_tensor(op, "a", queue, a, &desc.tensors[0])) return s;
  if (auto s = take_tensor(op, "b", queue, b, &desc.tensors[1])) return s;
  if (auto s = take_tensor(op, "out", queue, out, &desc.tensors[2])) return s;
  if (auto s = check_same_dtype(op, "b", desc.tensors[1], "a", desc.tensors[0])) return s;
  if (auto s = check_dtype(op, "out", desc.tensors[2].dtype, bit(CHORUS_DTYPE_U8))) return s;
  static const char* names[] = {"a", "b", "out"};
  return elementwise(op, queue, desc, names);
}

CHORUS_API chorus_status chorus_where(chorus_queue queue, const chorus_tensor* condition,
                                      const chorus_tensor* a, const chorus_tensor* b,
                                      const chorus_tensor* out) {
  const char* op = "where";
  if (auto s = check_queue(op, queue)) return s;
  chorus_op_desc desc = make_desc(CHORUS_OP_WHERE, queue);
  desc.tensor_count = 4;
  if (auto s = take_tensor(op, "condition", queue, condition, &desc.tensors[0])) return s;
  if (auto s = take_tensor(op, "a", queue, a, &desc.tensors[1])) return s;
  if (auto s = take_tensor(op, "b", queue, b, &desc.tensors[2])) return s;
  if (auto s = take_tensor(op, "out", queue, out, &desc.tensors[3])) return s;
  if (auto s = check_dtype(op, "condition", desc.tensors[0].dtype, bit(CHORUS_DTYPE_U8))) return s;
  if (auto s = check_same_dtype(op, "b", desc.tensors[2], "a", desc.tensors[1])) return s;
  if (auto s = check_same_dtype(op, "out", desc.tensors[3], "a", desc.tensors[1])) return s;
  static const char* names[] = {"condition", "a", "b", "out"};
  return elementwise(op, queue, desc, names);
}

CHORUS_API chorus_status chorus_reduce(chorus_queue queue, chorus_reduce_op reduce,
                                       const chorus_tensor* x, uint32_t axes_mask,
                                       const chorus_tensor* out) {
  if (auto s = check_queue("reduce", queue)) return s;
  if (reduce < 0 || reduce >= CHORUS_REDUCE_COUNT_)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "reduce: op %d is not a chorus_reduce_op",
                 static_cast<int>(reduce));
  const char* op = reduce_name(reduce);
  chorus_op_desc desc = make_desc(CHORUS_OP_REDUCE, queue);
  desc.subop = reduce;
  desc.tensor_count = 2;
  chorus_backend_tensor& xt = desc.tensors[0];
  chorus_backend_tensor& ot = desc.tensors[1];
  if (auto s = take_tensor(op, "x", queue, x, &xt)) return s;
  if (auto s = take_tensor(op, "out", queue, out, &ot)) return s;
  const uint32_t allowed = reduce == CHORUS_REDUCE_SUM    ? kFloats | kSignedInts
                           : reduce == CHORUS_REDUCE_MEAN ? kFloats
                                                          : kAll;
  if (auto s = check_dtype(op, "x", xt.dtype, allowed)) return s;
  if (auto s = check_same_dtype(op, "out", ot, "x", xt)) return s;
  if (xt.rank == 0) return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: x has rank 0; nothing to reduce", op);
  const uint32_t valid = xt.rank >= 32 ? ~0u : (1u << xt.rank) - 1u;
  if (axes_mask == 0 || (axes_mask & ~valid))
    return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                 "%s: axes_mask 0x%x must name at least one axis of x (rank %u)", op, axes_mask,
                 xt.rank);
  if (auto s = keepdims_output(op, xt, axes_mask, &ot)) return s;
  if (auto s = check_alias(op, "out", ot, "x", xt, false)) return s;
  if (numel(ot) == 0) return CHORUS_OK;
  const auto order = axes_last_order(xt.rank, axes_mask);
  permute(&xt, order);
  permute(&ot, order);
  const uint32_t reduced = static_cast<uint32_t>(__builtin_popcount(axes_mask));
  desc.axes_mask = ((1u << reduced) - 1u) << (xt.rank - reduced);
  if (numel(xt) == 0) {
    // A sum over nothing is 0 and a mean is 0/0; a max or min has no answer.
    if (reduce == CHORUS_REDUCE_SUM) return fill_constant(op, queue, ot, 0.0);
    if (reduce == CHORUS_REDUCE_MEAN) return fill_constant(op, queue, ot, __builtin_nan(""));
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: cannot reduce an empty axis", op);
  }
  return execute(op, queue, desc);
}

CHORUS_API chorus_status chorus_argmax(chorus_queue queue, const chorus_tensor* x, int32_t axis,
                                       const chorus_tensor* out) {
  const char* op = "argmax";
  if (auto s = check_queue(op, queue)) return s;
  chorus_op_desc desc = make_desc(CHORUS_OP_ARGMAX, queue);
  desc.tensor_count = 2;
  chorus_backend_tensor& xt = desc.tensors[0];
  chorus_backend_tensor& ot = desc.tensors[1];
  if (auto s = take_tensor(op, "x", queue, x, &xt)) return s;
  if (auto s = take_tensor(op, "out", queue, out, &ot)) return s;
  if (auto s = check_dtype(op, "out", ot.dtype, bit(CHORUS_DTYPE_I64))) return s;
  uint32_t a = 0;
  if (auto s = normalise_axis(op, axis, xt.rank, &a)) return s;
  if (auto s = keepdims_output(op, xt, 1u << a, &ot)) return s;
  if (auto s = check_alias(op, "out", ot, "x", xt, false)) return s;
  if (numel(ot) == 0) return CHORUS_OK;
  if (xt.shape[a] == 0)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: axis %u of x is empty; no index to return", op, a);
  const auto order = axes_last_order(xt.rank, 1u << a);
  permute(&xt, order);
  permute(&ot, order);
  desc.axis = static_cast<int32_t>(xt.rank - 1);
  return execute(op, queue, desc);
}

CHORUS_API chorus_status chorus_softmax(chorus_queue queue, const chorus_tensor* x, int32_t axis,
                                        int32_t log, const chorus_tensor* y) {
  const char* op = log ? "log_softmax" : "softmax";
  if (auto s = check_queue(op, queue)) return s;
  chorus_op_desc desc = make_desc(CHORUS_OP_SOFTMAX, queue);
  desc.subop = log ? 1 : 0;
  desc.tensor_count = 2;
  chorus_backend_tensor& xt = desc.tensors[0];
  chorus_backend_tensor& yt = desc.tensors[1];
  if (auto s = take_tensor(op, "x", queue, x, &xt)) return s;
  if (auto s = take_tensor(op, "y", queue, y, &yt)) return s;
  if (auto s = check_dtype(op, "x", xt.dtype, kFloats)) return s;
  if (auto s = check_same_dtype(op, "y", yt, "x", xt)) return s;
  if (xt.rank != yt.rank || !std::equal(xt.shape, xt.shape + xt.rank, yt.shape))
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: y has shape %s but x has %s; they must match",
                 op, shape_text(yt.rank, yt.shape).c_str(), shape_text(xt.rank, xt.shape).c_str());
  uint32_t a = 0;
  if (auto s = normalise_axis(op, axis, xt.rank, &a)) return s;
  if (auto s = check_alias(op, "y", yt, "x", xt, true)) return s;
  if (numel(yt) == 0) return CHORUS_OK;
  const auto order = axes_last_order(xt.rank, 1u << a);
  permute(&xt, order);
  permute(&yt, order);
  desc.axis = static_cast<int32_t>(xt.rank - 1);
  return execute(op, queue, desc);
}

}  // extern "C"

namespace {

// Shared by layer norm and RMS norm: x and y of one shape, normalised over
// the last axis; per-feature parameters of shape [last] spread to x's shape.
chorus_status norm(const char* op, chorus_queue queue, chorus_op_desc& desc, const chorus_tensor* x,
                   const chorus_tensor* y, const chorus_tensor* const* params,
                   const char* const* param_names, uint32_t param_count) {
  if (auto s = check_queue(op, queue)) return s;
  chorus_backend_tensor& xt = desc.tensors[0];
  chorus_backend_tensor& yt = desc.tensors[1];
  if (auto s = take_tensor(op, "x", queue, x, &xt)) return s;
  if (auto s = take_tensor(op, "y", queue, y, &yt)) return s;
  if (auto s = check_dtype(op, "x", xt.dtype, kFloats)) return s;
  if (auto s = check_same_dtype(op, "y", yt, "x", xt)) return s;
  if (xt.rank == 0) return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: x has rank 0", op);
  if (xt.rank != yt.rank || !std::equal(xt.shape, xt.shape + xt.rank, yt.shape))
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: y has shape %s but x has %s; they must match",
                 op, shape_text(yt.rank, yt.shape).c_str(), shape_text(xt.rank, xt.shape).c_str());
  if (!(desc.eps >= 0.0))
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: eps is %g; it must be >= 0", op, desc.eps);
  if (auto s = check_alias(op, "y", yt, "x", xt, true)) return s;
  const int64_t features = xt.shape[xt.rank - 1];
  for (uint32_t i = 0; i < param_count; ++i) {
    chorus_backend_tensor& p = desc.tensors[2 + i];
    if (auto s = take_tensor(op, param_names[i], queue, params[i], &p, true)) return s;
    if (!p.buffer) continue;
    if (auto s = check_same_dtype(op, param_names[i], p, "x", xt)) return s;
    if (p.rank != 1 || p.shape[0] != features)
      return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s has shape %s; it must be [%lld] (x's last axis)",
                   op, param_names[i], shape_text(p.rank, p.shape).c_str(),
                   static_cast<long long>(features));
    if (auto s = check_alias(op, "y", yt, param_names[i], p, false)) return s;
    if (auto s = broadcast_to(op, param_names[i], &p, xt.rank, xt.shape, "x")) return s;
  }
  if (numel(yt) == 0) return CHORUS_OK;
  return execute(op, queue, desc);
}

}  // namespace

extern "C" {

CHORUS_API chorus_status chorus_layer_norm(chorus_queue queue, const chorus_tensor* x,
                                           const chorus_tensor* gamma, const chorus_tensor* beta,
                                           double eps, const chorus_tensor* y) {
  if (auto s = check_queue("layer_norm", queue)) return s;
  chorus_op_desc desc = make_desc(CHORUS_OP_LAYER_NORM, queue);
  desc.tensor_count = 4;
  desc.eps = eps;
  desc.has_gamma = gamma != nullptr;
  desc.has_beta = beta != nullptr;
  const chorus_tensor* params[] = {gamma, beta};
  static const char* names[] = {"gamma", "beta"};
  return norm("layer_norm", queue, desc, x, y, params, names, 2);
}

CHORUS_API chorus_status chorus_rms_norm(chorus_queue queue, const chorus_tensor* x,
                                         const chorus_tensor* gamma, double eps,
                                         const chorus_tensor* y) {
  if (auto s = check_queue("rms_norm", queue)) return s;
  chorus_op_desc desc = make_desc(CHORUS_OP_RMS_NORM, queue);
  desc.tensor_count = 3;
  desc.eps = eps;
  desc.has_gamma = gamma != nullptr;
  const chorus_tensor* params[] = {gamma};
  static const char* names[] = {"gamma"};
  return norm("rms_norm", queue, desc, x, y, params, names, 1);
}

CHORUS_API chorus_status chorus_gemm(chorus_queue queue, const chorus_gemm_desc* gemm,
                                     const chorus_tensor* a, const chorus_tensor* b,
                                     const chorus_tensor* bias, const chorus_tensor* c) {
  const char* op = "gemm";
  if (auto s = check_queue(op, queue)) return s;
  if (!gemm) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "gemm: desc is NULL");
  if (gemm->struct_size < sizeof(chorus_gemm_desc))
    return fail(CHORUS_ERROR_INVALID_ARGUMENT,
                "gemm: desc->struct_size is smaller than sizeof(chorus_gemm_desc)");
  if (gemm->activation < 0 || gemm->activation >= CHORUS_ACTIVATION_COUNT_)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "gemm: desc->activation %d is not a chorus_activation",
                 static_cast<int>(gemm->activation));
  chorus_op_desc desc = make_desc(CHORUS_OP_GEMM, queue);
  desc.tensor_count = 4;
  desc.alpha = gemm->alpha;
  desc.beta = gemm->beta;
  desc.activation = gemm->activation;
  desc.has_bias = bias != nullptr;
  chorus_backend_tensor at, bt, ct, biast;
  if (auto s = take_tensor(op, "a", queue, a, &at)) return s;
  if (auto s = take_tensor(op, "b", queue, b, &bt)) return s;
  if (auto s = take_tensor(op, "c", queue, c, &ct)) return s;
  if (auto s = take_tensor(op, "bias", queue, bias, &biast, true)) return s;
  if (auto s = check_dtype(op, "a", at.dtype, kFloats)) return s;
  if (auto s = check_same_dtype(op, "b", bt, "a", at)) return s;
  if (auto s = check_same_dtype(op, "c", ct, "a", at)) return s;
  if (biast.buffer)
    if (auto s = check_same_dtype(op, "bias", biast, "a", at)) return s;
  if (at.rank < 2 || bt.rank < 2 || ct.rank < 2)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                 "gemm: a, b and c need rank >= 2 (got %u, %u and %u)", at.rank, bt.rank, ct.rank);
  auto swap_last = [](chorus_backend_tensor& t) {
    std::swap(t.shape[t.rank - 1], t.shape[t.rank - 2]);
    std::swap(t.strides[t.rank - 1], t.strides[t.rank - 2]);
  };
  if (gemm->transpose_a) swap_last(at);
  if (gemm->transpose_b) swap_last(bt);
  const int64_t M = at.shape[at.rank - 2], K = at.shape[at.rank - 1];
  const int64_t K2 = bt.shape[bt.rank - 2], N = bt.shape[bt.rank - 1];
  if (K != K2)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "gemm: op(a) has %lld columns but op(b) has %lld rows",
                 static_cast<long long>(K), static_cast<long long>(K2));
  if (ct.shape[ct.rank - 2] != M || ct.shape[ct.rank - 1] != N)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "gemm: c is %lldx%lld but op(a) @ op(b) is %lldx%lld",
                 static_cast<long long>(ct.shape[ct.rank - 2]),
                 static_cast<long long>(ct.shape[ct.rank - 1]), static_cast<long long>(M),
                 static_cast<long long>(N));
  // Batch axes of a and b broadcast to c's; their matrix axes stay theirs.
  auto broadcast_batch = [&](const char* arg, chorus_backend_tensor& t) -> chorus_status {
    chorus_backend_tensor batch = t;
    batch.rank = t.rank - 2;
    if (auto s = broadcast_to(op, arg, &batch, ct.rank - 2, ct.shape, "c's batch")) return s;
    chorus_backend_tensor full = batch;
    full.rank = ct.rank;
    for (int i = 0; i < 2; ++i) {
      full.shape[ct.rank - 2 + i] = t.shape[t.rank - 2 + i];
      full.strides[ct.rank - 2 + i] = t.strides[t.rank - 2 + i];
    }
    t = full;
    return CHORUS_OK;
  };
  if (auto s = broadcast_batch("a", at)) return s;
  if (auto s = broadcast_batch("b", bt)) return s;
  if (biast.buffer)
    if (auto s = broadcast_to(op, "bias", &biast, ct.rank, ct.shape, "c")) return s;
  if (auto s = check_alias(op, "c", ct, "a", at, false)) return s;
  if (auto s = check_alias(op, "c", ct, "b", bt, false)) return s;
  if (biast.buffer)
    if (auto s = check_alias(op, "c", ct, "bias", biast, false)) return s;
  if (numel(ct) == 0) return CHORUS_OK;

  // Fold c's batch axes into one where every operand allows it; loop over
  // whatever cannot be folded, so backends only ever see rank 3.
  chorus_backend_tensor* all[] = {&at, &bt, &ct, &biast};
  const uint32_t count = biast.buffer ? 4 : 3;
  uint32_t batch_rank = ct.rank - 2;
  int64_t bshape[CHORUS_MAX_RANK];
  int64_t bstrides[4][CHORUS_MAX_RANK];
  uint32_t n = 0;
  for (uint32_t i = 0; i < batch_rank; ++i) {
    bool merge = n > 0;
    for (uint32_t t = 0; t < count && merge; ++t)
      if (bstrides[t][n - 1] != all[t]->strides[i] * ct.shape[i]) merge = false;
    if (merge) {
      bshape[n - 1] *= ct.shape[i];
      for (uint32_t t = 0; t < count; ++t) bstrides[t][n - 1] = all[t]->strides[i];
    } else {
      bshape[n] = ct.shape[i];
      for (uint32_t t = 0; t < count; ++t) bstrides[t][n] = all[t]->strides[i];
      ++n;
    }
  }
  if (n == 0) {
    bshape[0] = 1;
    for (uint32_t t = 0; t < count; ++t) bstrides[t][0] = 0;
    n = 1;
  }
  // Outer (unfoldable) batch axes: 0..n-2; the innermost folded axis goes to
  // the backend as the batch.
  int64_t outer = 1;
  for (uint32_t i = 0; i + 1 < n; ++i) outer *= bshape[i];
  for (int64_t o = 0; o < outer; ++o) {
    int64_t rest = o;
    chorus_op_desc call = desc;
    for (uint32_t t = 0; t < count; ++t) {
      const chorus_backend_tensor& src = *all[t];
      chorus_backend_tensor& dst = call.tensors[t];
      dst = src;
      dst.rank = 3;
      dst.shape[0] = bshape[n - 1];
      dst.strides[0] = bstrides[t][n - 1];
      dst.shape[1] = src.shape[src.rank - 2];
      dst.strides[1] = src.strides[src.rank - 2];
      dst.shape[2] = src.shape[src.rank - 1];
      dst.strides[2] = src.strides[src.rank - 1];
    }
    for (int64_t i = static_cast<int64_t>(n) - 2; i >= 0; --i) {
      const int64_t idx = rest % bshape[i];
      rest /= bshape[i];
      for (uint32_t t = 0; t < count; ++t) call.tensors[t].offset += idx * bstrides[t][i];
    }
    if (!biast.buffer) call.tensors[3] = chorus_backend_tensor{};
    if (auto s = execute(op, queue, call)) return s;
  }
  return CHORUS_OK;
}

}  // extern "C"
