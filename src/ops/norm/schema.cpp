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

}  // extern "C"
