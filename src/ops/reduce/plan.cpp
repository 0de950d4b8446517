// plan.cpp — the reduce family on the run-time-compiled backends: reduce
// (sum, mean, max, min) and argmax as launches of reduce.cl. The rows form
// arrives collapsed (backend.h): the reduced axes are the last
// popcount(axes_mask) axes of x (argmax: the last one), out has extent 1
// and stride 0 there. Few long rows are split into chunks so every compute
// unit has work; a second kernel combines the partial results in chunk
// order.
#include <algorithm>
#include <string>

#include "plan_kit.hpp"

namespace chorus::ops::reduce {
namespace {

using namespace chorus::backend_common;

const char* const kReduceKernels[] = {"sum", "mean", "max", "min"};
static_assert(sizeof kReduceKernels / sizeof kReduceKernels[0] == CHORUS_REDUCE_COUNT_);

// Few long rows: split each into chunks so every compute unit has work;
// the partial results are combined by a second kernel in chunk order.
void choose_chunks(const Tuning& t, ck_rows* a, int vw) {
  const int64_t wanted_groups = 64;
  const int64_t min_chunk = 16384;
  if (a->rows >= wanted_groups || a->n < 2 * min_chunk) return;
  int64_t chunks = std::min<int64_t>((wanted_groups + a->rows - 1) / a->rows, a->n / min_chunk);
  chunks = std::min<int64_t>(chunks, 1024);
  if (chunks <= 1) return;
  const int64_t step = static_cast<int64_t>(t.row_threads) * vw;
  a->chunk = static_cast<int64_t>(
      round_up(static_cast<uint64_t>((a->n + chunks - 1) / chunks), static_cast<uint64_t>(step)));
  a->chunks = (a->n + a->chunk - 1) / a->chunk;
}

int accumulator_size(chorus_dtype d) {
  if (is_int(d) || d == CHORUS_DTYPE_F64) return 8;
  return 4;
}

// reduce and argmax: x [outer..., row...] into out (extent 1 on the row).
chorus_status plan_rows(const chorus_op_record& op, const DeviceTraits& traits, bool argmax,
                        int subop, uint32_t inner, Plan* plan, std::string* why) {
  const Tensor& x = op.tensors[0];
  if (inner == 0 || inner > x.rank || op.tensors[1].rank != x.rank) {
    *why = "the op is not in the rows form (reduced axes last)";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  RowLayout r = row_layout(op, {0, 1}, inner);
  const int vw = row_vw(traits.tuning, x.dtype);
  choose_chunks(traits.tuning, &r.args, vw);
  ProgramSpec p = row_program(traits, "reduce", "reduce.cl", x.dtype, r.layout, vw);
  Launch l;
  l.program = p;
  l.kernel = argmax ? "argmax" : std::string("reduce_") + kReduceKernels[subop];
  row_grid(traits.tuning, r.args, &l);
  l.args = {buffer_arg(0), buffer_arg(1), scratch_arg(0)};
  if (argmax) l.args.push_back(scratch_arg(1));
  l.args.push_back(bytes_arg(r.args));
  patch_rows(l, l.args.size() - 1, r);
  plan->launches.push_back(std::move(l));
  if (r.args.chunks > 1) {
    const uint64_t parts = static_cast<uint64_t>(r.args.rows * r.args.chunks);
    plan->scratch_bytes[0] = parts * accumulator_size(x.dtype);
    if (argmax) plan->scratch_bytes[1] = parts * 8;
    Launch f;
    f.program = std::move(p);
    f.kernel = argmax ? "argmax_finish" : std::string("reduce_") + kReduceKernels[subop] + "_finish";
    f.dims = 1;
    f.local[0] = 64;
    f.global[0] = round_up(static_cast<uint64_t>(r.args.rows), 64);
    f.args = {scratch_arg(0)};
    if (argmax) f.args.push_back(scratch_arg(1));
    f.args.push_back(buffer_arg(1));
    f.args.push_back(bytes_arg(r.args));
    patch_rows(f, f.args.size() - 1, r);
    plan->launches.push_back(std::move(f));
  }
  return CHORUS_OK;
}

chorus_status plan_reduce(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                          std::string* why) {
  if (const chorus_status s = check_record(op, 2, sizeof(chorus_reduce_attrs), why)) return s;
  const auto a = attrs_of<chorus_reduce_attrs>(op);
  const int subop = static_cast<int>(a.op);
  if (subop < 0 || subop >= CHORUS_REDUCE_COUNT_) {
    *why = "reduce op " + std::to_string(subop) + " is not one this backend knows";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  const chorus_dtype d = op.tensors[0].dtype;
  if ((subop == CHORUS_REDUCE_SUM && d == CHORUS_DTYPE_U8) ||
      (subop == CHORUS_REDUCE_MEAN && is_int(d))) {
    *why = std::string("reduce ") + kReduceKernels[subop] + " has no kernel for " + dtype_name(d);
    return CHORUS_ERROR_UNSUPPORTED;
  }
  const uint32_t rank = op.tensors[0].rank;
  const auto inner = static_cast<uint32_t>(__builtin_popcount(a.axes_mask));
  if (inner == 0 || inner > rank || a.axes_mask != ((1u << inner) - 1u) << (rank - inner)) {
    *why = "axes_mask does not name the last axes of x (the normal form)";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  return plan_rows(op, traits, false, subop, inner, plan, why);
}

chorus_status plan_argmax(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                          std::string* why) {
  if (const chorus_status s = check_record(op, 2, sizeof(chorus_argmax_attrs), why)) return s;
  const auto a = attrs_of<chorus_argmax_attrs>(op);
  if (a.axis != static_cast<int32_t>(op.tensors[0].rank) - 1) {
    *why = "argmax's axis is not x's last (the normal form)";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  return plan_rows(op, traits, true, 0, 1, plan, why);
}

// Every reduce program: each dtype over contiguous rows, strided
// (transposed) rows, long rows split into chunks, many short rows, and rows
// of two axes that do not merge (ROW_GENERIC).
void variants(std::vector<VariantOp>* out) {
  for (chorus_dtype d : all_dtypes()) {
    const Tensor xs[] = {tensor_of(d, {8, 16}, {16, 1}), tensor_of(d, {8, 16}, {1, 8}),
                         tensor_of(d, {2, 1 << 20}, {1 << 20, 1}), tensor_of(d, {1 << 16, 3}, {3, 1})};
    for (const Tensor& x : xs) {
      Tensor o = tensor_of(d, {x.shape[0], 1}, {1, 0});
      for (int r = 0; r < CHORUS_REDUCE_COUNT_; ++r) {
        if ((r == CHORUS_REDUCE_SUM && d == CHORUS_DTYPE_U8) ||
            (r == CHORUS_REDUCE_MEAN && is_int(d)))
          continue;
        chorus_reduce_attrs a{};
        a.op = static_cast<chorus_reduce_op>(r);
        a.axes_mask = 2;
        out->push_back(variant(CHORUS_OP_REDUCE, a, {x, o}));
      }
      o.dtype = CHORUS_DTYPE_I64;
      chorus_argmax_attrs arg{};
      arg.axis = 1;
      out->push_back(variant(CHORUS_OP_ARGMAX, arg, {x, o}));
    }
    for (int r = 0; r < CHORUS_REDUCE_COUNT_; ++r) {
      if ((r == CHORUS_REDUCE_SUM && d == CHORUS_DTYPE_U8) || (r == CHORUS_REDUCE_MEAN && is_int(d)))
        continue;
      chorus_reduce_attrs a{};
      a.op = static_cast<chorus_reduce_op>(r);
      a.axes_mask = 6;
      out->push_back(variant(CHORUS_OP_REDUCE, a,
                             {tensor_of(d, {4, 3, 5}, {1, 4, 12}), tensor_of(d, {4, 1, 1}, {1, 0, 0})}));
    }
  }
}

}  // namespace

void register_plan() {
  register_planner(CHORUS_OP_REDUCE, plan_reduce);
  register_planner(CHORUS_OP_ARGMAX, plan_argmax);
  register_variants(variants);
}

}  // namespace chorus::ops::reduce
