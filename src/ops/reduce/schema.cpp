// schema.cpp — the reduce family in libchorus: reduce (sum, mean, max, min
// over any set of axes) and argmax (along one axis). Normal form: the
// reduced axes are moved last and form the row (NormalForm::rows); out has
// x's rank with extent 1 there, whichever form the caller gave it in.
// reduce's axes_mask then names the last axes, argmax's axis the last one.
#include <cstring>

#include "core/dispatch.hpp"
#include "core/op_schema.hpp"

namespace chorus::ops::reduce {
namespace {

using namespace chorus::core;

const char* const kReduceNames[] = {"sum", "mean", "max", "min"};
static_assert(sizeof kReduceNames / sizeof kReduceNames[0] == CHORUS_REDUCE_COUNT_);

// Accepts out either with x's rank and extent 1 on the reduced axes, or
// with those axes removed; rewrites it in the first form.
chorus_status keepdims_output(Call& call, uint32_t mask) {
  const View& x = call.views[0];
  View& out = call.views[1];
  View kept = out;
  kept.rank = x.rank;
  bool ok = true;
  if (out.rank == x.rank) {
    for (uint32_t i = 0; i < x.rank; ++i)
      if (out.shape[i] != ((mask & (1u << i)) ? 1 : x.shape[i])) ok = false;
  } else if (out.rank + static_cast<uint32_t>(__builtin_popcount(mask)) == x.rank) {
    uint32_t j = 0;
    for (uint32_t i = 0; i < x.rank; ++i) {
      if (mask & (1u << i)) {
        kept.shape[i] = 1;
        kept.strides[i] = 0;
      } else {
        if (out.shape[j] != x.shape[i]) ok = false;
        kept.shape[i] = out.shape[j];
        kept.strides[i] = out.strides[j];
        ++j;
      }
    }
  } else {
    ok = false;
  }
  if (!ok) {
    int64_t want[CHORUS_MAX_RANK];
    for (uint32_t i = 0; i < x.rank; ++i) want[i] = (mask & (1u << i)) ? 1 : x.shape[i];
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "out has shape %s; reducing x of shape %s needs %s (or without the reduced "
                     "axes)",
                     shape_text(out.rank, out.shape).c_str(), shape_text(x.rank, x.shape).c_str(),
                     shape_text(x.rank, want).c_str());
  }
  out = kept;
  return CHORUS_OK;
}

// Moves the axes in mask last in x and out; the row is those axes.
void rows_of(Call& call, uint32_t mask) {
  uint32_t order[CHORUS_MAX_RANK];
  axes_last_order(call.views[0].rank, mask, order);
  permute(call.views[0], order);
  permute(call.views[1], order);
  call.inner_rank = static_cast<uint32_t>(__builtin_popcount(mask));
}

chorus_status fill_zero(Lowering& l) {
  const chorus_fill_attrs zero{sizeof zero, 0, 0.0};
  return l.run(CHORUS_OP_FILL, &zero, {&l.op().views[1]});
}
chorus_status fill_nan(Lowering& l) {
  const chorus_fill_attrs nan{sizeof nan, 0, __builtin_nan("")};
  return l.run(CHORUS_OP_FILL, &nan, {&l.op().views[1]});
}

chorus_status normalise_reduce(Call& call) {
  auto& a = call.attrs_as<chorus_reduce_attrs>();
  const View& x = call.views[0];
  if (x.rank == 0)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "x has rank 0; nothing to reduce");
  const uint32_t valid = (1u << x.rank) - 1u;
  if (a.axes_mask == 0 || (a.axes_mask & ~valid))
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "axes_mask 0x%x must name at least one axis of x (rank %u)", a.axes_mask,
                     x.rank);
  if (auto s = keepdims_output(call, a.axes_mask)) return s;
  rows_of(call, a.axes_mask);
  if (call.views[1].numel() == 0 || call.views[0].numel() != 0) return CHORUS_OK;
  // A sum over nothing is 0 and a mean 0/0; a max or min has no answer.
  if (a.op == CHORUS_REDUCE_SUM) {
    call.replace_with = fill_zero;
  } else if (a.op == CHORUS_REDUCE_MEAN) {
    call.replace_with = fill_nan;
  } else {
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "cannot reduce an empty axis");
  }
  return CHORUS_OK;
}

