// schema.cpp — 2-D convolution in libchorus: conv2d (forward), its gradient
// with respect to the input (backward data, also the transposed
// convolution) and with respect to the weights and bias (backward weight),
// with PyTorch's semantics (docs/ops.md, "Convolution").
//
// Normal form (NormalForm::custom, done here), the contract every backend
// implements:
//   - rank 4 in logical NCHW order whatever the layout: x [N, C, H, W],
//     w [C_out, C/groups, KH, KW], y [N, C_out, OH, OW], bias [C_out]
//     (rank 1); an NHWC tensor arrives as the same shape with permuted
//     strides, a 1-D convolution (rank 3) with H = KH = OH = 1;
//   - the attributes' layout is CHORUS_CONV_NCHW, stride, dilation and
//     groups are >= 1 (0 became 1), pads >= 0, reserved 0;
//   - the shapes agree: C = groups * w.shape[1], C_out a multiple of groups,
//     OH = (H + pad_top + pad_bottom - dilation_h*(KH-1) - 1) / stride_h + 1
//     >= 1 and OW likewise, bias [C_out];
//   - slots: conv2d x, w, bias?, y; backward data dy, w, dx (dx has x's
//     shape); backward weight x, dy, dw, dbias?. Outputs never overlap
//     inputs. Every tensor has slot 0's dtype (a float).
// A zero-size output runs nothing; a zero-size reduction (C = 0, or N = 0
// for the weight gradient) still writes its outputs (0, or the bias).
#include <cstddef>

#include "core/dispatch.hpp"
#include "core/error.hpp"
#include "core/op_schema.hpp"

