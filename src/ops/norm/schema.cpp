// schema.cpp — layer norm and RMS norm in libchorus, and their gradients.
// Both normalise over the last axis: the row (NormalForm::rows, one row
// axis). gamma and beta, [n] from the caller, reach the backend broadcast to
// x's shape (stride 0 on every axis but the row); y may be x itself, never
// gamma or beta. The gradients' dgamma and dbeta reach it as one row (extent
// 1 on the row axes), the sum over x's rows.
//
// Composites, for backends without a native kernel: the two-pass formulas
// of docs/ops.md written with reduce, binary and unary ops, in f32 for
// 16-bit data.
#include <cmath>

#include "core/composite_kit.hpp"
#include "core/dispatch.hpp"
#include "core/op_schema.hpp"

namespace chorus::ops::norm {
namespace {

using namespace chorus::core;

// What both directions check: x has an axis, eps >= 0.
chorus_status check_x_eps(Call& call) {
  if (call.views[0].rank == 0) return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "x has rank 0");
  const double eps = call.attrs_as<chorus_norm_attrs>().eps;
  if (!(eps >= 0.0))
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "eps is %g; it must be >= 0", eps);
  return CHORUS_OK;
}

// A per-feature tensor (gamma, beta, dgamma, dbeta) must be [n], n x's last
// extent.
chorus_status check_feature_shape(Call& call, uint32_t p) {
  const View& x = call.views[0];
  const View& v = call.views[p];
  const int64_t features = x.shape[x.rank - 1];
  if (v.rank != 1 || v.shape[0] != features)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "%s has shape %s; it must be [%lld] (x's last axis)",
                     call.schema->slots[p].name, shape_text(v.rank, v.shape).c_str(),
                     static_cast<long long>(features));
  return CHORUS_OK;
}

// A present per-feature input, spread over x's rows (stride 0).
chorus_status spread_feature_input(Call& call, uint32_t p) {
  if (!call.views[p].present) return CHORUS_OK;
  if (auto s = check_feature_shape(call, p)) return s;
  const View& x = call.views[0];
  return broadcast_to(call, p, x.rank, x.shape, "x");
}

// x, params (gamma, beta: may be absent), y = the last slot.
chorus_status normalise(Call& call) {
  const uint32_t y = call.slot_count - 1;
  if (auto s = check_x_eps(call)) return s;
  if (auto s = require_same_shape(call, y, 0)) return s;
  for (uint32_t p = 1; p < y; ++p)
    if (auto s = spread_feature_input(call, p)) return s;
  call.inner_rank = 1;
  return CHORUS_OK;
}

// The gradients: x, gamma?, dy, dx?, then the per-feature gradients (dgamma?,
// and dbeta? for layer norm). dy and dx have x's shape; a per-feature
// gradient [n] becomes x's rank with extent 1 on every row axis (a sum over
// the rows, as reduce's output: the collapse keeps it one row).
chorus_status normalise_backward(Call& call) {
  if (auto s = check_x_eps(call)) return s;
  if (auto s = spread_feature_input(call, 1)) return s;
  if (auto s = require_same_shape(call, 2, 0)) return s;
  if (call.views[3].present)
    if (auto s = require_same_shape(call, 3, 0)) return s;
  bool any = call.views[3].present;
  const View& x = call.views[0];
  for (uint32_t p = 4; p < call.slot_count; ++p) {
    View& v = call.views[p];
    if (!v.present) continue;
    any = true;
    if (auto s = check_feature_shape(call, p)) return s;
    const int64_t stride = v.strides[0];
    v.rank = x.rank;
    for (uint32_t k = 0; k + 1 < x.rank; ++k) {
      v.shape[k] = 1;
      v.strides[k] = 0;
    }
    v.shape[x.rank - 1] = x.shape[x.rank - 1];
    v.strides[x.rank - 1] = stride;
  }
  if (!any)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "dx, dgamma%s are all NULL; ask for at least one gradient",
                     call.slot_count > 5 ? " and dbeta" : "");
  call.inner_rank = 1;
  return CHORUS_OK;
}

