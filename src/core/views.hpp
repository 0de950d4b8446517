// views.hpp — the core's view checks (views.cpp): well-formed and inside the
// buffer without any arithmetic that can overflow, the one axis collapse of
// every normal form, and the pieces of the aliasing rules.
#pragma once

#include "core/op_schema.hpp"

struct chorus_device_t;

namespace chorus::core {

struct Extent {
  int64_t count = 0;  // elements (product of the extents)
  int64_t span = 0;   // 1 + the farthest element from the first; 0 when empty
};

// Shapes and strides >= 0, the element count and the farthest element
// computed in int64 with overflow refused.
chorus_status extent_of(const char* op, const char* arg, const View& v, Extent* out);
// offset + span elements fit in buffer_bytes (overflow-safe).
chorus_status check_fits(const char* op, const char* arg, const View& v, int64_t span,
                         uint64_t buffer_bytes);
// A user tensor argument as a View (source not set): every check above, a
// real dtype, rank <= CHORUS_MAX_RANK, offset >= 0, the queue's device.
chorus_status take_view(const char* op, const char* arg, const chorus_tensor& t,
                        const chorus_device_t* device, View* out, int64_t* span);

// The one axis collapse: views[0..count) share the walk of views[walk_slot]
// (every present view has its shape, or extent 1 where it does not walk a
// row axis). Axes [rank - inner_rank, rank) form the row and are merged
// apart from the axes before them. Afterwards every view has rank >= 1,
// extent-1 axes only where needed, and *collapsed_inner row axes (>= 1 when
// inner_rank > 0).
void collapse(View* views, uint32_t count, uint32_t walk_slot, uint32_t inner_rank,
              uint32_t* collapsed_inner);

// Same element size, shape and strides (offsets and memory aside).
bool same_layout(const View& a, const View& b);

// Bytes a view touches, relative to its first element's byte.
struct Footprint {
  bool empty = true;
  int64_t first_byte = 0, last_byte = -1;
};
Footprint footprint(const View& v);

// An output whose index tuples could share an element (stride 0 on an axis
// of extent > 1, or axes that interleave onto each other) is refused.
chorus_status check_self_overlap(const char* op, const char* arg, const View& v);

}  // namespace chorus::core
