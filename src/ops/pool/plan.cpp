// plan.cpp — pooling on the run-time-compiled backends (OpenCL, CUDA, HIP):
// one launch of pool.cl for the normal form of schema.cpp (rank 4, logical
// NCHW, any strides). pool2d: pool_forward, a work-item per element of y;
// pool2d_backward: pool_backward, a work-item per element of dx (a gather
// over the windows that read it: no atomics, no zero-fill pass).
#include <algorithm>
#include <string>

#include "plan_kit.hpp"

namespace chorus::ops::pool {
namespace {

using namespace chorus::backend_common;

ProgramSpec pool_program(const DeviceTraits& traits, chorus_dtype d) {
  ProgramSpec p = program(traits, std::string("pool ") + dtype_name(d), "pool.cl", 1);
  define_dtype(p, d);
  return p;
}

void copy_strides(const Tensor& t, int64_t* offset, int64_t* strides) {
  *offset = t.offset;
  for (int k = 0; k < 4; ++k) strides[k] = present(t) ? t.strides[k] : 0;
}

// The written tensor's axes from the smallest stride up (ties: the later
// axis first), so consecutive work-items store to neighbouring elements.
void axis_order(const Tensor& out, int64_t* order) {
  int axes[4] = {3, 2, 1, 0};
  std::stable_sort(axes, axes + 4, [&](int a, int b) {
    const int64_t sa = out.shape[a] > 1 ? out.strides[a] : INT64_MAX;
    const int64_t sb = out.shape[b] > 1 ? out.strides[b] : INT64_MAX;
    return sa < sb;
  });
  for (int k = 0; k < 4; ++k) order[k] = axes[k];
}

chorus_status plan_pool(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                        std::string* why) {
  const bool backward = op.kind == CHORUS_OP_POOL2D_BACKWARD;
  const uint32_t count = backward ? 4 : 3;
  if (const chorus_status s = check_record(op, count, sizeof(chorus_pool2d_attrs), why)) return s;
  const auto a = attrs_of<chorus_pool2d_attrs>(op);
  const int big_slot = backward ? 3 : 0, small_slot = backward ? 0 : 1, index_slot = 2;
  const Tensor& big = op.tensors[big_slot];
  const Tensor& small = op.tensors[small_slot];
  const chorus_dtype d = big.dtype;
  if (a.layout != CHORUS_CONV_NCHW || a.kernel_h < 1 || a.kernel_w < 1 || a.stride_h < 1 ||
      a.stride_w < 1 || a.dilation_h < 1 || a.dilation_w < 1) {
    *why = "pooling's attributes must arrive in the normal form (layout NCHW, kernel, stride "
           "and dilation >= 1)";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  for (uint32_t t = 0; t < count; ++t) {
    const Tensor& x = op.tensors[t];
    if (!present(x)) continue;
    const bool index = static_cast<int>(t) == index_slot;
    if (x.rank != 4 || (index ? x.dtype != CHORUS_DTYPE_I64 : x.dtype != d || is_int(d))) {
      *why = "pooling takes rank-4 float tensors of one dtype and i64 indices (the normal form)";
      return CHORUS_ERROR_UNSUPPORTED;
    }
  }
  const Tensor& indices = op.tensors[index_slot];
  const bool has_indices = present(indices);
  if (backward && a.mode == CHORUS_POOL_MAX && !has_indices && !present(op.tensors[1])) {
    *why = "max pooling's gradient needs indices or x";
    return CHORUS_ERROR_UNSUPPORTED;
  }

  ck_pool k{};
  k.n = big.shape[0];
  k.c = big.shape[1];
  k.h = big.shape[2];
  k.w = big.shape[3];
  k.oh = small.shape[2];
  k.ow = small.shape[3];
  k.kh = a.kernel_h;
  k.kw = a.kernel_w;
  k.sh = a.stride_h;
  k.sw = a.stride_w;
  k.pt = a.pad_top;
  k.pb = a.pad_bottom;
  k.pl = a.pad_left;
  k.pr = a.pad_right;
  k.dh = a.dilation_h;
  k.dw = a.dilation_w;
  k.is_max = a.mode == CHORUS_POOL_MAX;
  k.include_pad = a.count_include_pad != 0;
  k.divisor_override = a.divisor_override;
  k.has_indices = has_indices;
  copy_strides(big, &k.big_offset, k.big_strides);
  copy_strides(small, &k.small_offset, k.small_strides);
  copy_strides(indices, &k.index_offset, k.index_strides);
  const Tensor& out = backward ? big : small;
  axis_order(out, k.order);

  // pool_position's grid: dim 0 the fastest axis, dim 1 the next, dim 2
  // the other two.
  Launch l;
  l.program = pool_program(traits, d);
  l.dims = 3;
  const int64_t e0 = out.shape[k.order[0]];
  const auto group = static_cast<uint64_t>(std::min<int64_t>(traits.tuning.elementwise_local, e0));
  l.local[0] = group;
  l.global[0] = round_up(static_cast<uint64_t>(e0), group);
  l.global[1] = static_cast<uint64_t>(out.shape[k.order[1]]);
  l.global[2] = static_cast<uint64_t>(out.shape[k.order[2]] * out.shape[k.order[3]]);
  if (backward) {
    const Tensor& x = op.tensors[1];
    const bool use_x = k.is_max && !has_indices;
    if (use_x) copy_strides(x, &k.x_offset, k.x_strides);
    l.kernel = "pool_backward";
    l.args = {buffer_arg(0), use_x ? buffer_arg(1) : null_arg(),
              has_indices ? buffer_arg(index_slot) : null_arg(), buffer_arg(3), bytes_arg(k)};
    patch_offset(l, 4, offsetof(ck_pool, small_offset), 0);
    patch_offset(l, 4, offsetof(ck_pool, big_offset), 3);
    if (use_x) patch_offset(l, 4, offsetof(ck_pool, x_offset), 1);
    if (has_indices) patch_offset(l, 4, offsetof(ck_pool, index_offset), index_slot);
  } else {
    l.kernel = "pool_forward";
    l.args = {buffer_arg(0), buffer_arg(1), has_indices ? buffer_arg(index_slot) : null_arg(),
              bytes_arg(k)};
    patch_offset(l, 3, offsetof(ck_pool, big_offset), 0);
    patch_offset(l, 3, offsetof(ck_pool, small_offset), 1);
    if (has_indices) patch_offset(l, 3, offsetof(ck_pool, index_offset), index_slot);
  }
  plan->launches.push_back(std::move(l));
  return CHORUS_OK;
}

// Each float dtype: max with indices and its gradient through them and
// through x, average and its gradient (one program per dtype serves all).
void variants(std::vector<VariantOp>* out) {
  for (chorus_dtype d : float_dtypes()) {
    const Tensor x = tensor_of(d, {2, 4, 8, 8}, {256, 64, 8, 1});
    const Tensor y = tensor_of(d, {2, 4, 4, 4}, {64, 16, 4, 1});
    const Tensor i = tensor_of(CHORUS_DTYPE_I64, {2, 4, 4, 4}, {64, 16, 4, 1});
    chorus_pool2d_attrs m{};
    m.kernel_h = m.kernel_w = 2;
    m.stride_h = m.stride_w = 2;
    m.dilation_h = m.dilation_w = 1;
    out->push_back(variant(CHORUS_OP_POOL2D, m, {x, y, i}));
    out->push_back(variant(CHORUS_OP_POOL2D_BACKWARD, m, {y, absent(), i, x}));
    out->push_back(variant(CHORUS_OP_POOL2D_BACKWARD, m, {y, x, absent(), x}));
    chorus_pool2d_attrs avg = m;
    avg.mode = CHORUS_POOL_AVG;
    out->push_back(variant(CHORUS_OP_POOL2D, avg, {x, y, absent()}));
    out->push_back(variant(CHORUS_OP_POOL2D_BACKWARD, avg, {y, absent(), absent(), x}));
  }
}

}  // namespace

void register_plan() {
  register_planner(CHORUS_OP_POOL2D, plan_pool);
  register_planner(CHORUS_OP_POOL2D_BACKWARD, plan_pool);
  register_variants(variants);
}

}  // namespace chorus::ops::pool
