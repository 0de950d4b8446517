// views.cpp — tensor views inside the core: the overflow-safe checks that a
// view is well formed and provably inside its buffer, broadcasting, axis
// permutations, the axis collapse every normal form ends with (done here
// once, for every backend), and the aliasing rules.
#include "core/views.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

#include "core/error.hpp"
#include "core/objects.hpp"

namespace chorus::core {

int64_t View::numel() const {
  int64_t n = 1;
  for (uint32_t i = 0; i < rank; ++i) n *= shape[i];
  return n;
}

chorus_status Call::fail(chorus_status status, const char* format, ...) {
  char text[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(text, sizeof text, format, args);
  va_end(args);
  return core::fail(status, label + ": " + text);
}

std::string shape_text(uint32_t rank, const int64_t* shape) {
  std::string s = "[";
  for (uint32_t i = 0; i < rank; ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

chorus_dtype compute_dtype(chorus_dtype d) {
  return d == CHORUS_DTYPE_F16 || d == CHORUS_DTYPE_BF16 ? CHORUS_DTYPE_F32 : d;
}

// ------------------------------------------------------------ well formed

chorus_status extent_of(const char* op, const char* arg, const View& v, Extent* out) {
  *out = Extent{};
  int64_t count = 1, last = 0;
  bool empty = false;
  for (uint32_t i = 0; i < v.rank; ++i) {
    if (v.shape[i] < 0)
      return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s.shape[%u] is %lld; it must be >= 0", op,
                   arg, i, static_cast<long long>(v.shape[i]));
    if (v.strides[i] < 0)
      return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s.strides[%u] is %lld; it must be >= 0",
                   op, arg, i, static_cast<long long>(v.strides[i]));
    if (v.shape[i] == 0) empty = true;
  }
  for (uint32_t i = 0; i < v.rank; ++i) {
    if (__builtin_mul_overflow(count, v.shape[i], &count))
      return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                   "%s: %s (shape %s) has more than 2^63-1 elements", op, arg,
                   shape_text(v.rank, v.shape).c_str());
  }
  if (!empty) {
    for (uint32_t i = 0; i < v.rank; ++i) {
      int64_t reach = 0;
      if (__builtin_mul_overflow(v.shape[i] - 1, v.strides[i], &reach) ||
          __builtin_add_overflow(last, reach, &last))
        return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                     "%s: %s (shape %s, strides %s) reaches past element 2^63-1", op, arg,
                     shape_text(v.rank, v.shape).c_str(), shape_text(v.rank, v.strides).c_str());
    }
  }
  out->count = count;
  out->span = empty ? 0 : last + 1;
  return CHORUS_OK;
}

chorus_status check_fits(const char* op, const char* arg, const View& v, int64_t span,
                         uint64_t buffer_bytes) {
  if (span == 0) return CHORUS_OK;  // an empty view touches nothing
  const int64_t esize = static_cast<int64_t>(chorus_dtype_size(v.dtype));
  int64_t end = 0, bytes = 0;
  const bool overflow = __builtin_add_overflow(v.offset, span, &end) ||
                        __builtin_mul_overflow(end, esize, &bytes);
  if (overflow || static_cast<uint64_t>(bytes) > buffer_bytes)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                 "%s: %s (shape %s, strides %s, offset %lld) reaches element %lld, past the end of "
                 "its %llu-byte buffer",
                 op, arg, shape_text(v.rank, v.shape).c_str(),
                 shape_text(v.rank, v.strides).c_str(), static_cast<long long>(v.offset),
                 overflow ? -1LL : static_cast<long long>(end - 1),
                 static_cast<unsigned long long>(buffer_bytes));
  return CHORUS_OK;
}

chorus_status take_view(const char* op, const char* arg, const chorus_tensor& t,
                        const chorus_device_t* device, View* out, int64_t* span) {
  *out = View{};
  if (!t.buffer) return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s.buffer is NULL", op, arg);
  if (t.buffer->device.get() != device->state.get())
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s lives on %s but the queue is on %s", op,
                 arg, t.buffer->device->info.name, device->state->info.name);
  int32_t dtype = 0;
  std::memcpy(&dtype, &t.dtype, sizeof dtype);
  if (dtype <= CHORUS_DTYPE_INVALID || dtype >= CHORUS_DTYPE_COUNT_)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s.dtype %d is not a chorus dtype", op, arg,
                 dtype);
  if (t.rank > CHORUS_MAX_RANK)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s.rank is %u; the most is %d", op, arg,
                 t.rank, CHORUS_MAX_RANK);
  if (t.offset < 0)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s.offset is %lld; it must be >= 0", op, arg,
                 static_cast<long long>(t.offset));
  View v;
  v.present = true;
  v.dtype = t.dtype;
  v.rank = t.rank;
  v.offset = t.offset;
  for (uint32_t i = 0; i < t.rank; ++i) {
    v.shape[i] = t.shape[i];
    v.strides[i] = t.strides[i];
  }
  Extent e;
  if (auto s = extent_of(op, arg, v, &e)) return s;
  if (auto s = check_fits(op, arg, v, e.span, t.buffer->bytes)) return s;
  // Extent-1 axes never move; a canonical 0 stride keeps later merges simple.
  for (uint32_t i = 0; i < v.rank; ++i)
    if (v.shape[i] == 1) v.strides[i] = 0;
  *out = v;
  *span = e.span;
  return CHORUS_OK;
}