void finish_reduce(Call& call) {
  const uint32_t rank = call.views[0].rank;
  call.attrs_as<chorus_reduce_attrs>().axes_mask = ((1u << call.inner_rank) - 1u)
                                                   << (rank - call.inner_rank);
}

chorus_status normalise_argmax(Call& call) {
  auto& a = call.attrs_as<chorus_argmax_attrs>();
  uint32_t axis = 0;
  if (auto s = normalise_axis(call, "axis", a.axis, call.views[0].rank, &axis)) return s;
  if (auto s = keepdims_output(call, 1u << axis)) return s;
  if (call.views[1].numel() != 0 && call.views[0].shape[axis] == 0)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "axis %u of x is empty; no index to return",
                     axis);
  rows_of(call, 1u << axis);
  return CHORUS_OK;
}

void finish_last_axis(Call& call) {
  call.attrs_as<chorus_argmax_attrs>().axis = static_cast<int32_t>(call.views[0].rank) - 1;
}

}  // namespace

void register_schema() {
  constexpr uint32_t sum_dtypes = kAnyFloat | kSignedInts;
  OpSchema reduce;
  reduce.kind = CHORUS_OP_REDUCE;
  reduce.name = "reduce";
  reduce.family = "reduce";
  reduce.summary = "out = sum, mean, max or min of x over the axes in axes_mask";
  reduce.slots = {{"x", Role::input}, {"out", Role::output, false, kAnyDtype, 0}};
  reduce.attrs_size = sizeof(chorus_reduce_attrs);
  reduce.attrs = {{"op", CHORUS_ATTR_ENUM, offsetof(chorus_reduce_attrs, op), 0,
                   {std::begin(kReduceNames), std::end(kReduceNames)},
                   {sum_dtypes, kAnyFloat, kAnyDtype, kAnyDtype}, "chorus_reduce_op"},
                  {"axes_mask", CHORUS_ATTR_UINT32, offsetof(chorus_reduce_attrs, axes_mask), 1}};
  reduce.variant_attr = 0;
  reduce.form = NormalForm::rows;
  reduce.normalise = normalise_reduce;
  reduce.finish = finish_reduce;
  register_op(std::move(reduce));

  OpSchema argmax;
  argmax.kind = CHORUS_OP_ARGMAX;
  argmax.name = "argmax";
  argmax.family = "reduce";
  argmax.summary = "out (i64) = index of the first largest element along axis (NaN largest)";
  argmax.slots = {{"x", Role::input}, {"out", Role::output, false, dtype_bit(CHORUS_DTYPE_I64)}};
  argmax.attrs_size = sizeof(chorus_argmax_attrs);
  argmax.attrs = {{"axis", CHORUS_ATTR_INT32, offsetof(chorus_argmax_attrs, axis), -1}};
  argmax.form = NormalForm::rows;
  argmax.normalise = normalise_argmax;
  argmax.finish = finish_last_axis;
  register_op(std::move(argmax));
}

}  // namespace chorus::ops::reduce

using chorus::core::run_op;

extern "C" {

CHORUS_API chorus_status chorus_reduce(chorus_queue queue, chorus_reduce_op op,
                                       const chorus_tensor* x, uint32_t axes_mask,
                                       const chorus_tensor* out) {
  chorus_reduce_attrs attrs{sizeof attrs, CHORUS_REDUCE_SUM, axes_mask};
  std::memcpy(&attrs.op, &op, sizeof attrs.op);  // as an int32: any value a C caller passes
  return run_op(queue, CHORUS_OP_REDUCE, &attrs, {x, out});
}

CHORUS_API chorus_status chorus_argmax(chorus_queue queue, const chorus_tensor* x, int32_t axis,
                                       const chorus_tensor* out) {
  const chorus_argmax_attrs attrs{sizeof attrs, axis};
  return run_op(queue, CHORUS_OP_ARGMAX, &attrs, {x, out});
}

}  // extern "C"
