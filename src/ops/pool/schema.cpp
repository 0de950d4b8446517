// schema.cpp — 2-D pooling in libchorus: pool2d (max with optional argmax
// indices, or average) and its input gradient pool2d_backward, with
// PyTorch's semantics (docs/ops.md, "Pooling").
//
// Normal form (NormalForm::custom, done here), the contract every backend
// implements:
//   - rank 4 in logical NCHW order whatever the layout: x and dx
//     [N, C, H, W], y, dy and indices [N, C, OH, OW]; an NHWC tensor arrives
//     as the same shape with permuted strides, a 1-D pooling (rank 3) with
//     H = 1 and kernel_h = 1;
//   - the attributes' layout is CHORUS_CONV_NCHW; kernel, stride and
//     dilation are >= 1 (a stride of 0 became the kernel's extent, a
//     dilation of 0 became 1); pads >= 0 and each at most half the dilated
//     kernel; average pooling has dilation 1 and max pooling
//     count_include_pad 0 and divisor_override 0; reserved 0;
//   - OH and OW agree with the attributes (pool_shape.hpp's formula);
//   - slots: pool2d x, y, indices? (indices only for max); pool2d_backward
//     dy, x?, indices?, dx: average pooling has neither x nor indices, max
//     pooling at least one of them (indices are used when both are there).
//     Outputs never overlap inputs. x, y, dy, dx share a float dtype,
//     indices are i64.
// A zero-size output runs nothing; dx is written whole by every backend.
#include <cstddef>

#include "core/dispatch.hpp"
#include "core/error.hpp"
#include "core/op_schema.hpp"
#include "pool/pool_shape.hpp"

