// plan.cpp — SGD and AdamW on the run-time-compiled backends: one launch of
// optim.cl (after walk.h), one work-item per element, programs per (dtype,
// contiguous or not). The constants come from optim_host.hpp, rounded to
// the compute type.
#include <string>

#include "optim/optim_host.hpp"
#include "plan_kit.hpp"

namespace chorus::ops::optim {
namespace {

using namespace chorus::backend_common;

// The ck_optim block of the record's tensors (slot order; absent ones walk
// nothing), in the parameter's collapsed shape, and whether every present
// operand is one unit-stride run.
ck_optim optim_args(const chorus_op_record& op, bool* contig) {
  const Tensor& param = op.tensors[0];
  ck_optim a{};
  a.rank = std::max<uint32_t>(param.rank, 1);
  a.count = 1;
  for (int k = 0; k < a.rank; ++k) {
    a.shape[k] = param.rank ? param.shape[k] : 1;
    a.count *= a.shape[k];
  }
  *contig = param.rank <= 1;
  for (uint32_t t = 0; t < op.tensor_count && t < CK_OPTIM_OPERANDS; ++t) {
    const Tensor& x = op.tensors[t];
    if (!present(x)) continue;
    a.offset[t] = x.offset;
    for (int k = 0; k < a.rank; ++k) a.strides[t][k] = param.rank ? x.strides[k] : 0;
    if (param.rank == 1 && a.shape[0] > 1 && x.strides[0] != 1) *contig = false;
  }
  return a;
}

Launch optim_launch(const chorus_op_record& op, const DeviceTraits& traits, const char* kernel) {
  const chorus_dtype d = op.tensors[0].dtype;
  bool contig = false;
  const ck_optim args = optim_args(op, &contig);
  Launch l;
  l.program = program(traits, std::string("optim ") + dtype_name(d), "optim.cl", 1);
  l.program.files.insert(l.program.files.end() - 1, "walk.h");
  define_dtype(l.program, d);
  l.program.defines.push_back({"EW_CONTIG", contig ? "1" : "0"});
  l.kernel = kernel;
  const auto group = static_cast<uint64_t>(traits.tuning.elementwise_local);
  l.dims = 1;
  l.local[0] = group;
  l.global[0] = round_up(static_cast<uint64_t>(args.count), group);
  for (uint32_t t = 0; t < op.tensor_count; ++t)
    l.args.push_back(present(op.tensors[t]) ? buffer_arg(static_cast<int>(t)) : null_arg());
  l.args.push_back(bytes_arg(args));
  const size_t block = op.tensor_count;
  for (uint32_t t = 0; t < op.tensor_count; ++t)
    if (present(op.tensors[t]))
      patch_offset(l, block, offsetof(ck_optim, offset) + 8 * t, static_cast<int>(t));
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
