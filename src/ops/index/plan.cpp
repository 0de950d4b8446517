// plan.cpp — gather and scatter_add on the run-time-compiled backends: one
// launch of index.cl, one work-item per element of out, in the normal form
// of schema.cpp (three operands of one rank, the axis last). Programs per
// (data dtype, index dtype); shapes and strides travel in ck_index.
// embedding reaches these backends as gather (its composite);
// embedding_backward has a kernel of its own for f32/f64 tables (below),
// which gives the composite's bits at a fraction of its cost.
#include <string>
#include <utility>

#include "common/runs.hpp"
#include "plan_kit.hpp"

namespace chorus::ops::index {
namespace {

using namespace chorus::backend_common;

ProgramSpec index_program(const DeviceTraits& traits, const char* what, chorus_dtype d,
                          chorus_dtype index) {
  ProgramSpec p =
      walk_program(traits, std::string(what) + " " + dtype_name(d) + " " + dtype_name(index),
                   "index.cl", d, false);
  p.defines.push_back({"IT", index == CHORUS_DTYPE_I64 ? "I64" : "I32"});
  return p;
}

// The ck_index of a record whose tensor `walk` is out: every operand at
// out's position, `along` (a bit per operand) indexed along the axis by the
// kernel, its stride there moved to axis_stride.
ck_index index_args(const chorus_op_record& op, uint32_t along, int64_t extent) {
  const Tensor* operands[3] = {&op.tensors[0], &op.tensors[1], &op.tensors[2]};
  ck_index a{};
  fill_walk(op.tensors[2], operands, 3, &a);
  const int64_t last = a.rank - 1;
  for (int t = 0; t < 3; ++t) {
    a.axis_stride[t] = op.tensors[t].strides[last];
    if (along & (1u << t)) a.strides[t][last] = 0;
  }
  a.extent = extent;
  return a;
}

// gather's walk in any axis order: out's axes sorted by stride, largest
// first, so neighbouring work-items write neighbouring memory (embedding's
// view walks its table's rows this way, not down its columns), then
// neighbours merged where all three operands step over both as one run.
void fastest_out_last(ck_index* a) {
  const int rank = static_cast<int>(a->rank);
  for (int k = 1; k < rank; ++k)
    for (int j = k; j > 0 && a->strides[2][j] > a->strides[2][j - 1]; --j) {
      std::swap(a->shape[j], a->shape[j - 1]);
      for (int t = 0; t < 3; ++t) std::swap(a->strides[t][j], a->strides[t][j - 1]);
    }
  int kept = 0;
  for (int k = 0; k < rank; ++k) {
    bool merge = kept > 0;
    for (int t = 0; t < 3 && merge; ++t)
      merge = a->strides[t][kept - 1] == a->strides[t][k] * a->shape[k];
    if (merge) {
      a->shape[kept - 1] *= a->shape[k];
      for (int t = 0; t < 3; ++t) a->strides[t][kept - 1] = a->strides[t][k];
    } else {
      a->shape[kept] = a->shape[k];
      for (int t = 0; t < 3; ++t) a->strides[t][kept] = a->strides[t][k];
      ++kept;
    }
  }
  a->rank = kept;
}

bool normal(const chorus_op_record& op, std::string* why) {
  const Tensor& out = op.tensors[2];
  const int32_t axis = attrs_of<chorus_index_attrs>(op).axis;
  bool ok = out.rank >= 1 && axis == static_cast<int32_t>(out.rank) - 1;
  for (int t = 0; ok && t < 2; ++t) ok = op.tensors[t].rank == out.rank;
  for (uint32_t k = 0; ok && k + 1 < out.rank; ++k)
    ok = op.tensors[0].shape[k] == out.shape[k] && op.tensors[1].shape[k] == out.shape[k];
  if (!ok) *why = "gather and scatter_add take their normal form (three tensors, the axis last)";
  return ok;
}

// Positions per work-item of gather: one on GPUs (neighbouring work-items
// on neighbouring memory), a run of 16 on CPUs (row_threads 1), stepping
// along the innermost axis instead of dividing for every element.
int gather_run(const DeviceTraits& traits) {
  return traits.tuning.row_threads == 1 ? 16 : 1;
}

// A launch of `kernel` over `args` with `run` positions per work-item
// (GATHER_RUN; scatter_add takes one).
void add_launch(Plan* plan, const DeviceTraits& traits, const char* kernel, chorus_dtype d,
                chorus_dtype index, const ck_index& args, int run = 1) {
  Launch l;
  l.program = index_program(traits, kernel, d, index);
  l.kernel = kernel;
  if (run > 1) l.program.defines.push_back({"GATHER_RUN", std::to_string(run)});
  const uint64_t items = (static_cast<uint64_t>(args.count) + static_cast<uint64_t>(run) - 1) /
                         static_cast<uint64_t>(run);
  linear_grid(traits.tuning, items, &l);
  l.args = {buffer_arg(0), buffer_arg(1), buffer_arg(2), bytes_arg(args)};
  for (int t = 0; t < 3; ++t)
    patch_offset(l, 3, offsetof(ck_index, offset) + 8 * static_cast<size_t>(t), t);
  plan->launches.push_back(std::move(l));
}

bool index_dtype(chorus_dtype d) {
  return d == CHORUS_DTYPE_I32 || d == CHORUS_DTYPE_I64;
}

chorus_status plan_gather(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                          std::string* why) {
  if (const chorus_status s = check_record(op, 3, sizeof(chorus_index_attrs), why)) return s;
  if (!normal(op, why)) return CHORUS_ERROR_UNSUPPORTED;
  const Tensor& x = op.tensors[0];
  const Tensor& ix = op.tensors[1];
  if (!index_dtype(ix.dtype) || op.tensors[2].dtype != x.dtype) {
    *why = "gather takes an i32 or i64 index and out of x's dtype";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  ck_index args = index_args(op, 1u << 0, x.shape[x.rank - 1]);
  fastest_out_last(&args);
  add_launch(plan, traits, "gather", x.dtype, ix.dtype, args, gather_run(traits));
  return CHORUS_OK;
}

chorus_status plan_scatter_add(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                               std::string* why) {
  if (const chorus_status s = check_record(op, 3, sizeof(chorus_index_attrs), why)) return s;
  if (!normal(op, why)) return CHORUS_ERROR_UNSUPPORTED;
  const Tensor& ix = op.tensors[0];
  const Tensor& out = op.tensors[2];
  if (!index_dtype(ix.dtype) || out.dtype == CHORUS_DTYPE_U8 || op.tensors[1].dtype != out.dtype) {
    *why =
        "scatter_add takes an i32 or i64 index, and src and out of one float or signed "
        "integer dtype";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  add_launch(plan, traits, "scatter_add", out.dtype, ix.dtype,
             index_args(op, (1u << 0) | (1u << 1), ix.shape[ix.rank - 1]));
  return CHORUS_OK;
}

using chorus::common::one_run;

constexpr int64_t kEmbeddingBlock = 32;  // columns per work-item

// embedding_backward arrives as the caller passed it (index, dy
// [index..., D], dtable [V, D]). Its kernel takes f32 and f64 tables whose
// index and dy rows are each one run; anything else is UNSUPPORTED here and
// runs as the composite (fill and scatter-add, copies first), which gives
// the same bits.
chorus_status plan_embedding_backward(const chorus_op_record& op, const DeviceTraits& traits,
                                      Plan* plan, std::string* why) {
  if (const chorus_status s = check_record(op, 3, 0, why)) return s;
  const Tensor& ix = op.tensors[0];
  const Tensor& dy = op.tensors[1];
  const Tensor& table = op.tensors[2];
  ck_embedding a{};
  if (!index_dtype(ix.dtype) || table.rank != 2 || dy.rank != ix.rank + 1 ||
      (table.dtype != CHORUS_DTYPE_F32 && table.dtype != CHORUS_DTYPE_F64) ||
      dy.dtype != table.dtype || !one_run(ix, ix.rank, &a.index_stride) ||
      !one_run(dy, ix.rank, &a.dy_row_stride)) {
    *why =
        "embedding_backward's kernel takes f32/f64 tables with index and dy rows in one run "
        "each (the composite takes the rest)";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  a.n = 1;
  for (uint32_t k = 0; k < ix.rank; ++k) a.n *= ix.shape[k];
  a.v = table.shape[0];
  a.d = table.shape[1];
  a.block = kEmbeddingBlock;
  a.blocks = (a.d + a.block - 1) / a.block;
  a.dy_col_stride = dy.strides[ix.rank];
  a.table_row_stride = table.strides[0];
  a.table_col_stride = table.strides[1];
  Launch l;
  l.program = index_program(traits, "embedding_backward", table.dtype, ix.dtype);
  l.kernel = "embedding_backward";
  linear_grid(traits.tuning, static_cast<uint64_t>(a.v * a.blocks), &l);
  l.args = {buffer_arg(0), buffer_arg(1), buffer_arg(2), bytes_arg(a)};
  for (int t = 0; t < 3; ++t)
    patch_offset(l, 3, offsetof(ck_embedding, offset) + 8 * static_cast<size_t>(t), t);
  plan->launches.push_back(std::move(l));
  return CHORUS_OK;
}

// Each dtype with both index dtypes: gather for every dtype, scatter_add for
// floats and signed integers.
void variants(std::vector<VariantOp>* out) {
  for (chorus_dtype d : all_dtypes())
    for (chorus_dtype it : {CHORUS_DTYPE_I32, CHORUS_DTYPE_I64}) {
      chorus_index_attrs a{};
      a.axis = 1;
      const Tensor data = tensor_of(d, {4, 8}, {8, 1});
      const Tensor ix = tensor_of(it, {4, 5}, {5, 1});
      const Tensor small = tensor_of(d, {4, 5}, {5, 1});
      out->push_back(variant(CHORUS_OP_GATHER, a, {data, ix, small}));
      if (d == CHORUS_DTYPE_U8) continue;
      out->push_back(variant(CHORUS_OP_SCATTER_ADD, a, {ix, small, data}));
      if (d == CHORUS_DTYPE_F32 || d == CHORUS_DTYPE_F64)
        out->push_back(variant(CHORUS_OP_EMBEDDING_BACKWARD,
                               {tensor_of(it, {6}, {1}), tensor_of(d, {6, 8}, {8, 1}), data}));
    }
}

}  // namespace

void register_plan() {
  register_planner(CHORUS_OP_GATHER, plan_gather);
  register_planner(CHORUS_OP_SCATTER_ADD, plan_scatter_add);
  register_planner(CHORUS_OP_EMBEDDING_BACKWARD, plan_embedding_backward);
  register_variants(variants);
}

}  // namespace chorus::ops::index