namespace chorus::ops::pool {
namespace {

using namespace chorus::core;

// The slots of the full-size tensor (x or dx), the window-grid tensor (y
// or dy) and indices, and their names in messages.
struct Roles {
  int big, small, indices, x;
  const char *big_name, *small_name;
};

Roles roles_of(chorus_op_kind kind) {
  if (kind == CHORUS_OP_POOL2D_BACKWARD) return {3, 0, 2, 1, "dx", "dy"};
  return {0, 1, 2, -1, "x", "y"};
}

long long ll(int64_t v) { return static_cast<long long>(v); }

chorus_status normalise(Call& call) {
  auto& a = call.attrs_as<chorus_pool2d_attrs>();
  const Roles r = roles_of(call.schema->kind);
  const bool max = a.mode == CHORUS_POOL_MAX;
  const bool backward = call.schema->kind == CHORUS_OP_POOL2D_BACKWARD;
  View& big = call.views[r.big];
  View& small = call.views[r.small];
  View* indices = call.views[r.indices].present ? &call.views[r.indices] : nullptr;
  View* x = r.x >= 0 && call.views[r.x].present ? &call.views[r.x] : nullptr;

  if (a.kernel_h < 1 || a.kernel_w < 1)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "kernel_h = %d and kernel_w = %d must be >= 1", a.kernel_h, a.kernel_w);
  if (a.stride_h == 0) a.stride_h = a.kernel_h;
  if (a.stride_w == 0) a.stride_w = a.kernel_w;
  if (a.dilation_h == 0) a.dilation_h = 1;
  if (a.dilation_w == 0) a.dilation_w = 1;
  if (a.stride_h < 1 || a.stride_w < 1)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "stride_h = %d and stride_w = %d must be >= 1 (or 0: the kernel's extent)",
                     a.stride_h, a.stride_w);
  if (a.dilation_h < 1 || a.dilation_w < 1)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "dilation_h = %d and dilation_w = %d must be >= 1", a.dilation_h,
                     a.dilation_w);
  if (a.pad_top < 0 || a.pad_bottom < 0 || a.pad_left < 0 || a.pad_right < 0)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "padding (top %d, bottom %d, left %d, right %d) must be >= 0", a.pad_top,
                     a.pad_bottom, a.pad_left, a.pad_right);
  // PyTorch's rule: no pad beyond half the (dilated) kernel, so that every
  // window without dilation reaches into the image.
  const int32_t span_h = a.dilation_h * (a.kernel_h - 1) + 1;
  const int32_t span_w = a.dilation_w * (a.kernel_w - 1) + 1;
  if (a.pad_top > span_h / 2 || a.pad_bottom > span_h / 2 || a.pad_left > span_w / 2 ||
      a.pad_right > span_w / 2)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "padding (top %d, bottom %d, left %d, right %d) must be at most half the "
                     "%skernel (%d rows, %d columns)",
                     a.pad_top, a.pad_bottom, a.pad_left, a.pad_right,
                     a.dilation_h * a.dilation_w > 1 ? "dilated " : "", span_h, span_w);
  if (a.reserved != 0)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "reserved is %d; it must be 0", a.reserved);
  if (max) {
    if (a.count_include_pad != 0 || a.divisor_override != 0)
      return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                       "count_include_pad (%d) and divisor_override (%d) are average pooling's; "
                       "max pooling takes 0",
                       a.count_include_pad, a.divisor_override);
    if (backward && !indices && !x)
      return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                       "max pooling's gradient needs indices (from pool2d) or x to find each "
                       "window's maximum; both are NULL");
  } else {
    if (a.dilation_h != 1 || a.dilation_w != 1)
      return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                       "dilation %dx%d: average pooling takes no dilation (leave it 1 or 0)",
                       a.dilation_h, a.dilation_w);
    if (a.divisor_override < 0)
      return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                       "divisor_override is %d; it must be > 0, or 0 for none",
                       a.divisor_override);
    if (indices)
      return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                       "indices are max pooling's argmax; average pooling takes NULL");
    if (x)
      return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                       "average pooling's gradient does not read x; pass NULL");
  }

  const bool nhwc = a.layout == CHORUS_CONV_NHWC;
  const View small0 = small;  // as the caller gave it, for messages
  if (big.rank != 3 && big.rank != 4)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "%s has rank %u; pool2d takes rank 4 (%s) or rank 3 (1-D: %s)", r.big_name,
                     big.rank, nhwc ? "N, H, W, C" : "N, C, H, W", nhwc ? "N, L, C" : "N, C, L");
  View* others[3] = {&small, indices, x};
  const char* other_names[3] = {r.small_name, "indices", "x"};
  for (int i = 0; i < 3; ++i)
    if (others[i] && others[i]->rank != big.rank)
      return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "%s has rank %u but %s has rank %u",
                       other_names[i], others[i]->rank, r.big_name, big.rank);
  if (big.rank == 3) {
    if (a.kernel_h != 1 || a.stride_h != 1 || a.dilation_h != 1 || a.pad_top != 0 ||
        a.pad_bottom != 0)
      return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                       "a 1-D pooling (rank 3) takes kernel_w, stride_w, dilation_w, pad_left "
                       "and pad_right; kernel_h, stride_h and dilation_h must be 1 (or 0 for "
                       "the stride and dilation), pad_top and pad_bottom 0");
  }
  to_logical_nchw(big, nhwc);
  for (View* v : others)
    if (v) to_logical_nchw(*v, nhwc);
  a.layout = CHORUS_CONV_NCHW;

  const int64_t h = big.shape[2], w = big.shape[3];
  const int64_t oh = pool_extent(h, a.pad_top, a.pad_bottom, a.kernel_h, a.dilation_h,
                                 a.stride_h, a.ceil_mode != 0);
  const int64_t ow = pool_extent(w, a.pad_left, a.pad_right, a.kernel_w, a.dilation_w,
                                 a.stride_w, a.ceil_mode != 0);
  if (oh < 1 || ow < 1)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "the %skernel %dx%d is larger than the padded input %lldx%lld of %s",
                     a.dilation_h * a.dilation_w > 1 ? "dilated " : "", span_h, span_w,
                     ll(h + a.pad_top + a.pad_bottom), ll(w + a.pad_left + a.pad_right),
                     r.big_name);
  const int64_t want[4] = {big.shape[0], big.shape[1], oh, ow};
  for (int k = 0; k < 2; ++k) {
    const View* v = k == 0 ? &small : indices;
    if (!v) continue;
    for (int i = 0; i < 4; ++i)
      if (v->shape[i] != want[i]) {
        int64_t expect[4];
        uint32_t e = 0;
        expect[e++] = want[0];
        if (!nhwc) expect[e++] = want[1];
        if (small0.rank == 4) expect[e++] = oh;
        expect[e++] = ow;
        if (nhwc) expect[e++] = want[1];
        const View& given = k == 0 ? small0 : call.views[r.indices];
        return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "%s is %s but must be %s (%s)",
                         k == 0 ? r.small_name : "indices",
                         shape_text(given.rank, given.shape).c_str(),
                         shape_text(e, expect).c_str(),
                         small0.rank == 4 ? (nhwc ? "N, OH, OW, C" : "N, C, OH, OW")
                                          : (nhwc ? "N, OL, C" : "N, C, OL"));
      }
  }
  if (x)
    for (int i = 0; i < 4; ++i)
      if (x->shape[i] != big.shape[i])
        return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "x is %s but dx is %s: they must match",
                         shape_text(call.views[r.x].rank, call.views[r.x].shape).c_str(),
                         shape_text(call.views[r.big].rank, call.views[r.big].shape).c_str());
  return CHORUS_OK;
}