// Batch norm: x is [N, C, ...]; each per-channel tensor ([C]) becomes x's
// rank with extent 1 off axis 1, and axis 1 moves first: one row per
// channel over N and the spatial axes (inner_rank = rank - 1). Slots:
// forward x, gamma?, beta?, running_mean?, running_var?, y; backward x,
// gamma?, running_mean?, running_var?, dy, dx?, dgamma?, dbeta?.
chorus_status normalise_batch(Call& call) {
  const auto& a = call.attrs_as<chorus_batch_norm_attrs>();
  const bool backward = call.slot_count == 8;
  View& x = call.views[0];
  if (x.rank < 2)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "x has shape %s; batch norm needs [N, C, ...] (channels on axis 1)",
                     shape_text(x.rank, x.shape).c_str());
  if (!(a.eps >= 0.0))
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "eps is %g; it must be >= 0", a.eps);
  if (!std::isfinite(a.momentum))
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "momentum is %g; it must be finite",
                     a.momentum);
  if (a.training != 0 && a.training != 1)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "training is %d; it must be 0 or 1",
                     a.training);
  const uint32_t mean_slot = backward ? 2 : 3, var_slot = mean_slot + 1;
  const bool has_running = call.views[mean_slot].present, has_var = call.views[var_slot].present;
  if (has_running != has_var)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "running_mean and running_var come together; %s is NULL",
                     has_running ? "running_var" : "running_mean");
  if (!a.training && !has_running)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "training is 0: running_mean and running_var are required");
  const int64_t channels = x.shape[1];
  const int64_t per_channel = channels == 0 ? 0 : x.numel() / channels;
  if (a.training && !backward && per_channel == 1)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "x has shape %s: one value per channel; training needs more than 1 "
                     "(the unbiased running variance divides by n - 1)",
                     shape_text(x.rank, x.shape).c_str());
  const uint32_t y_slot = 5;  // y, or dx
  if (backward) {
    if (auto s = require_same_shape(call, 4, 0)) return s;
    bool any = false;
    for (uint32_t o = 5; o < 8; ++o) any = any || call.views[o].present;
    if (!any)
      return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                       "dx, dgamma and dbeta are all NULL; ask for at least one gradient");
  }
  if (call.views[y_slot].present)
    if (auto s = require_same_shape(call, y_slot, 0)) return s;
  for (uint32_t p = 1; p < call.slot_count; ++p) {
    View& v = call.views[p];
    const bool per_channel_slot = backward ? (p <= 3 || p >= 6) : (p <= 4);
    if (!v.present || !per_channel_slot) continue;
    if (v.rank != 1 || v.shape[0] != channels)
      return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                       "%s has shape %s; it must be [%lld] (x's channels, axis 1)",
                       call.schema->slots[p].name, shape_text(v.rank, v.shape).c_str(),
                       static_cast<long long>(channels));
    const int64_t stride = v.strides[0];
    v.rank = x.rank;
    for (uint32_t k = 0; k < x.rank; ++k) {
      v.shape[k] = k == 1 ? channels : 1;
      v.strides[k] = k == 1 ? stride : 0;
    }
  }
  uint32_t order[CHORUS_MAX_RANK];
  axes_last_order(x.rank, ((1u << x.rank) - 1u) & ~2u, order);
  for (uint32_t t = 0; t < call.slot_count; ++t)
    if (call.views[t].present) permute(call.views[t], order);
  // The final form (NormalForm::custom): axis 0 is always the channel (even
  // C = 1, which the rows collapse would drop), then the axes a channel's
  // values span, neighbours merged where every tensor steps over both as one
  // run (the per-channel tensors, extent 1 and stride 0 there, always do).
  for (uint32_t k = x.rank - 1; k >= 1 && x.rank > 2; --k) {
    if (x.shape[k] != 1) continue;  // an axis of extent 1 steps nowhere: dropped
    for (uint32_t t = 0; t < call.slot_count; ++t) {
      View& v = call.views[t];
      if (!v.present) continue;
      for (uint32_t i = k; i + 1 < v.rank; ++i) {
        v.shape[i] = v.shape[i + 1];
        v.strides[i] = v.strides[i + 1];
      }
      --v.rank;
    }
  }
  for (uint32_t k = x.rank - 1; k >= 2; --k) {
    bool merge = true;
    for (uint32_t t = 0; t < call.slot_count; ++t) {
      const View& v = call.views[t];
      if (v.present && v.strides[k - 1] != v.strides[k] * v.shape[k]) merge = false;
    }
    if (!merge) continue;
    for (uint32_t t = 0; t < call.slot_count; ++t) {
      View& v = call.views[t];
      if (!v.present) continue;
      v.shape[k - 1] *= v.shape[k];
      v.strides[k - 1] = v.strides[k];
      for (uint32_t i = k; i + 1 < v.rank; ++i) {
        v.shape[i] = v.shape[i + 1];
        v.strides[i] = v.strides[i + 1];
      }
      --v.rank;
    }
  }
  call.inner_rank = x.rank - 1;
  // An empty batch: nothing to normalise and no statistics to update (the
  // gradients dgamma and dbeta are sums over nothing, 0: the backends).
  if (!backward && per_channel == 0) call.no_op = true;
  return CHORUS_OK;
}