// -------------------------------------------------------- normalise() kit

chorus_status broadcast_to(Call& call, uint32_t slot, uint32_t rank, const int64_t* shape,
                           const char* target) {
  View& in = call.views[slot];
  const char* arg = call.schema->slots[slot].name;
  if (in.rank > rank)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "%s has rank %u, more than %s's rank %u", arg,
                     in.rank, target, rank);
  View out = in;
  out.rank = rank;
  const uint32_t lead = rank - in.rank;
  for (uint32_t i = 0; i < rank; ++i) {
    out.shape[i] = shape[i];
    if (i < lead) {
      out.strides[i] = 0;
      continue;
    }
    const int64_t extent = in.shape[i - lead];
    if (extent == shape[i]) {
      out.strides[i] = in.strides[i - lead];
    } else if (extent == 1) {
      out.strides[i] = 0;
    } else {
      return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                       "%s of shape %s does not broadcast to %s's shape %s (axis %u: %lld vs %lld)",
                       arg, shape_text(in.rank, in.shape).c_str(), target,
                       shape_text(rank, shape).c_str(), i - lead, static_cast<long long>(extent),
                       static_cast<long long>(shape[i]));
    }
  }
  in = out;
  return CHORUS_OK;
}

chorus_status require_same_shape(Call& call, uint32_t slot, uint32_t other) {
  const View& a = call.views[slot];
  const View& b = call.views[other];
  if (a.rank == b.rank && std::equal(a.shape, a.shape + a.rank, b.shape)) return CHORUS_OK;
  return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "%s has shape %s but %s has %s; they must match",
                   call.schema->slots[slot].name, shape_text(a.rank, a.shape).c_str(),
                   call.schema->slots[other].name, shape_text(b.rank, b.shape).c_str());
}

chorus_status require_same_shapes(Call& call) {
  for (uint32_t i = 1; i < call.slot_count; ++i)
    if (call.views[i].present)
      if (auto s = require_same_shape(call, i, 0)) return s;
  return CHORUS_OK;
}

chorus_status normalise_axis(Call& call, const char* what, int32_t axis, uint32_t rank,
                             uint32_t* out) {
  const int64_t a = axis < 0 ? static_cast<int64_t>(axis) + rank : axis;
  if (rank == 0 || a < 0 || a >= static_cast<int64_t>(rank))
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "%s %d is out of range for rank %u", what, axis,
                     rank);
  *out = static_cast<uint32_t>(a);
  return CHORUS_OK;
}

void permute(View& view, const uint32_t* order) {
  View out = view;
  for (uint32_t i = 0; i < view.rank; ++i) {
    out.shape[i] = view.shape[order[i]];
    out.strides[i] = view.strides[order[i]];
  }
  view = out;
}

void to_logical_nchw(View& v, bool nhwc) {
  if (v.rank == 3) {  // 1-D: the H axis, extent 1, before the length axis
    const uint32_t at = nhwc ? 1 : 2;
    for (uint32_t i = v.rank; i > at; --i) {
      v.shape[i] = v.shape[i - 1];
      v.strides[i] = v.strides[i - 1];
    }
    v.shape[at] = 1;
    v.strides[at] = 0;
    ++v.rank;
  }
  if (nhwc) {
    const uint32_t order[4] = {0, 3, 1, 2};
    permute(v, order);
  }
}

void axes_last_order(uint32_t rank, uint32_t mask, uint32_t* order) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < rank; ++i)
    if (!(mask & (1u << i))) order[n++] = i;
  for (uint32_t i = 0; i < rank; ++i)
    if (mask & (1u << i)) order[n++] = i;
}

// ---------------------------------------------------------------- collapse