namespace chorus::ops::conv {
namespace {

using namespace chorus::core;

// The slots of x, w and y in each op's slot order (-1: not an argument),
// and the names those tensors have in its messages.
struct Roles {
  int x, w, y, bias;
  const char *x_name, *w_name, *y_name;
};

Roles roles_of(chorus_op_kind kind) {
  switch (kind) {
    case CHORUS_OP_CONV2D_BACKWARD_DATA:
      return {2, 1, 0, -1, "dx", "w", "dy"};
    case CHORUS_OP_CONV2D_BACKWARD_WEIGHT:
      return {0, 2, 1, 3, "x", "dw", "dy"};
    default:
      return {0, 1, 3, 2, "x", "w", "y"};
  }
}

int32_t or_one(int32_t v) { return v == 0 ? 1 : v; }

long long ll(int64_t v) { return static_cast<long long>(v); }

// (extent + pads - dilation*(k-1) - 1) / stride + 1, or 0 when the dilated
// kernel is larger than the padded input.
int64_t output_extent(int64_t extent, int64_t pad_sum, int64_t k, int64_t dilation,
                      int64_t stride) {
  const int64_t span = dilation * (k - 1) + 1;
  if (extent + pad_sum < span) return 0;
  return (extent + pad_sum - span) / stride + 1;
}

chorus_status normalise(Call& call) {
  auto& a = call.attrs_as<chorus_conv2d_attrs>();
  const Roles r = roles_of(call.schema->kind);
  View& x = call.views[r.x];
  View& w = call.views[r.w];
  View& y = call.views[r.y];

  a.stride_h = or_one(a.stride_h);
  a.stride_w = or_one(a.stride_w);
  a.dilation_h = or_one(a.dilation_h);
  a.dilation_w = or_one(a.dilation_w);
  a.groups = or_one(a.groups);
  if (a.stride_h < 1 || a.stride_w < 1)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "stride_h = %d and stride_w = %d must be >= 1", a.stride_h, a.stride_w);
  if (a.dilation_h < 1 || a.dilation_w < 1)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "dilation_h = %d and dilation_w = %d must be >= 1", a.dilation_h,
                     a.dilation_w);
  if (a.pad_top < 0 || a.pad_bottom < 0 || a.pad_left < 0 || a.pad_right < 0)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "padding (top %d, bottom %d, left %d, right %d) must be >= 0", a.pad_top,
                     a.pad_bottom, a.pad_left, a.pad_right);
  if (a.groups < 1)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "groups is %d; it must be >= 1", a.groups);
  if (a.reserved != 0)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "reserved is %d; it must be 0", a.reserved);

  const bool nhwc = a.layout == CHORUS_CONV_NHWC;
  const View y0 = y;  // as the caller gave it, for messages
  if (x.rank != 3 && x.rank != 4)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "%s has rank %u; conv2d takes rank 4 (%s) or rank 3 (1-D: %s)", r.x_name,
                     x.rank, nhwc ? "N, H, W, C" : "N, C, H, W", nhwc ? "N, L, C" : "N, C, L");
  if (w.rank != x.rank || y.rank != x.rank)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "%s, %s and %s must have one rank (got %u, %u and %u)", r.x_name, r.w_name,
                     r.y_name, x.rank, w.rank, y.rank);
  if (x.rank == 3) {
    if (a.stride_h != 1 || a.dilation_h != 1 || a.pad_top != 0 || a.pad_bottom != 0)
      return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                       "a 1-D convolution (rank 3) takes stride_w, dilation_w, pad_left and "
                       "pad_right; stride_h, dilation_h, pad_top and pad_bottom must be left at "
                       "1, 1, 0, 0");
  }
  // [N, H, W, C] -> [N, C, H, W]; [C_out, KH, KW, C/g] -> [C_out, C/g, KH, KW].
  for (View* v : {&x, &y, &w}) to_logical_nchw(*v, nhwc);
  a.layout = CHORUS_CONV_NCHW;

  const int64_t n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3];
  const int64_t c_out = w.shape[0], cg = w.shape[1], kh = w.shape[2], kw = w.shape[3];
  const int64_t groups = a.groups;
  if (cg * groups != c)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "%s has %lld input channels per group, so %lld channels in %lld groups, "
                     "but %s has %lld channels",
                     r.w_name, ll(cg), ll(cg * groups), ll(groups), r.x_name, ll(c));
  if (c_out % groups != 0)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "%s has %lld output channels, not a multiple of groups = %lld", r.w_name,
                     ll(c_out), ll(groups));
  if (kh < 1 || kw < 1)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "%s's kernel is %lldx%lld; it must be at least 1x1", r.w_name, ll(kh), ll(kw));
  const int64_t oh = output_extent(h, a.pad_top + a.pad_bottom, kh, a.dilation_h, a.stride_h);
  const int64_t ow = output_extent(wd, a.pad_left + a.pad_right, kw, a.dilation_w, a.stride_w);
  if (oh == 0 || ow == 0)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "%s's kernel %lldx%lld (dilated %lldx%lld) is larger than the padded input "
                     "%lldx%lld of %s",
                     r.w_name, ll(kh), ll(kw), ll(a.dilation_h * (kh - 1) + 1),
                     ll(a.dilation_w * (kw - 1) + 1), ll(h + a.pad_top + a.pad_bottom),
                     ll(wd + a.pad_left + a.pad_right), r.x_name);
  const int64_t want[4] = {n, c_out, oh, ow};
  for (int i = 0; i < 4; ++i)
    if (y.shape[i] != want[i]) {
      // The expected shape in the caller's layout and rank.
      int64_t expect[4];
      uint32_t e = 0;
      expect[e++] = n;
      if (!nhwc) expect[e++] = c_out;
      if (y0.rank == 4) expect[e++] = oh;
      expect[e++] = ow;
      if (nhwc) expect[e++] = c_out;
      return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "%s is %s but must be %s (%s)", r.y_name,
                       shape_text(y0.rank, y0.shape).c_str(), shape_text(e, expect).c_str(),
                       y0.rank == 4 ? (nhwc ? "N, OH, OW, C_out" : "N, C_out, OH, OW")
                                    : (nhwc ? "N, OL, C_out" : "N, C_out, OL"));
    }
  if (r.bias >= 0 && call.views[r.bias].present) {
    const View& b = call.views[r.bias];
    if (b.rank != 1 || b.shape[0] != c_out)
      return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "%s is %s but must be [%lld] (C_out)",
                       call.schema->slots[r.bias].name, shape_text(b.rank, b.shape).c_str(),
                       ll(c_out));
  }
  return CHORUS_OK;
}

