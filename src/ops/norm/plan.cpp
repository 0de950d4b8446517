// plan.cpp — layer norm and RMS norm on the run-time-compiled backends: one
// launch of norm.cl over the rows form (backend.h): x, y and the optional
// gamma and beta ([outer..., row], gamma and beta stride 0 on the outer
// axes), the row the last axis. norm.cl numbers its operands 0 x, 1 y,
// 2 gamma, 3 beta; the slots are layer_norm's [x, gamma?, beta?, y] and
// rms_norm's [x, gamma?, y].
#include <string>

#include "plan_kit.hpp"

namespace chorus::ops::norm {
namespace {

using namespace chorus::backend_common;

chorus_status plan_norm(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                        std::string* why) {
  const bool layer = op.kind == CHORUS_OP_LAYER_NORM;
  if (const chorus_status s = check_record(op, layer ? 4 : 3, sizeof(chorus_norm_attrs), why))
    return s;
  const Tensor& x = op.tensors[0];
  if (x.rank == 0 || is_int(x.dtype)) {
    *why = "norms take floats with at least one axis";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  const int y = layer ? 3 : 2;
  const int gamma = 1, beta = layer ? 2 : -1;
  const bool has_gamma = present(op.tensors[gamma]);
  const bool has_beta = beta >= 0 && present(op.tensors[beta]);
  const RowLayout r = row_layout(op, {0, y, gamma, beta}, 1);
  const double eps = attrs_of<chorus_norm_attrs>(op).eps;
  Launch l;
  l.program = row_program(traits, "norm", "norm.cl", x.dtype, r.layout,
                          row_vw(traits.tuning, x.dtype));
  row_grid(traits.tuning, r.args, &l);
  if (layer) {
    l.kernel = "layer_norm";
    l.args = {buffer_arg(0),
              buffer_arg(y),
              has_gamma ? buffer_arg(gamma) : null_arg(),
              has_beta ? buffer_arg(beta) : null_arg(),
              bytes_arg(r.args),
              accumulator_arg(x.dtype, eps),
              bytes_arg(int32_t{has_gamma}),
              bytes_arg(int32_t{has_beta})};
    patch_rows(l, 4, r);
  } else {
    l.kernel = "rms_norm";
    l.args = {buffer_arg(0),
              buffer_arg(y),
              has_gamma ? buffer_arg(gamma) : null_arg(),
              bytes_arg(r.args),
              accumulator_arg(x.dtype, eps),
              bytes_arg(int32_t{has_gamma})};
    patch_rows(l, 3, r);
  }
  plan->launches.push_back(std::move(l));
  return CHORUS_OK;
}

// Each float dtype over contiguous, strided, long and many short rows,
// with and without gamma and beta.
void variants(std::vector<VariantOp>* out) {
  for (chorus_dtype d : float_dtypes()) {
    const Tensor xs[] = {tensor_of(d, {8, 16}, {16, 1}), tensor_of(d, {8, 16}, {1, 8}),
                         tensor_of(d, {2, 1 << 20}, {1 << 20, 1}), tensor_of(d, {1 << 16, 3}, {3, 1})};
    for (const Tensor& x : xs) {
      const Tensor g = tensor_of(d, {x.shape[0], x.shape[1]}, {0, 1});
      chorus_norm_attrs a{};
      a.eps = 1e-5;
      for (int affine = 0; affine < 2; ++affine) {
        const Tensor p = affine ? g : absent();
        out->push_back(variant(CHORUS_OP_LAYER_NORM, a, {x, p, p, x}));
        out->push_back(variant(CHORUS_OP_RMS_NORM, a, {x, p, x}));
      }
    }
  }
}

}  // namespace

void register_plan() {
  register_planner(CHORUS_OP_LAYER_NORM, plan_norm);
  register_planner(CHORUS_OP_RMS_NORM, plan_norm);
  register_variants(variants);
}

}  // namespace chorus::ops::norm
