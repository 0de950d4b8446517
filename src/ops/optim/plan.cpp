// plan.cpp — SGD and AdamW on the run-time-compiled backends: one launch of
// optim.cl (after walk.h), one work-item per element, programs per (dtype,
// contiguous or not). The constants come from optim_host.hpp, rounded to
// the compute type.
#include <algorithm>
#include <string>

#include "optim/optim_host.hpp"
#include "plan_kit.hpp"

namespace chorus::ops::optim {
namespace {

using namespace chorus::backend_common;

// One launch of `kernel` over the record's tensors in slot order (ck_optim:
// every tensor in the parameter's collapsed shape), one work-item per
// element; the constants are appended by the caller.
Launch optim_launch(const chorus_op_record& op, const DeviceTraits& traits, const char* kernel) {
  const chorus_dtype d = op.tensors[0].dtype;
  const Tensor* operands[CK_OPTIM_OPERANDS] = {};
  const int count = static_cast<int>(std::min<uint32_t>(op.tensor_count, CK_OPTIM_OPERANDS));
  for (int t = 0; t < count; ++t) operands[t] = &op.tensors[t];
  ck_optim args{};
  const bool contiguous = fill_walk(op.tensors[0], operands, count, &args);
  Launch l;
  l.program = walk_program(traits, std::string("optim ") + dtype_name(d), "optim.cl", d, contiguous);
  l.kernel = kernel;
  linear_grid(traits.tuning, static_cast<uint64_t>(args.count), &l);
  for (int t = 0; t < count; ++t)
    l.args.push_back(present(op.tensors[t]) ? buffer_arg(t) : null_arg());
  l.args.push_back(bytes_arg(args));
  for (int t = 0; t < count; ++t)
    if (present(op.tensors[t]))
      patch_offset(l, static_cast<size_t>(count), offsetof(ck_optim, offset) + 8 * static_cast<size_t>(t), t);
  return l;
}

bool float_tensors(const chorus_op_record& op) {
  const chorus_dtype d = op.tensors[0].dtype;
  if (is_int(d)) return false;
  for (uint32_t t = 0; t < op.tensor_count; ++t)
    if (present(op.tensors[t]) && op.tensors[t].dtype != d) return false;
  return true;
}

chorus_status plan_sgd(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                       std::string* why) {
  if (const chorus_status s = check_record(op, 3, sizeof(chorus_sgd_attrs), why)) return s;
  if (!float_tensors(op)) {
    *why = "sgd takes float tensors of one dtype";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  const SgdConstants c = sgd_constants(attrs_of<chorus_sgd_attrs>(op));
  const chorus_dtype d = op.tensors[0].dtype;
  Launch l = optim_launch(op, traits, "sgd_step");
  const int32_t flags = (c.momentum_on ? 1 : 0) | (c.first ? 2 : 0) | (c.nesterov ? 4 : 0) |
                        (c.weight_decay != 0 ? 8 : 0);
  for (const double v : {c.lr, c.momentum, c.one_minus_dampening, c.weight_decay})
    l.args.push_back(accumulator_arg(d, v));
  l.args.push_back(bytes_arg(flags));
  plan->launches.push_back(std::move(l));
  return CHORUS_OK;
}

chorus_status plan_adamw(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                         std::string* why) {
  if (const chorus_status s = check_record(op, 5, sizeof(chorus_adamw_attrs), why)) return s;
  if (!float_tensors(op)) {
    *why = "adamw takes float tensors of one dtype";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  const AdamwConstants c = adamw_constants(attrs_of<chorus_adamw_attrs>(op));
  const chorus_dtype d = op.tensors[0].dtype;
  Launch l = optim_launch(op, traits, "adamw_step");
  for (const double v : {c.decay, c.one_minus_beta1, c.beta2, c.one_minus_beta2, c.step_size,
                         c.inv_bias2_sqrt, c.eps})
    l.args.push_back(accumulator_arg(d, v));
  l.args.push_back(bytes_arg(int32_t{c.amsgrad ? 1 : 0}));
  plan->launches.push_back(std::move(l));
  return CHORUS_OK;
}

// Each float dtype, contiguous and strided.
void variants(std::vector<VariantOp>* out) {
  for (chorus_dtype d : float_dtypes()) {
    for (const bool contig : {true, false}) {
      const Tensor t = contig ? tensor_of(d, {64}, {1}) : tensor_of(d, {8, 8}, {1, 8});
      chorus_sgd_attrs s{};
      s.step = 2;
      s.lr = 0.1;
      s.momentum = 0.9;
      out->push_back(variant(CHORUS_OP_SGD, s, {t, t, t}));
      chorus_adamw_attrs a{};
      a.step = 1;
      a.lr = 1e-3;
      a.beta1 = 0.9;
      a.beta2 = 0.999;
      a.amsgrad = 1;
      out->push_back(variant(CHORUS_OP_ADAMW, a, {t, t, t, t, t}));
    }
  }
}

}  // namespace

void register_plan() {
  register_planner(CHORUS_OP_SGD, plan_sgd);
  register_planner(CHORUS_OP_ADAMW, plan_adamw);
  register_variants(variants);
}

}  // namespace chorus::ops::optim