namespace {

// Merges axes [first, end) of every present view: extent-1 axes of `walk`
// go, and an axis joins the one kept before it when every view steps over
// both as one run. Views whose extent is 1 on every axis of the range (a
// reduction's output over the row) keep extent 1 on the merged axes. The
// merged axes are written to out_* at `at`; returns how many.
uint32_t merge_range(View* views, uint32_t count, const View& walk, uint32_t first, uint32_t end,
                     int64_t (*out_shape)[CHORUS_MAX_RANK], int64_t (*out_strides)[CHORUS_MAX_RANK],
                     uint32_t at) {
  uint32_t n = 0;
  for (uint32_t axis = first; axis < end; ++axis) {
    const int64_t extent = walk.shape[axis];
    if (extent == 1) continue;
    bool merge = n > 0;
    for (uint32_t t = 0; t < count && merge; ++t) {
      if (!views[t].present) continue;
      if (out_strides[t][at + n - 1] != views[t].strides[axis] * views[t].shape[axis]) merge = false;
    }
    for (uint32_t t = 0; t < count; ++t) {
      if (!views[t].present) continue;
      if (merge) {
        out_shape[t][at + n - 1] *= views[t].shape[axis];
        out_strides[t][at + n - 1] = views[t].strides[axis];
      } else {
        out_shape[t][at + n] = views[t].shape[axis];
        out_strides[t][at + n] = views[t].strides[axis];
      }
    }
    if (!merge) ++n;
  }
  return n;
}

}  // namespace

void collapse(View* views, uint32_t count, uint32_t walk_slot, uint32_t inner_rank,
              uint32_t* collapsed_inner) {
  const View walk = views[walk_slot];
  int64_t shape[kMaxSlots][CHORUS_MAX_RANK] = {};
  int64_t strides[kMaxSlots][CHORUS_MAX_RANK] = {};
  const uint32_t split = walk.rank - inner_rank;
  const uint32_t outer = merge_range(views, count, walk, 0, split, shape, strides, 0);
  uint32_t inner = merge_range(views, count, walk, split, walk.rank, shape, strides, outer);
  if (inner == 0 && (inner_rank > 0 || outer == 0)) {
    // A row of one element (or a single element): keep one axis of extent 1.
    for (uint32_t t = 0; t < count; ++t) {
      shape[t][outer] = 1;
      strides[t][outer] = 1;
    }
    inner = 1;
  }
  for (uint32_t t = 0; t < count; ++t) {
    if (!views[t].present) continue;
    views[t].rank = outer + inner;
    for (uint32_t i = 0; i < outer + inner; ++i) {
      views[t].shape[i] = shape[t][i];
      views[t].strides[i] = shape[t][i] == 1 ? 0 : strides[t][i];
    }
  }
  if (collapsed_inner) *collapsed_inner = inner;
}

// ---------------------------------------------------------------- aliasing

bool same_layout(const View& a, const View& b) {
  if (a.rank != b.rank || chorus_dtype_size(a.dtype) != chorus_dtype_size(b.dtype)) return false;
  for (uint32_t i = 0; i < a.rank; ++i)
    if (a.shape[i] != b.shape[i] || a.strides[i] != b.strides[i]) return false;
  return true;
}

Footprint footprint(const View& v) {
  Footprint f;
  if (v.numel() == 0) return f;
  const int64_t esize = static_cast<int64_t>(chorus_dtype_size(v.dtype));
  int64_t last = 0;
  for (uint32_t i = 0; i < v.rank; ++i) last += (v.shape[i] - 1) * v.strides[i];
  f.empty = false;
  f.first_byte = 0;
  f.last_byte = (last + 1) * esize - 1;
  return f;
}

chorus_status check_self_overlap(const char* op, const char* arg, const View& v) {
  // Sufficient for distinct elements: with the axes of extent > 1 sorted by
  // stride, each stride exceeds the farthest reach of the axes below it.
  // Conservative (an interleaving of disjoint views may be refused too), so
  // it never lets two index tuples share an output element.
  uint32_t axes[CHORUS_MAX_RANK];
  uint32_t n = 0;
  for (uint32_t i = 0; i < v.rank; ++i)
    if (v.shape[i] > 1) axes[n++] = i;
  // Insertion sort (at most 8 axes; std::sort trips GCC 12's -Warray-bounds here).
  for (uint32_t k = 1; k < n; ++k)
    for (uint32_t j = k; j > 0 && v.strides[axes[j]] < v.strides[axes[j - 1]]; --j)
      std::swap(axes[j], axes[j - 1]);
  int64_t reach = 0;  // the farthest element the axes so far reach, from the first
  for (uint32_t k = 0; k < n; ++k) {
    const uint32_t i = axes[k];
    if (v.strides[i] <= reach)
      return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                   "%s: %s (shape %s, strides %s) overlaps itself: axis %u (stride %lld) lands on "
                   "elements other axes reach; an output needs a distinct element per index",
                   op, arg, shape_text(v.rank, v.shape).c_str(),
                   shape_text(v.rank, v.strides).c_str(), i, static_cast<long long>(v.strides[i]));
    reach += (v.shape[i] - 1) * v.strides[i];
  }
  return CHORUS_OK;
}

}  // namespace chorus::core
