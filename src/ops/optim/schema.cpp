// schema.cpp — the optimizer family in libchorus: fused, in-place SGD and
// AdamW steps over one parameter tensor and its state (docs/ops.md,
// "Optimizers"). Elementwise in the normal form: every tensor has the
// parameter's shape and dtype, and the core collapses them jointly.
#include <cmath>

#include "core/dispatch.hpp"
#include "core/op_schema.hpp"

namespace chorus::ops::optim {
namespace {

using namespace chorus::core;

bool finite_at_least(double v, double low) { return std::isfinite(v) && v >= low; }

chorus_status normalise_sgd(Call& call) {
  const auto& a = call.attrs_as<chorus_sgd_attrs>();
  if (!finite_at_least(a.lr, 0))
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "lr is %g; it must be finite and >= 0", a.lr);
  if (!finite_at_least(a.momentum, 0))
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "momentum is %g; it must be finite and >= 0",
                     a.momentum);
  if (!std::isfinite(a.dampening))
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "dampening is %g; it must be finite",
                     a.dampening);
  if (!finite_at_least(a.weight_decay, 0))
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "weight_decay is %g; it must be finite and >= 0", a.weight_decay);
  if (a.nesterov && (a.momentum <= 0 || a.dampening != 0))
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "nesterov needs momentum > 0 and dampening 0 (as PyTorch)");
  if (a.step < 1)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "step is 0; steps count from 1");
  if (a.momentum != 0 && !call.views[2].present)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "momentum_buffer is NULL but momentum is %g; it holds the momentum state",
                     a.momentum);
  return require_same_shapes(call);
}

chorus_status normalise_adamw(Call& call) {
  const auto& a = call.attrs_as<chorus_adamw_attrs>();
  if (!finite_at_least(a.lr, 0))
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "lr is %g; it must be finite and >= 0", a.lr);
  if (!finite_at_least(a.eps, 0))
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "eps is %g; it must be finite and >= 0", a.eps);
  if (!(a.beta1 >= 0 && a.beta1 < 1) || !(a.beta2 >= 0 && a.beta2 < 1))
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "beta1 = %g and beta2 = %g must be in [0, 1)",
                     a.beta1, a.beta2);
  if (!finite_at_least(a.weight_decay, 0))
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "weight_decay is %g; it must be finite and >= 0", a.weight_decay);
  if (a.step < 1)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "step is 0; steps count from 1");
  if (a.amsgrad && !call.views[4].present)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "max_exp_avg_sq is NULL but amsgrad is 1; it holds the running maximum");
  if (!a.amsgrad && call.views[4].present)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "max_exp_avg_sq is given but amsgrad is 0; pass NULL");
  return require_same_shapes(call);
}

}  // namespace

void register_schema() {
  {
    OpSchema s;
    s.kind = CHORUS_OP_SGD;
    s.name = "sgd";
    s.family = "optim";
    s.summary = "one SGD step in place (momentum, dampening, Nesterov, weight decay), as PyTorch";
    s.slots = {{"param", Role::inout, false, kAnyFloat},
               {"grad", Role::input, false, kAnyFloat, 0},
               {"momentum_buffer", Role::inout, true, kAnyFloat, 0}};
    s.attrs_size = sizeof(chorus_sgd_attrs);
    s.attrs = {{"nesterov", CHORUS_ATTR_BOOL, offsetof(chorus_sgd_attrs, nesterov)},
               {"step", CHORUS_ATTR_UINT64, offsetof(chorus_sgd_attrs, step), 1},
               {"lr", CHORUS_ATTR_DOUBLE, offsetof(chorus_sgd_attrs, lr), 1e-3},
               {"momentum", CHORUS_ATTR_DOUBLE, offsetof(chorus_sgd_attrs, momentum), 0},
               {"dampening", CHORUS_ATTR_DOUBLE, offsetof(chorus_sgd_attrs, dampening), 0},
               {"weight_decay", CHORUS_ATTR_DOUBLE, offsetof(chorus_sgd_attrs, weight_decay), 0}};
    s.form = NormalForm::elementwise;
    s.normalise = normalise_sgd;
    register_op(std::move(s));
  }
  {
    OpSchema s;
    s.kind = CHORUS_OP_ADAMW;
    s.name = "adamw";
    s.family = "optim";
    s.summary = "one AdamW step in place (bias correction, decoupled weight decay, amsgrad), as "
                "PyTorch";
    s.slots = {{"param", Role::inout, false, kAnyFloat},
               {"grad", Role::input, false, kAnyFloat, 0},
               {"exp_avg", Role::inout, false, kAnyFloat, 0},
               {"exp_avg_sq", Role::inout, false, kAnyFloat, 0},
               {"max_exp_avg_sq", Role::inout, true, kAnyFloat, 0}};
    s.attrs_size = sizeof(chorus_adamw_attrs);
    s.attrs = {{"amsgrad", CHORUS_ATTR_BOOL, offsetof(chorus_adamw_attrs, amsgrad)},
               {"step", CHORUS_ATTR_UINT64, offsetof(chorus_adamw_attrs, step), 1},
               {"lr", CHORUS_ATTR_DOUBLE, offsetof(chorus_adamw_attrs, lr), 1e-3},
               {"beta1", CHORUS_ATTR_DOUBLE, offsetof(chorus_adamw_attrs, beta1), 0.9},
               {"beta2", CHORUS_ATTR_DOUBLE, offsetof(chorus_adamw_attrs, beta2), 0.999},
               {"eps", CHORUS_ATTR_DOUBLE, offsetof(chorus_adamw_attrs, eps), 1e-8},
               {"weight_decay", CHORUS_ATTR_DOUBLE, offsetof(chorus_adamw_attrs, weight_decay),
                1e-2}};
    s.form = NormalForm::elementwise;
    s.normalise = normalise_adamw;
    register_op(std::move(s));
  }
}

}  // namespace chorus::ops::optim

extern "C" CHORUS_API chorus_status chorus_sgd_step(chorus_queue queue,
                                                    const chorus_sgd_attrs* attrs,
                                                    const chorus_tensor* param,
                                                    const chorus_tensor* grad,
                                                    const chorus_tensor* momentum_buffer) {
  return chorus::core::run_op(queue, CHORUS_OP_SGD, attrs, {param, grad, momentum_buffer});
}

extern "C" CHORUS_API chorus_status chorus_adamw_step(
    chorus_queue queue, const chorus_adamw_attrs* attrs, const chorus_tensor* param,
    const chorus_tensor* grad, const chorus_tensor* exp_avg, const chorus_tensor* exp_avg_sq,
    const chorus_tensor* max_exp_avg_sq) {
  return chorus::core::run_op(queue, CHORUS_OP_ADAMW, attrs,
                              {param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq});
}