void add_attrs(OpSchema& s) {
  s.attrs_size = sizeof(chorus_pool2d_attrs);
  s.attrs = {{"mode", CHORUS_ATTR_ENUM, offsetof(chorus_pool2d_attrs, mode), 0,
              {"max", "avg"}, {}, "chorus_pool_mode"},
             {"layout", CHORUS_ATTR_ENUM, offsetof(chorus_pool2d_attrs, layout), 0,
              {"nchw", "nhwc"}, {}, "chorus_conv_layout"},
             {"kernel_h", CHORUS_ATTR_INT32, offsetof(chorus_pool2d_attrs, kernel_h), 1},
             {"kernel_w", CHORUS_ATTR_INT32, offsetof(chorus_pool2d_attrs, kernel_w), 1},
             {"stride_h", CHORUS_ATTR_INT32, offsetof(chorus_pool2d_attrs, stride_h), 0},
             {"stride_w", CHORUS_ATTR_INT32, offsetof(chorus_pool2d_attrs, stride_w), 0},
             {"pad_top", CHORUS_ATTR_INT32, offsetof(chorus_pool2d_attrs, pad_top), 0},
             {"pad_bottom", CHORUS_ATTR_INT32, offsetof(chorus_pool2d_attrs, pad_bottom), 0},
             {"pad_left", CHORUS_ATTR_INT32, offsetof(chorus_pool2d_attrs, pad_left), 0},
             {"pad_right", CHORUS_ATTR_INT32, offsetof(chorus_pool2d_attrs, pad_right), 0},
             {"dilation_h", CHORUS_ATTR_INT32, offsetof(chorus_pool2d_attrs, dilation_h), 1},
             {"dilation_w", CHORUS_ATTR_INT32, offsetof(chorus_pool2d_attrs, dilation_w), 1},
             {"ceil_mode", CHORUS_ATTR_BOOL, offsetof(chorus_pool2d_attrs, ceil_mode), 0},
             {"count_include_pad", CHORUS_ATTR_BOOL,
              offsetof(chorus_pool2d_attrs, count_include_pad), 0},
             {"divisor_override", CHORUS_ATTR_INT32,
              offsetof(chorus_pool2d_attrs, divisor_override), 0}};
  s.family = "pool";
  s.form = NormalForm::custom;
  s.normalise = normalise;
}

}  // namespace

void register_schema() {
  constexpr uint32_t kIndex = dtype_bit(CHORUS_DTYPE_I64);
  {
    OpSchema s;
    s.kind = CHORUS_OP_POOL2D;
    s.name = "pool2d";
    s.summary = "y = max or average pooling of x (+ argmax indices): NCHW or NHWC";
    s.slots = {{"x", Role::input, false, kAnyFloat},
               {"y", Role::output, false, kAnyFloat, 0},
               {"indices", Role::output, true, kIndex}};
    add_attrs(s);
    register_op(std::move(s));
  }
  {
    OpSchema s;
    s.kind = CHORUS_OP_POOL2D_BACKWARD;
    s.name = "pool2d_backward";
    s.summary = "dx = pool2d's input gradient from dy (max: through indices or x)";
    s.slots = {{"dy", Role::input, false, kAnyFloat},
               {"x", Role::input, true, kAnyFloat, 0},
               {"indices", Role::input, true, kIndex},
               {"dx", Role::output, false, kAnyFloat, 0}};
    add_attrs(s);
    register_op(std::move(s));
  }
}

}  // namespace chorus::ops::pool

extern "C" CHORUS_API chorus_status chorus_pool2d(chorus_queue queue,
                                                  const chorus_pool2d_attrs* attrs,
                                                  const chorus_tensor* x, const chorus_tensor* y,
                                                  const chorus_tensor* indices) {
  return chorus::core::run_op_with_attrs(queue, CHORUS_OP_POOL2D, attrs, "chorus_pool2d_attrs",
                                         {x, y, indices});
}

extern "C" CHORUS_API chorus_status chorus_pool2d_backward(chorus_queue queue,
                                                           const chorus_pool2d_attrs* attrs,
                                                           const chorus_tensor* dy,
                                                           const chorus_tensor* x,
                                                           const chorus_tensor* indices,
                                                           const chorus_tensor* dx) {
  return chorus::core::run_op_with_attrs(queue, CHORUS_OP_POOL2D_BACKWARD, attrs,
                                         "chorus_pool2d_attrs", {dy, x, indices, dx});
}