// (x - mean) / sqrt(var + eps) * gamma + beta, or x / sqrt(mean(x^2) + eps) * gamma.
chorus_status compose(Lowering& l, bool layer) {
  const Call& op = l.op();
  const uint32_t last = op.slot_count - 1;
  const View* gamma = op.views[1].present ? &op.views[1] : nullptr;
  const View* beta = layer && op.views[2].present ? &op.views[2] : nullptr;
  const double eps = reinterpret_cast<const chorus_norm_attrs*>(op.attrs)->eps;
  RowTemps t(l, op.views[0]);
  if (auto s = t.load_x()) return s;
  View centred = t.x;
  if (layer) {
    View mean = t.row_temp();
    if (auto s = t.reduce(CHORUS_REDUCE_MEAN, t.x, mean)) return s;
    centred = t.full_temp();
    if (auto s = t.binary(CHORUS_BINARY_SUB, t.x, mean, centred)) return s;
  }
  View squares = t.full_temp();
  if (auto s = t.binary(CHORUS_BINARY_MUL, centred, centred, squares)) return s;
  View spread = t.row_temp();
  if (auto s = t.reduce(CHORUS_REDUCE_MEAN, squares, spread)) return s;
  View eps_value;
  if (auto s = t.constant(eps, &eps_value)) return s;
  if (auto s = t.binary(CHORUS_BINARY_ADD, spread, eps_value, spread)) return s;
  if (auto s = t.unary(CHORUS_UNARY_SQRT, spread, spread)) return s;
  View g, b;
  if (gamma)
    if (auto s = t.load_row_param(*gamma, &g)) return s;
  if (beta)
    if (auto s = t.load_row_param(*beta, &b)) return s;
  return t.store_y(op.views[last], [&](const View& y) -> chorus_status {
    if (!gamma && !beta) return t.binary(CHORUS_BINARY_DIV, centred, spread, y);
    if (auto s = t.binary(CHORUS_BINARY_DIV, centred, spread, squares)) return s;
    if (gamma && beta) {
      if (auto s = t.binary(CHORUS_BINARY_MUL, squares, g, squares)) return s;
      return t.binary(CHORUS_BINARY_ADD, squares, b, y);
    }
    return gamma ? t.binary(CHORUS_BINARY_MUL, squares, g, y)
                 : t.binary(CHORUS_BINARY_ADD, squares, b, y);
  });
}

chorus_status compose_layer(Lowering& l) { return compose(l, true); }
chorus_status compose_rms(Lowering& l) { return compose(l, false); }

OpSchema norm_schema(chorus_op_kind kind, const char* name, const char* summary) {
  OpSchema s;
  s.kind = kind;
  s.name = name;
  s.family = "norm";
  s.summary = summary;
  s.attrs_size = sizeof(chorus_norm_attrs);
  s.attrs = {{"eps", CHORUS_ATTR_DOUBLE, offsetof(chorus_norm_attrs, eps), 1e-5}};
  s.form = NormalForm::rows;
  s.normalise = normalise;
  return s;
}

}  // namespace

