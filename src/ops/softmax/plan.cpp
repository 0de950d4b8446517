// plan.cpp — softmax and log-softmax, and their gradient, on the
// run-time-compiled backends: one launch of softmax.cl over the rows form
// (backend.h: x and y, or y, dy and dx, [outer..., row], the row the last
// axis, both parts collapsed by libchorus).
#include <string>

#include "plan_kit.hpp"

namespace chorus::ops::softmax {
namespace {

using namespace chorus::backend_common;

chorus_status plan_softmax(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                           std::string* why) {
  const uint32_t count = op.kind == CHORUS_OP_SOFTMAX_BACKWARD ? 3 : 2;
  if (const chorus_status s = check_record(op, count, sizeof(chorus_softmax_attrs), why)) return s;
  const auto a = attrs_of<chorus_softmax_attrs>(op);
  const Tensor& x = op.tensors[0];
  if (x.rank == 0 || a.axis != static_cast<int32_t>(x.rank) - 1 || is_int(x.dtype)) {
    *why = "softmax takes floats along the last axis (the normal form)";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  // The forward (x, y) and the gradient (y, dy, dx) launch kernels of one
  // program.
  const bool backward = op.kind == CHORUS_OP_SOFTMAX_BACKWARD;
  const RowLayout r = backward ? row_layout(op, {0, 1, 2}, 1) : row_layout(op, {0, 1}, 1);
  ProgramSpec p = row_program(traits, "softmax", "softmax.cl", x.dtype, r.layout,
                              row_vw(traits.tuning, x.dtype));
  // Keep e^(x-m) in y between passes only when y holds it unrounded.
  const bool cache = x.dtype == CHORUS_DTYPE_F32 || x.dtype == CHORUS_DTYPE_F64;
  p.defines.push_back({"CACHE_EXP", cache ? "1" : "0"});
  Launch l;
  l.program = std::move(p);
  row_grid(traits.tuning, r.args, &l);
  if (backward) {
    l.kernel = a.log ? "log_softmax_backward" : "softmax_backward";
    l.args = {buffer_arg(0), buffer_arg(1), buffer_arg(2), bytes_arg(r.args)};
    patch_rows(l, 3, r);
  } else {
    l.kernel = a.log ? "log_softmax" : "softmax";
    l.args = {buffer_arg(0), buffer_arg(1), bytes_arg(r.args)};
    patch_rows(l, 2, r);
  }
  plan->launches.push_back(std::move(l));
  return CHORUS_OK;
}

// Each float dtype over contiguous, strided, long and many short rows.
void variants(std::vector<VariantOp>* out) {
  for (chorus_dtype d : float_dtypes()) {
    const Tensor xs[] = {tensor_of(d, {8, 16}, {16, 1}), tensor_of(d, {8, 16}, {1, 8}),
                         tensor_of(d, {2, 1 << 20}, {1 << 20, 1}), tensor_of(d, {1 << 16, 3}, {3, 1})};
    for (const Tensor& x : xs)
      for (int log = 0; log < 2; ++log) {
        chorus_softmax_attrs a{};
        a.axis = 1;
        a.log = log;
        out->push_back(variant(CHORUS_OP_SOFTMAX, a, {x, x}));
        out->push_back(variant(CHORUS_OP_SOFTMAX_BACKWARD, a, {x, x, x}));
      }
  }
}

}  // namespace

void register_plan() {
  register_planner(CHORUS_OP_SOFTMAX, plan_softmax);
  register_planner(CHORUS_OP_SOFTMAX_BACKWARD, plan_softmax);
  register_variants(variants);
}

}  // namespace chorus::ops::softmax
