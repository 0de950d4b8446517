// schema.cpp — cumsum in libchorus: running sums along one axis, inclusive
// or exclusive, forwards or reversed (docs/ops.md). Normal form: the axis
// moved last, the row (NormalForm::rows, one row axis); y has x's shape and
// may be x itself (a scan in place). Floats accumulate in f32 (f64 for f64),
// integers wrap, like reduce's sum.
#include "core/dispatch.hpp"
#include "core/op_schema.hpp"

namespace chorus::ops::cumsum {
namespace {

using namespace chorus::core;

chorus_status normalise(Call& call) {
  auto& a = call.attrs_as<chorus_cumsum_attrs>();
  if (auto s = require_same_shape(call, 1, 0)) return s;
  uint32_t axis = 0;
  if (auto s = normalise_axis(call, "axis", a.axis, call.views[0].rank, &axis)) return s;
  uint32_t order[CHORUS_MAX_RANK];
  axes_last_order(call.views[0].rank, 1u << axis, order);
  permute(call.views[0], order);
  permute(call.views[1], order);
  call.inner_rank = 1;
  return CHORUS_OK;
}

void finish(Call& call) {
  call.attrs_as<chorus_cumsum_attrs>().axis = static_cast<int32_t>(call.views[0].rank) - 1;
}

}  // namespace

void register_schema() {
  constexpr uint32_t dtypes = kAnyFloat | kSignedInts;
  OpSchema s;
  s.kind = CHORUS_OP_CUMSUM;
  s.name = "cumsum";
  s.family = "cumsum";
  s.summary = "y = running sums of x along axis (inclusive or exclusive, forwards or reversed)";
  s.slots = {{"x", Role::input, false, dtypes}, {"y", Role::output, false, dtypes, 0, 1u << 0}};
  s.attrs_size = sizeof(chorus_cumsum_attrs);
  s.attrs = {{"axis", CHORUS_ATTR_INT32, offsetof(chorus_cumsum_attrs, axis), -1},
             {"exclusive", CHORUS_ATTR_BOOL, offsetof(chorus_cumsum_attrs, exclusive)},
             {"reverse", CHORUS_ATTR_BOOL, offsetof(chorus_cumsum_attrs, reverse)}};
  s.form = NormalForm::rows;
  s.normalise = normalise;
  s.finish = finish;
  register_op(std::move(s));
}

}  // namespace chorus::ops::cumsum

extern "C" CHORUS_API chorus_status chorus_cumsum(chorus_queue queue, const chorus_tensor* x,
                                                  int32_t axis, int32_t exclusive,
                                                  int32_t reverse, const chorus_tensor* y) {
  const chorus_cumsum_attrs attrs{sizeof attrs, axis, exclusive ? 1 : 0, reverse ? 1 : 0};
  return chorus::core::run_op(queue, CHORUS_OP_CUMSUM, &attrs, {x, y});
}
