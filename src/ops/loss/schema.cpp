// schema.cpp — the loss family in libchorus: cross-entropy from logits with
// integer class targets, and its gradient with respect to the logits
// (PyTorch's F.cross_entropy; docs/ops.md). Normal form (NormalForm::rows,
// one row axis): the class axis (logits' axis 1, or 0 for rank-1 logits)
// moved last in every tensor; target, and the loss or dloss of reduction
// none, get an axis of extent 1 there (one value per row); the loss or
// dloss of mean and sum (rank 0) extent 1 on every axis (one value for all
// rows). dlogits may be logits itself.
#include <cmath>

#include "core/dispatch.hpp"
#include "core/op_schema.hpp"

namespace chorus::ops::loss {
namespace {

using namespace chorus::core;

const char* const kReductionNames[] = {"none", "mean", "sum"};

uint32_t class_axis(const View& logits) { return logits.rank >= 2 ? 1 : 0; }

// A per-sample tensor (target, or the loss of reduction none) must have
// logits' shape without the class axis; it gets an extent-1 axis there.
chorus_status per_sample(Call& call, uint32_t slot, uint32_t axis) {
  const View& x = call.views[0];
  View& v = call.views[slot];
  int64_t want[CHORUS_MAX_RANK];
  uint32_t k = 0;
  for (uint32_t i = 0; i < x.rank; ++i)
    if (i != axis) want[k++] = x.shape[i];
  bool ok = v.rank == x.rank - 1;
  for (uint32_t i = 0; ok && i < v.rank; ++i) ok = v.shape[i] == want[i];
  if (!ok)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "%s has shape %s; logits of shape %s (classes on axis %u) need %s",
                     call.schema->slots[slot].name, shape_text(v.rank, v.shape).c_str(),
                     shape_text(x.rank, x.shape).c_str(), axis,
                     shape_text(x.rank - 1, want).c_str());
  View e = v;
  e.rank = x.rank;
  k = 0;
  for (uint32_t i = 0; i < x.rank; ++i) {
    if (i == axis) {
      e.shape[i] = 1;
      e.strides[i] = 0;
    } else {
      e.shape[i] = v.shape[k];
      e.strides[i] = v.strides[k];
      ++k;
    }
  }
  v = e;
  return CHORUS_OK;
}

// The loss (forward) or dloss (backward), slot 2: per sample for reduction
// none, else one value (rank 0).
chorus_status loss_shape(Call& call, uint32_t axis) {
  const auto& a = call.attrs_as<chorus_cross_entropy_attrs>();
  if (a.reduction == CHORUS_REDUCTION_NONE) return per_sample(call, 2, axis);
  View& v = call.views[2];
  if (v.rank != 0)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "%s has shape %s; reduction %s gives one value: pass a rank-0 tensor",
                     call.schema->slots[2].name, shape_text(v.rank, v.shape).c_str(),
                     kReductionNames[a.reduction]);
  const uint32_t rank = call.views[0].rank;
  v.rank = rank;
  for (uint32_t i = 0; i < rank; ++i) {
    v.shape[i] = 1;
    v.strides[i] = 0;
  }
  return CHORUS_OK;
}

chorus_status fill_value(Lowering& l, double value) {
  const chorus_fill_attrs attrs{sizeof attrs, 0, value};
  return l.run(CHORUS_OP_FILL, &attrs, {&l.op().views[2]});
}
chorus_status fill_zero(Lowering& l) { return fill_value(l, 0.0); }
chorus_status fill_nan(Lowering& l) { return fill_value(l, __builtin_nan("")); }

