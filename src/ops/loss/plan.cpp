// plan.cpp — cross-entropy and its gradient on the run-time-compiled
// backends: loss.cl over the rows form (backend.h: the class axis last;
// target and a per-sample loss with extent 1 there, a reduced loss or dloss
// with extent 1 everywhere). One program per (dtype, row layout, target
// dtype).
//   forward, reduction none: cross_entropy_rows writes each row's loss;
//   forward, mean or sum: cross_entropy_rows writes (loss, counted) per row
//     to scratch 0, cross_entropy_finish (one work-group) adds them in a
//     fixed order;
//   backward: for mean, cross_entropy_count (one work-group) counts the
//     samples not ignored into scratch 0; cross_entropy_backward_rows writes dlogits.
#include <string>

#include "plan_kit.hpp"

namespace chorus::ops::loss {
namespace {

using namespace chorus::backend_common;

chorus_status plan_cross_entropy(const chorus_op_record& op, const DeviceTraits& traits,
                                 Plan* plan, std::string* why) {
  const bool backward = op.kind == CHORUS_OP_CROSS_ENTROPY_BACKWARD;
  if (const chorus_status s =
          check_record(op, backward ? 4 : 3, sizeof(chorus_cross_entropy_attrs), why))
    return s;
  const auto a = attrs_of<chorus_cross_entropy_attrs>(op);
  const Tensor& x = op.tensors[0];
  const chorus_dtype td = op.tensors[1].dtype;
  if (x.rank == 0 || is_int(x.dtype) || (td != CHORUS_DTYPE_I32 && td != CHORUS_DTYPE_I64) ||
      a.reduction < CHORUS_REDUCTION_NONE || a.reduction >= CHORUS_REDUCTION_COUNT_) {
    *why = "cross-entropy takes float logits, i32/i64 targets and a known reduction";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  const bool per_sample = a.reduction == CHORUS_REDUCTION_NONE;
  const bool mean = a.reduction == CHORUS_REDUCTION_MEAN;
  const RowLayout r = backward ? row_layout(op, {0, 1, 2, 3}, 1) : row_layout(op, {0, 1, 2}, 1);
  ProgramSpec program = row_program(traits, "loss", "loss.cl", x.dtype, r.layout,
                                    row_vw(traits.tuning, x.dtype));
  program.defines.push_back({"TGT", td == CHORUS_DTYPE_I64 ? "I64" : "I32"});
  const int acc = x.dtype == CHORUS_DTYPE_F64 ? 8 : 4;
  const int64_t rows = r.args.rows;
  // One work-group of the row threads (loss.cl: a fixed-order sum over rows).
  const auto single = [&](const char* kernel) {
    Launch l;
    l.program = program;
    l.kernel = kernel;
    l.dims = 1;
    l.local[0] = static_cast<uint64_t>(traits.tuning.row_threads);
    l.global[0] = l.local[0];
    return l;
  };
  if (!backward) {
    if (rows == 0) return CHORUS_OK;  // libchorus fills a reduced loss itself
    Launch l;
    l.program = program;
    l.kernel = "cross_entropy_rows";
    row_grid(traits.tuning, r.args, &l);
    l.args = {buffer_arg(0),
              buffer_arg(1),
              per_sample ? buffer_arg(2) : null_arg(),
              per_sample ? null_arg() : scratch_arg(0),
              bytes_arg(r.args),
              bytes_arg(int32_t{per_sample}),
              bytes_arg(a.ignore_index),
              accumulator_arg(x.dtype, a.label_smoothing)};
    patch_rows(l, 4, r);
    plan->launches.push_back(std::move(l));
    if (!per_sample) {
      plan->scratch_bytes[0] = static_cast<uint64_t>(rows * 2 * acc);
      Launch f = single("cross_entropy_finish");
      f.args = {scratch_arg(0), buffer_arg(2), bytes_arg(rows), bytes_arg(int32_t{mean}),
                bytes_arg(int64_t{0})};
      patch_offset(f, 4, 0, 2);
      plan->launches.push_back(std::move(f));
    }
    return CHORUS_OK;
  }
  if (rows == 0 || r.args.n == 0) return CHORUS_OK;
  if (mean) {
    plan->scratch_bytes[0] = static_cast<uint64_t>(acc);
    Launch c = single("cross_entropy_count");
    c.args = {buffer_arg(1), scratch_arg(0), bytes_arg(r.args), bytes_arg(a.ignore_index)};
    patch_rows(c, 2, r);
    plan->launches.push_back(std::move(c));
  }
  Launch l;
  l.program = program;
  l.kernel = "cross_entropy_backward_rows";
  row_grid(traits.tuning, r.args, &l);
  l.args = {buffer_arg(0),
            buffer_arg(1),
            buffer_arg(2),
            buffer_arg(3),
            mean ? scratch_arg(0) : null_arg(),
            bytes_arg(r.args),
            bytes_arg(int32_t{mean}),
            bytes_arg(a.ignore_index),
            accumulator_arg(x.dtype, a.label_smoothing)};
  patch_rows(l, 5, r);
  plan->launches.push_back(std::move(l));
  return CHORUS_OK;
}

// Each float dtype x target dtype over contiguous and strided rows, per
// sample and reduced.
void variants(std::vector<VariantOp>* out) {
  for (chorus_dtype d : float_dtypes())
    for (chorus_dtype td : {CHORUS_DTYPE_I32, CHORUS_DTYPE_I64}) {
      const Tensor xs[] = {tensor_of(d, {8, 16}, {16, 1}), tensor_of(d, {8, 16}, {1, 8})};
      for (const Tensor& x : xs) {
        const Tensor t = tensor_of(td, {8, 1}, {1, 0});
        const Tensor each = tensor_of(d, {8, 1}, {1, 0});
        const Tensor one = tensor_of(d, {1, 1}, {0, 0});
        for (const auto reduction : {CHORUS_REDUCTION_NONE, CHORUS_REDUCTION_MEAN}) {
          chorus_cross_entropy_attrs a{};
          a.reduction = reduction;
          a.ignore_index = -100;
          const Tensor& l = reduction == CHORUS_REDUCTION_NONE ? each : one;
          out->push_back(variant(CHORUS_OP_CROSS_ENTROPY, a, {x, t, l}));
          out->push_back(variant(CHORUS_OP_CROSS_ENTROPY_BACKWARD, a, {x, t, l, x}));
        }
      }
    }
}

}  // namespace

void register_plan() {
  register_planner(CHORUS_OP_CROSS_ENTROPY, plan_cross_entropy);
  register_planner(CHORUS_OP_CROSS_ENTROPY_BACKWARD, plan_cross_entropy);
  register_variants(variants);
}

}  // namespace chorus::ops::loss
