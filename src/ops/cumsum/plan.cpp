// plan.cpp — cumsum on the run-time-compiled backends: one launch of
// cumsum.cl over the rows form (backend.h): x and y [outer..., row], the
// row the last axis, both parts collapsed by libchorus; y may be x's very
// memory. One row per work-group of ROW_THREADS work-items (the tuning's;
// 1 on CPUs, which take RPG rows per work-group instead). Scans walk their
// segments one element at a time, so the program has VW 1.
#include <string>

#include "plan_kit.hpp"

namespace chorus::ops::cumsum {
namespace {

using namespace chorus::backend_common;

chorus_status plan_cumsum(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                          std::string* why) {
  if (const chorus_status s = check_record(op, 2, sizeof(chorus_cumsum_attrs), why)) return s;
  const auto a = attrs_of<chorus_cumsum_attrs>(op);
  const Tensor& x = op.tensors[0];
  if (x.rank == 0 || a.axis != static_cast<int32_t>(x.rank) - 1 ||
      x.dtype == CHORUS_DTYPE_U8 || op.tensors[1].dtype != x.dtype) {
    *why = "cumsum takes floats and signed integers along the last axis (the normal form)";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  const RowLayout r = row_layout(op, {0, 1}, 1);
  Launch l;
  l.program = row_program(traits, "cumsum", "cumsum.cl", x.dtype, r.layout, 1);
  row_grid(traits.tuning, r.args, &l);
  l.kernel = "cumsum";
  l.args = {buffer_arg(0), buffer_arg(1), bytes_arg(r.args), bytes_arg(int32_t{a.exclusive != 0}),
            bytes_arg(int32_t{a.reverse != 0})};
  patch_rows(l, 2, r);
  plan->launches.push_back(std::move(l));
  return CHORUS_OK;
}

// Each dtype over contiguous and strided rows (exclusive and reverse are
// arguments, not definitions).
void variants(std::vector<VariantOp>* out) {
  for (chorus_dtype d : all_dtypes()) {
    if (d == CHORUS_DTYPE_U8) continue;
    for (const Tensor& x : {tensor_of(d, {8, 16}, {16, 1}), tensor_of(d, {8, 16}, {1, 8})}) {
      chorus_cumsum_attrs a{};
      a.axis = 1;
      out->push_back(variant(CHORUS_OP_CUMSUM, a, {x, x}));
    }
  }
}

}  // namespace

void register_plan() {
  register_planner(CHORUS_OP_CUMSUM, plan_cumsum);
  register_variants(variants);
}

}  // namespace chorus::ops::cumsum
