// schema.cpp — softmax and log-softmax in libchorus, and their gradient
// (softmax_backward: y, dy -> dx). Normal form: the axis moved last, the row
// (NormalForm::rows, one row axis) in every tensor; y may be x itself, dx
// may be dy itself.
//
// Composites, for backends without a native kernel: the max-shifted
// formulas of docs/ops.md written with reduce, binary and unary ops, in f32
// for 16-bit data (the accuracy the bound assumes), so that a backend with
// the core primitives (docs/writing-a-backend.md) runs both.
#include "core/dispatch.hpp"
#include "core/op_schema.hpp"
#include "core/composite_kit.hpp"

namespace chorus::ops::softmax {
namespace {

using namespace chorus::core;

const char* label(const unsigned char* attrs) {
  return attr_i32(attrs, offsetof(chorus_softmax_attrs, log)) ? "log_softmax" : "softmax";
}

const char* backward_label(const unsigned char* attrs) {
  return attr_i32(attrs, offsetof(chorus_softmax_attrs, log)) ? "log_softmax_backward"
                                                               : "softmax_backward";
}

// Both ops: every slot has slot 0's shape; the axis moves last in each.
chorus_status normalise(Call& call) {
  auto& a = call.attrs_as<chorus_softmax_attrs>();
  for (uint32_t t = 1; t < call.slot_count; ++t)
    if (auto s = require_same_shape(call, t, 0)) return s;
  uint32_t axis = 0;
  if (auto s = normalise_axis(call, "axis", a.axis, call.views[0].rank, &axis)) return s;
  uint32_t order[CHORUS_MAX_RANK];
  axes_last_order(call.views[0].rank, 1u << axis, order);
  for (uint32_t t = 0; t < call.slot_count; ++t) permute(call.views[t], order);
  call.inner_rank = 1;
  return CHORUS_OK;
}

void finish(Call& call) {
  call.attrs_as<chorus_softmax_attrs>().axis = static_cast<int32_t>(call.views[0].rank) - 1;
}

// softmax = e / sum(e), e = exp(x - max x); log-softmax = (x - max x) - log(sum(e)).
chorus_status compose(Lowering& l) {
  const Call& op = l.op();
  const bool log = op.attrs[offsetof(chorus_softmax_attrs, log)] != 0;
  RowTemps t(l, op.views[0]);
  if (auto s = t.load_x()) return s;
  View m = t.row_temp();
  if (auto s = t.reduce(CHORUS_REDUCE_MAX, t.x, m)) return s;
  View shifted = t.full_temp();
  if (auto s = t.binary(CHORUS_BINARY_SUB, t.x, m, shifted)) return s;
  View e = log ? t.full_temp() : shifted;
  if (auto s = t.unary(CHORUS_UNARY_EXP, shifted, e)) return s;
  View sum = t.row_temp();
  if (auto s = t.reduce(CHORUS_REDUCE_SUM, e, sum)) return s;
  if (!log) return t.store_y(op.views[1], [&](const View& y) {
    return t.binary(CHORUS_BINARY_DIV, e, sum, y);
  });
  if (auto s = t.unary(CHORUS_UNARY_LOG, sum, sum)) return s;
  return t.store_y(op.views[1],
                   [&](const View& y) { return t.binary(CHORUS_BINARY_SUB, shifted, sum, y); });
}

}  // namespace

void register_schema() {
  OpSchema s;
  s.kind = CHORUS_OP_SOFTMAX;
  s.name = "softmax";
  s.family = "softmax";
  s.summary = "y = softmax(x) or log_softmax(x) along axis (max-shifted)";
  s.slots = {{"x", Role::input, false, kAnyFloat},
             {"y", Role::output, false, kAnyFloat, 0, 1u << 0}};
  s.attrs_size = sizeof(chorus_softmax_attrs);
  s.attrs = {{"axis", CHORUS_ATTR_INT32, offsetof(chorus_softmax_attrs, axis), -1},
             {"log", CHORUS_ATTR_BOOL, offsetof(chorus_softmax_attrs, log), 0}};
  s.label = label;
  s.form = NormalForm::rows;
  s.normalise = normalise;
  s.finish = finish;
  s.composites = {{"max, sub, exp, sum, then div (softmax) or log and sub (log_softmax)", compose}};
  const std::vector<Attr> attrs = s.attrs;
  register_op(std::move(s));

  OpSchema b;
  b.kind = CHORUS_OP_SOFTMAX_BACKWARD;
  b.name = "softmax_backward";
  b.family = "softmax";
  b.summary = "dx = softmax's or log_softmax's input gradient from y and dy along axis";
  b.slots = {{"y", Role::input, false, kAnyFloat},
             {"dy", Role::input, false, kAnyFloat, 0},
             {"dx", Role::output, false, kAnyFloat, 0, 1u << 1}};
  b.attrs_size = sizeof(chorus_softmax_attrs);
  b.attrs = attrs;
  b.label = backward_label;
  b.form = NormalForm::rows;
  b.normalise = normalise;
  b.finish = finish;
  register_op(std::move(b));
}

}  // namespace chorus::ops::softmax

extern "C" CHORUS_API chorus_status chorus_softmax(chorus_queue queue, const chorus_tensor* x,
                                                   int32_t axis, int32_t log,
                                                   const chorus_tensor* y) {
  const chorus_softmax_attrs attrs{sizeof attrs, axis, log ? 1 : 0};
  return chorus::core::run_op(queue, CHORUS_OP_SOFTMAX, &attrs, {x, y});
}

extern "C" CHORUS_API chorus_status chorus_softmax_backward(chorus_queue queue,
                                                            const chorus_tensor* y,
                                                            const chorus_tensor* dy, int32_t axis,
                                                            int32_t log, const chorus_tensor* dx) {
  const chorus_softmax_attrs attrs{sizeof attrs, axis, log ? 1 : 0};
  return chorus::core::run_op(queue, CHORUS_OP_SOFTMAX_BACKWARD, &attrs, {y, dy, dx});
}