void add_attrs(OpSchema& s) {
  s.attrs_size = sizeof(chorus_conv2d_attrs);
  s.attrs = {{"layout", CHORUS_ATTR_ENUM, offsetof(chorus_conv2d_attrs, layout), 0,
              {"nchw", "nhwc"}, {}, "chorus_conv_layout"},
             {"stride_h", CHORUS_ATTR_INT32, offsetof(chorus_conv2d_attrs, stride_h), 1},
             {"stride_w", CHORUS_ATTR_INT32, offsetof(chorus_conv2d_attrs, stride_w), 1},
             {"pad_top", CHORUS_ATTR_INT32, offsetof(chorus_conv2d_attrs, pad_top), 0},
             {"pad_bottom", CHORUS_ATTR_INT32, offsetof(chorus_conv2d_attrs, pad_bottom), 0},
             {"pad_left", CHORUS_ATTR_INT32, offsetof(chorus_conv2d_attrs, pad_left), 0},
             {"pad_right", CHORUS_ATTR_INT32, offsetof(chorus_conv2d_attrs, pad_right), 0},
             {"dilation_h", CHORUS_ATTR_INT32, offsetof(chorus_conv2d_attrs, dilation_h), 1},
             {"dilation_w", CHORUS_ATTR_INT32, offsetof(chorus_conv2d_attrs, dilation_w), 1},
             {"groups", CHORUS_ATTR_INT32, offsetof(chorus_conv2d_attrs, groups), 1}};
  s.family = "conv";
  s.form = NormalForm::custom;
  s.normalise = normalise;
}

}  // namespace

void register_schema() {
  {
    OpSchema s;
    s.kind = CHORUS_OP_CONV2D;
    s.name = "conv2d";
    s.summary = "y = conv2d(x, w) + bias: stride, padding, dilation, groups; NCHW or NHWC";
    s.slots = {{"x", Role::input, false, kAnyFloat},
               {"w", Role::input, false, kAnyFloat, 0},
               {"bias", Role::input, true, kAnyFloat, 0},
               {"y", Role::output, false, kAnyFloat, 0}};
    add_attrs(s);
    register_op(std::move(s));
  }
  {
    OpSchema s;
    s.kind = CHORUS_OP_CONV2D_BACKWARD_DATA;
    s.name = "conv2d_backward_data";
    s.summary = "dx = conv2d's input gradient from dy and w (the transposed convolution)";
    s.slots = {{"dy", Role::input, false, kAnyFloat},
               {"w", Role::input, false, kAnyFloat, 0},
               {"dx", Role::output, false, kAnyFloat, 0}};
    add_attrs(s);
    register_op(std::move(s));
  }
  {
    OpSchema s;
    s.kind = CHORUS_OP_CONV2D_BACKWARD_WEIGHT;
    s.name = "conv2d_backward_weight";
    s.summary = "dw and dbias: conv2d's weight and bias gradients from x and dy";
    s.slots = {{"x", Role::input, false, kAnyFloat},
               {"dy", Role::input, false, kAnyFloat, 0},
               {"dw", Role::output, false, kAnyFloat, 0},
               {"dbias", Role::output, true, kAnyFloat, 0}};
    add_attrs(s);
    register_op(std::move(s));
  }
}

}  // namespace chorus::ops::conv

extern "C" CHORUS_API chorus_status chorus_conv2d(chorus_queue queue,
                                                  const chorus_conv2d_attrs* attrs,
                                                  const chorus_tensor* x, const chorus_tensor* w,
                                                  const chorus_tensor* bias,
                                                  const chorus_tensor* y) {
  return chorus::core::run_op_with_attrs(queue, CHORUS_OP_CONV2D, attrs, "chorus_conv2d_attrs",
                                         {x, w, bias, y});
}

extern "C" CHORUS_API chorus_status chorus_conv2d_backward_data(chorus_queue queue,
                                                                const chorus_conv2d_attrs* attrs,
                                                                const chorus_tensor* dy,
                                                                const chorus_tensor* w,
                                                                const chorus_tensor* dx) {
  return chorus::core::run_op_with_attrs(queue, CHORUS_OP_CONV2D_BACKWARD_DATA, attrs,
                                         "chorus_conv2d_attrs", {dy, w, dx});
}

extern "C" CHORUS_API chorus_status chorus_conv2d_backward_weight(
    chorus_queue queue, const chorus_conv2d_attrs* attrs, const chorus_tensor* x,
    const chorus_tensor* dy, const chorus_tensor* dw, const chorus_tensor* dbias) {
  return chorus::core::run_op_with_attrs(queue, CHORUS_OP_CONV2D_BACKWARD_WEIGHT, attrs,
                                         "chorus_conv2d_attrs", {x, dy, dw, dbias});
}