void register_schema() {
  OpSchema layer = norm_schema(CHORUS_OP_LAYER_NORM, "layer_norm",
                               "y = (x - mean) / sqrt(var + eps) * gamma + beta over the last axis");
  layer.slots = {{"x", Role::input, false, kAnyFloat},
                 {"gamma", Role::input, true, kAnyFloat, 0},
                 {"beta", Role::input, true, kAnyFloat, 0},
                 {"y", Role::output, false, kAnyFloat, 0, 1u << 0}};
  layer.composites = {{"mean, sub, mul, mean, add eps, sqrt, div, mul gamma, add beta",
                       compose_layer}};
  register_op(std::move(layer));

  OpSchema rms = norm_schema(CHORUS_OP_RMS_NORM, "rms_norm",
                             "y = x / sqrt(mean(x^2) + eps) * gamma over the last axis");
  rms.slots = {{"x", Role::input, false, kAnyFloat},
               {"gamma", Role::input, true, kAnyFloat, 0},
               {"y", Role::output, false, kAnyFloat, 0, 1u << 0}};
  rms.composites = {{"mul, mean, add eps, sqrt, div, mul gamma", compose_rms}};
  register_op(std::move(rms));

  // dx may be dy's very view (slot 2); nothing else may overlap.
  OpSchema layer_b = norm_schema(CHORUS_OP_LAYER_NORM_BACKWARD, "layer_norm_backward",
                                 "dx, dgamma, dbeta of layer_norm from x, gamma and dy");
  layer_b.slots = {{"x", Role::input, false, kAnyFloat},
                   {"gamma", Role::input, true, kAnyFloat, 0},
                   {"dy", Role::input, false, kAnyFloat, 0},
                   {"dx", Role::output, true, kAnyFloat, 0, 1u << 2},
                   {"dgamma", Role::output, true, kAnyFloat, 0},
                   {"dbeta", Role::output, true, kAnyFloat, 0}};
  layer_b.normalise = normalise_backward;
  register_op(std::move(layer_b));

  OpSchema rms_b = norm_schema(CHORUS_OP_RMS_NORM_BACKWARD, "rms_norm_backward",
                               "dx, dgamma of rms_norm from x, gamma and dy");
  rms_b.slots = {{"x", Role::input, false, kAnyFloat},
                 {"gamma", Role::input, true, kAnyFloat, 0},
                 {"dy", Role::input, false, kAnyFloat, 0},
                 {"dx", Role::output, true, kAnyFloat, 0, 1u << 2},
                 {"dgamma", Role::output, true, kAnyFloat, 0}};
  rms_b.normalise = normalise_backward;
  register_op(std::move(rms_b));

  const std::vector<Attr> batch_attrs = {
      {"training", CHORUS_ATTR_BOOL, offsetof(chorus_batch_norm_attrs, training), 1},
      {"eps", CHORUS_ATTR_DOUBLE, offsetof(chorus_batch_norm_attrs, eps), 1e-5},
      {"momentum", CHORUS_ATTR_DOUBLE, offsetof(chorus_batch_norm_attrs, momentum), 0.1}};
  OpSchema batch;
  batch.kind = CHORUS_OP_BATCH_NORM;
  batch.name = "batch_norm";
  batch.family = "norm";
  batch.summary = "y = (x - mean) / sqrt(var + eps) * gamma + beta per channel (axis 1), batch or "
                  "running statistics";
  batch.slots = {{"x", Role::input, false, kAnyFloat},
                 {"gamma", Role::input, true, kAnyFloat, 0},
                 {"beta", Role::input, true, kAnyFloat, 0},
                 {"running_mean", Role::inout, true, kAnyFloat, 0},
                 {"running_var", Role::inout, true, kAnyFloat, 0},
                 {"y", Role::output, false, kAnyFloat, 0, 1u << 0}};
  batch.attrs_size = sizeof(chorus_batch_norm_attrs);
  batch.attrs = batch_attrs;
  batch.form = NormalForm::custom;
  batch.normalise = normalise_batch;
  register_op(std::move(batch));

  OpSchema batch_b;
  batch_b.kind = CHORUS_OP_BATCH_NORM_BACKWARD;
  batch_b.name = "batch_norm_backward";
  batch_b.family = "norm";
  batch_b.summary = "dx, dgamma, dbeta of batch_norm from x, gamma and dy";
  batch_b.slots = {{"x", Role::input, false, kAnyFloat},
                   {"gamma", Role::input, true, kAnyFloat, 0},
                   {"running_mean", Role::input, true, kAnyFloat, 0},
                   {"running_var", Role::input, true, kAnyFloat, 0},
                   {"dy", Role::input, false, kAnyFloat, 0},
                   {"dx", Role::output, true, kAnyFloat, 0, 1u << 4},
                   {"dgamma", Role::output, true, kAnyFloat, 0},
                   {"dbeta", Role::output, true, kAnyFloat, 0}};
  batch_b.attrs_size = sizeof(chorus_batch_norm_attrs);
  batch_b.attrs = batch_attrs;
  batch_b.form = NormalForm::custom;
  batch_b.normalise = normalise_batch;
  register_op(std::move(batch_b));
}

}  // namespace chorus::ops::norm