// Both ops: logits, target, loss or dloss, [dlogits].
chorus_status normalise(Call& call) {
  const auto& a = call.attrs_as<chorus_cross_entropy_attrs>();
  const View& x = call.views[0];
  if (x.rank == 0)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "logits has rank 0; it needs a class axis ([C], [N, C] or [N, C, ...])");
  const uint32_t axis = class_axis(x);
  if (x.shape[axis] == 0)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "logits has shape %s: its class axis (axis %u) is empty",
                     shape_text(x.rank, x.shape).c_str(), axis);
  if (!(a.label_smoothing >= 0.0 && a.label_smoothing <= 1.0))
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "label_smoothing is %g; it must be in [0, 1]", a.label_smoothing);
  const bool backward = call.slot_count == 4;
  const int64_t samples = x.numel() / x.shape[axis];
  if (backward)
    if (auto s = require_same_shape(call, 3, 0)) return s;
  if (auto s = per_sample(call, 1, axis)) return s;
  if (auto s = loss_shape(call, axis)) return s;
  uint32_t order[CHORUS_MAX_RANK];
  axes_last_order(x.rank, 1u << axis, order);
  for (uint32_t t = 0; t < call.slot_count; ++t) permute(call.views[t], order);
  call.inner_rank = 1;
  // No samples: the mean is 0/0 and the sum 0 (PyTorch's answers); the
  // gradient has no elements.
  if (!backward && samples == 0 && a.reduction != CHORUS_REDUCTION_NONE)
    call.replace_with = a.reduction == CHORUS_REDUCTION_MEAN ? fill_nan : fill_zero;
  return CHORUS_OK;
}

OpSchema loss_schema(chorus_op_kind kind, const char* name, const char* summary) {
  OpSchema s;
  s.kind = kind;
  s.name = name;
  s.family = "loss";
  s.summary = summary;
  s.attrs_size = sizeof(chorus_cross_entropy_attrs);
  s.attrs = {{"reduction", CHORUS_ATTR_ENUM, offsetof(chorus_cross_entropy_attrs, reduction),
              CHORUS_REDUCTION_MEAN, {std::begin(kReductionNames), std::end(kReductionNames)},
              {}, "chorus_loss_reduction"},
             {"ignore_index", CHORUS_ATTR_INT32,
              offsetof(chorus_cross_entropy_attrs, ignore_index), -100},
             {"label_smoothing", CHORUS_ATTR_DOUBLE,
              offsetof(chorus_cross_entropy_attrs, label_smoothing), 0}};
  s.form = NormalForm::rows;
  s.normalise = normalise;
  return s;
}

}  // namespace

void register_schema() {
  OpSchema f = loss_schema(CHORUS_OP_CROSS_ENTROPY, "cross_entropy",
                           "loss = cross-entropy of logits (classes on axis 1) against integer "
                           "targets, with ignore_index and label smoothing");
  f.slots = {{"logits", Role::input, false, kAnyFloat},
             {"target", Role::input, false, kSignedInts},
             {"loss", Role::output, false, kAnyFloat, 0}};
  register_op(std::move(f));

  OpSchema b = loss_schema(CHORUS_OP_CROSS_ENTROPY_BACKWARD, "cross_entropy_backward",
                           "dlogits = cross_entropy's gradient from logits, target and dloss");
  b.slots = {{"logits", Role::input, false, kAnyFloat},
             {"target", Role::input, false, kSignedInts},
             {"dloss", Role::input, false, kAnyFloat, 0},
             {"dlogits", Role::output, false, kAnyFloat, 0, 1u << 0}};
  register_op(std::move(b));
}

}  // namespace chorus::ops::loss

using chorus::core::run_op;

extern "C" {

CHORUS_API chorus_status chorus_cross_entropy(chorus_queue queue,
                                              const chorus_cross_entropy_attrs* attrs,
                                              const chorus_tensor* logits,
                                              const chorus_tensor* target,
                                              const chorus_tensor* loss) {
  return run_op(queue, CHORUS_OP_CROSS_ENTROPY, attrs, {logits, target, loss});
}

CHORUS_API chorus_status chorus_cross_entropy_backward(chorus_queue queue,
                                                       const chorus_cross_entropy_attrs* attrs,
                                                       const chorus_tensor* logits,
                                                       const chorus_tensor* target,
                                                       const chorus_tensor* dloss,
                                                       const chorus_tensor* dlogits) {
  return run_op(queue, CHORUS_OP_CROSS_ENTROPY_BACKWARD, attrs, {logits, target, dloss, dlogits});
}

}  // extern "C"