using chorus::core::run_op;

extern "C" {

CHORUS_API chorus_status chorus_layer_norm(chorus_queue queue, const chorus_tensor* x,
                                           const chorus_tensor* gamma, const chorus_tensor* beta,
                                           double eps, const chorus_tensor* y) {
  const chorus_norm_attrs attrs{sizeof attrs, 0, eps};
  return run_op(queue, CHORUS_OP_LAYER_NORM, &attrs, {x, gamma, beta, y});
}

CHORUS_API chorus_status chorus_rms_norm(chorus_queue queue, const chorus_tensor* x,
                                         const chorus_tensor* gamma, double eps,
                                         const chorus_tensor* y) {
  const chorus_norm_attrs attrs{sizeof attrs, 0, eps};
  return run_op(queue, CHORUS_OP_RMS_NORM, &attrs, {x, gamma, y});
}

CHORUS_API chorus_status chorus_layer_norm_backward(chorus_queue queue, const chorus_tensor* x,
                                                    const chorus_tensor* gamma,
                                                    const chorus_tensor* dy, double eps,
                                                    const chorus_tensor* dx,
                                                    const chorus_tensor* dgamma,
                                                    const chorus_tensor* dbeta) {
  const chorus_norm_attrs attrs{sizeof attrs, 0, eps};
  return run_op(queue, CHORUS_OP_LAYER_NORM_BACKWARD, &attrs, {x, gamma, dy, dx, dgamma, dbeta});
}

CHORUS_API chorus_status chorus_rms_norm_backward(chorus_queue queue, const chorus_tensor* x,
                                                  const chorus_tensor* gamma,
                                                  const chorus_tensor* dy, double eps,
                                                  const chorus_tensor* dx,
                                                  const chorus_tensor* dgamma) {
  const chorus_norm_attrs attrs{sizeof attrs, 0, eps};
  return run_op(queue, CHORUS_OP_RMS_NORM_BACKWARD, &attrs, {x, gamma, dy, dx, dgamma});
}

CHORUS_API chorus_status chorus_batch_norm(chorus_queue queue, const chorus_batch_norm_attrs* attrs,
                                           const chorus_tensor* x, const chorus_tensor* gamma,
                                           const chorus_tensor* beta,
                                           const chorus_tensor* running_mean,
                                           const chorus_tensor* running_var,
                                           const chorus_tensor* y) {
  return run_op(queue, CHORUS_OP_BATCH_NORM, attrs, {x, gamma, beta, running_mean, running_var, y});
}

CHORUS_API chorus_status chorus_batch_norm_backward(
    chorus_queue queue, const chorus_batch_norm_attrs* attrs, const chorus_tensor* x,
    const chorus_tensor* gamma, const chorus_tensor* running_mean, const chorus_tensor* running_var,
    const chorus_tensor* dy, const chorus_tensor* dx, const chorus_tensor* dgamma,
    const chorus_tensor* dbeta) {
  return run_op(queue, CHORUS_OP_BATCH_NORM_BACKWARD, attrs,
                {x, gamma, running_mean, running_var, dy, dx, dgamma, dbeta});
}

}  // extern "C"
