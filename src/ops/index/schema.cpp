// schema.cpp — the index family in libchorus: gather and scatter-add along
// one axis (torch.gather, torch.Tensor.scatter_add_), and embedding lookup
// and its gradient (F.embedding), which are gather and scatter-add on views
// (docs/ops.md).
//
// Normal form of gather and scatter_add (NormalForm::custom, written here):
// three tensors of one rank r >= 1, the op's axis last (attrs.axis = r - 1),
// the axes before it ("p") collapsed jointly, with the same extents in all
// three tensors:
//   gather       x [p..., Dx], index [p..., M], out [p..., M]:
//                out[p, m] = x[p, index[p, m]] if 0 <= index[p, m] < Dx, else 0
//   scatter_add  index [p..., M], src [p..., M], out [p..., Do] (in-out):
//                out[p, j] = out[p, j] + (sum over m = 0, 1, ... of src[p, m]
//                where index[p, m] == j), the sum formed first, in increasing
//                m, in the compute type; out[p, j] keeps its bits when no m
//                aims at it.
// PyTorch lets x (gather), and src and out (scatter_add), be larger than
// index off the axis (src on the axis too) and uses their leading part:
// normalise() cuts them to index's extents, so the backends never see it.
// Any stride is allowed (0 included for the inputs: embedding's views rely
// on it).
//
// embedding and embedding_backward have no normal form of their own for the
// backends: their one composite is a gather or a scatter-add on views of
// their tensors (below); the reference implements them directly, as the
// oracle the composite is checked against.
#include "core/dispatch.hpp"
#include "core/op_schema.hpp"
#include "core/views.hpp"
#include "common/runs.hpp"

namespace chorus::ops::index {
namespace {

using namespace chorus::core;

// Rank 0 becomes rank 1 of extent 1 (one element, stride irrelevant).
void at_least_1d(View& v) {
  if (v.rank != 0) return;
  v.rank = 1;
  v.shape[0] = 1;
  v.strides[0] = 0;
}

// Cuts `slot` to index's extents on every axis but `keep` (keep = rank:
// none kept), after checking it is at least that long.
chorus_status cut_to_index(Call& call, uint32_t slot, uint32_t index_slot, uint32_t keep) {
  View& v = call.views[slot];
  const View& ix = call.views[index_slot];
  for (uint32_t k = 0; k < v.rank; ++k) {
    if (k == keep) continue;
    if (ix.shape[k] > v.shape[k])
      return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                       "index has extent %lld on axis %u, more than %s's %lld (index %s, %s %s)",
                       static_cast<long long>(ix.shape[k]), k, call.schema->slots[slot].name,
                       static_cast<long long>(v.shape[k]), shape_text(ix.rank, ix.shape).c_str(),
                       call.schema->slots[slot].name, shape_text(v.rank, v.shape).c_str());
    v.shape[k] = ix.shape[k];
  }
  return CHORUS_OK;
}

// The axis last in all three tensors, and the axes before it collapsed
// jointly (they have one set of extents by now).
void to_normal_form(Call& call, uint32_t axis, uint32_t walk_slot) {
  const uint32_t rank = call.views[0].rank;
  uint32_t order[CHORUS_MAX_RANK];
  axes_last_order(rank, 1u << axis, order);
  View lead[3];
  int64_t last_shape[3], last_stride[3];
  for (uint32_t t = 0; t < 3; ++t) {
    permute(call.views[t], order);
    lead[t] = call.views[t];
    lead[t].rank = rank - 1;
    last_shape[t] = call.views[t].shape[rank - 1];
    last_stride[t] = call.views[t].strides[rank - 1];
  }
  // With no leading axes (rank 1) the collapse keeps one of extent 1.
  collapse(lead, 3, walk_slot, 0, nullptr);
  for (uint32_t t = 0; t < 3; ++t) {
    View& v = call.views[t];
    v.rank = lead[t].rank + 1;
    for (uint32_t k = 0; k < lead[t].rank; ++k) {
      v.shape[k] = lead[t].shape[k];
      v.strides[k] = lead[t].strides[k];
    }
    v.shape[v.rank - 1] = last_shape[t];
    v.strides[v.rank - 1] = last_stride[t];
  }
  call.attrs_as<chorus_index_attrs>().axis = static_cast<int32_t>(call.views[0].rank) - 1;
}

chorus_status same_ranks(Call& call) {
  const View& a = call.views[0];
  for (uint32_t t = 1; t < 3; ++t) {
    const View& b = call.views[t];
    if (b.rank != a.rank)
      return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                       "%s has rank %u and %s rank %u; %s needs one rank for all three",
                       call.schema->slots[0].name, a.rank, call.schema->slots[t].name, b.rank,
                       call.schema->name);
  }
  return CHORUS_OK;
}

// gather: x, index, out.
chorus_status normalise_gather(Call& call) {
  if (auto s = same_ranks(call)) return s;
  uint32_t axis = 0;
  const uint32_t rank = call.views[0].rank == 0 ? 1 : call.views[0].rank;
  if (auto s = normalise_axis(call, "axis", call.attrs_as<chorus_index_attrs>().axis, rank, &axis))
    return s;
  for (uint32_t t = 0; t < 3; ++t) at_least_1d(call.views[t]);
  if (auto s = require_same_shape(call, 2, 1)) return s;
  if (auto s = cut_to_index(call, 0, 1, axis)) return s;
  to_normal_form(call, axis, 2);
  return CHORUS_OK;
}

// scatter_add: index, src, out.
chorus_status normalise_scatter_add(Call& call) {
  if (auto s = same_ranks(call)) return s;
  uint32_t axis = 0;
  const uint32_t rank = call.views[0].rank == 0 ? 1 : call.views[0].rank;
  if (auto s = normalise_axis(call, "axis", call.attrs_as<chorus_index_attrs>().axis, rank, &axis))
    return s;
  for (uint32_t t = 0; t < 3; ++t) at_least_1d(call.views[t]);
  if (auto s = cut_to_index(call, 1, 0, rank)) return s;
  if (auto s = cut_to_index(call, 2, 0, axis)) return s;
  // Nothing to add: out keeps every bit.
  if (call.views[0].numel() == 0) call.no_op = true;
  to_normal_form(call, axis, 2);
  return CHORUS_OK;
}

// ------------------------------------------------------------- embedding

constexpr uint32_t kMaxIndexRank = CHORUS_MAX_RANK - 1;

// table or dtable [V, D], index of rank <= 7, out or dy index's shape + [D].
chorus_status check_embedding(Call& call, uint32_t table, uint32_t index, uint32_t rows) {
  const View& t = call.views[table];
  const View& ix = call.views[index];
  const View& r = call.views[rows];
  const char* tn = call.schema->slots[table].name;
  const char* rn = call.schema->slots[rows].name;
  if (t.rank != 2)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "%s has shape %s; it must be [V, D]", tn,
                     shape_text(t.rank, t.shape).c_str());
  if (ix.rank > kMaxIndexRank)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "index has rank %u; at most %u is supported",
                     ix.rank, kMaxIndexRank);
  int64_t want[CHORUS_MAX_RANK];
  for (uint32_t k = 0; k < ix.rank; ++k) want[k] = ix.shape[k];
  want[ix.rank] = t.shape[1];
  bool ok = r.rank == ix.rank + 1;
  for (uint32_t k = 0; ok && k < r.rank; ++k) ok = r.shape[k] == want[k];
  if (!ok)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "%s has shape %s; index %s and %s %s need %s",
                     rn, shape_text(r.rank, r.shape).c_str(), shape_text(ix.rank, ix.shape).c_str(),
                     tn, shape_text(t.rank, t.shape).c_str(),
                     shape_text(ix.rank + 1, want).c_str());
  return CHORUS_OK;
}

chorus_status normalise_embedding(Call& call) {
  return check_embedding(call, 0, 1, 2);
}

chorus_status normalise_embedding_backward(Call& call) {
  return check_embedding(call, 2, 0, 1);
}

// embedding as gather: with index [S_0 .. S_(R-1)] (R >= 1; a rank-0 index
// is [1]), the gather runs on rank R + 1 views over the axes
// (S_0 .. S_(R-2), D, S_(R-1)), along the last:
//   x'     [S_0 .. S_(R-2), D, V]        table, stride 0 on the S axes
//   index' [S_0 .. S_(R-2), D, S_(R-1)]  index, stride 0 on D
//   out'   [S_0 .. S_(R-2), D, S_(R-1)]  out with its last two axes swapped
// so out'[s.., d, m] = x'[s.., d, index'[s.., d, m]] = table[index[s.., m], d].
chorus_status compose_embedding(Lowering& l) {
  const View* v = l.op().views;
  View table = v[0], ix = v[1], out = v[2];
  if (ix.rank == 0) {
    ix.rank = 1;
    ix.shape[0] = 1;
    ix.strides[0] = 0;
    out.rank = 2;
    out.shape[1] = out.shape[0];
    out.strides[1] = out.strides[0];
    out.shape[0] = 1;
    out.strides[0] = 0;
  }
  const uint32_t r = ix.rank;
  const int64_t d = table.shape[1];
  View x2 = table, ix2 = ix, out2 = out;
  x2.rank = ix2.rank = out2.rank = r + 1;
  for (uint32_t k = 0; k + 1 < r; ++k) {
    x2.shape[k] = ix.shape[k];
    x2.strides[k] = 0;
  }
  x2.shape[r - 1] = d;
  x2.strides[r - 1] = table.strides[1];
  x2.shape[r] = table.shape[0];
  x2.strides[r] = table.strides[0];
  ix2.shape[r - 1] = d;
  ix2.strides[r - 1] = 0;
  ix2.shape[r] = ix.shape[r - 1];
  ix2.strides[r] = ix.strides[r - 1];
  out2.shape[r - 1] = d;
  out2.strides[r - 1] = out.strides[r];
  out2.shape[r] = out.shape[r - 1];
  out2.strides[r] = out.strides[r - 1];
  const chorus_index_attrs attrs{sizeof attrs, static_cast<int32_t>(r)};
  return l.run(CHORUS_OP_GATHER, &attrs, {&x2, &ix2, &out2});
}

using chorus::common::one_run;

// embedding_backward as a fill of dtable and one scatter-add into it, with
// index and dy seen as N = numel(index) rows (a contiguous copy first where
// their index axes are not one run):
//   index' [D, N]  stride 0 on D,   src' = dy [D, N],   out' = dtable^T [D, V]
// so dtable[index[n], d] += dy[n, d], each element summing its rows in
// increasing n.
chorus_status compose_embedding_backward(Lowering& l) {
  const View* v = l.op().views;
  View ix = v[0], dy = v[1];
  const View& dtable = v[2];
  const uint32_t r = ix.rank;
  int64_t n = 1;
  for (uint32_t k = 0; k < r; ++k) n *= ix.shape[k];
  int64_t ix_stride = 0, dy_stride = 0;
  if (!one_run(ix, r, &ix_stride)) {
    const View copy = l.temporary(ix.dtype, ix.rank, ix.shape);
    if (auto s = l.run(CHORUS_OP_COPY, nullptr, {&ix, &copy})) return s;
    ix = copy;
    ix_stride = 1;
  }
  if (!one_run(dy, r, &dy_stride)) {
    const View copy = l.temporary(dy.dtype, dy.rank, dy.shape);
    if (auto s = l.run(CHORUS_OP_COPY, nullptr, {&dy, &copy})) return s;
    dy = copy;
    one_run(dy, r, &dy_stride);
  }
  const int64_t d = dtable.shape[1];
  View ix2 = ix, src2 = dy, out2 = dtable;
  ix2.rank = src2.rank = out2.rank = 2;
  ix2.shape[0] = d;
  ix2.strides[0] = 0;
  ix2.shape[1] = n;
  ix2.strides[1] = ix_stride;
  src2.shape[0] = d;
  src2.strides[0] = dy.strides[r];
  src2.shape[1] = n;
  src2.strides[1] = dy_stride;
  out2.shape[0] = d;
  out2.strides[0] = dtable.strides[1];
  out2.shape[1] = dtable.shape[0];
  out2.strides[1] = dtable.strides[0];
  const chorus_fill_attrs zero{sizeof zero, 0, 0.0};
  if (auto s = l.run(CHORUS_OP_FILL, &zero, {&dtable})) return s;
  const chorus_index_attrs attrs{sizeof attrs, 1};
  return l.run(CHORUS_OP_SCATTER_ADD, &attrs, {&ix2, &src2, &out2});
}

OpSchema index_schema(chorus_op_kind kind, const char* name, const char* summary) {
  OpSchema s;
  s.kind = kind;
  s.name = name;
  s.family = "index";
  s.summary = summary;
  s.form = NormalForm::custom;
  return s;
}

constexpr uint32_t kIndexDtypes = kSignedInts;

}  // namespace

void register_schema() {
  {
    OpSchema s =
        index_schema(CHORUS_OP_GATHER, "gather",
                     "out = x gathered along axis at index (i32/i64); out of range gives 0");
    s.slots = {{"x", Role::input, false, kAnyDtype},
               {"index", Role::input, false, kIndexDtypes},
               {"out", Role::output, false, kAnyDtype, 0}};
    s.attrs_size = sizeof(chorus_index_attrs);
    s.attrs = {{"axis", CHORUS_ATTR_INT32, offsetof(chorus_index_attrs, axis), 0}};
    s.normalise = normalise_gather;
    register_op(std::move(s));
  }
  {
    OpSchema s = index_schema(CHORUS_OP_SCATTER_ADD, "scatter_add",
                              "out[index] += src along axis, in place, in a fixed order (no "
                              "atomics); out of range skipped");
    s.slots = {{"index", Role::input, false, kIndexDtypes},
               {"src", Role::input, false, kAnyFloat | kSignedInts},
               {"out", Role::inout, false, kAnyFloat | kSignedInts, 1}};
    s.attrs_size = sizeof(chorus_index_attrs);
    s.attrs = {{"axis", CHORUS_ATTR_INT32, offsetof(chorus_index_attrs, axis), 0}};
    s.normalise = normalise_scatter_add;
    register_op(std::move(s));
  }
  {
    OpSchema s = index_schema(CHORUS_OP_EMBEDDING, "embedding",
                              "out = rows of table [V, D] picked by index (i32/i64); out of "
                              "range gives zeros");
    s.slots = {{"table", Role::input, false, kAnyDtype},
               {"index", Role::input, false, kIndexDtypes},
               {"out", Role::output, false, kAnyDtype, 0}};
    s.normalise = normalise_embedding;
    s.composites = {{"gather on views", compose_embedding}};
    register_op(std::move(s));
  }
  {
    OpSchema s = index_schema(CHORUS_OP_EMBEDDING_BACKWARD, "embedding_backward",
                              "dtable = rows of dy summed into the rows index picks, in a "
                              "fixed order");
    s.slots = {{"index", Role::input, false, kIndexDtypes},
               {"dy", Role::input, false, kAnyFloat},
               {"dtable", Role::output, false, kAnyFloat, 1}};
    s.normalise = normalise_embedding_backward;
    s.composites = {{"fill, scatter_add on views", compose_embedding_backward}};
    register_op(std::move(s));
  }
}

}  // namespace chorus::ops::index

extern "C" CHORUS_API chorus_status chorus_gather(chorus_queue queue, const chorus_tensor* x,
                                                  int32_t axis, const chorus_tensor* index,
                                                  const chorus_tensor* out) {
  const chorus_index_attrs attrs{sizeof attrs, axis};
  return chorus::core::run_op(queue, CHORUS_OP_GATHER, &attrs, {x, index, out});
}

extern "C" CHORUS_API chorus_status chorus_scatter_add(chorus_queue queue,
                                                       const chorus_tensor* index, int32_t axis,
                                                       const chorus_tensor* src,
                                                       const chorus_tensor* out) {
  const chorus_index_attrs attrs{sizeof attrs, axis};
  return chorus::core::run_op(queue, CHORUS_OP_SCATTER_ADD, &attrs, {index, src, out});
}

extern "C" CHORUS_API chorus_status chorus_embedding(chorus_queue queue, const chorus_tensor* table,
                                                     const chorus_tensor* index,
                                                     const chorus_tensor* out) {
  return chorus::core::run_op(queue, CHORUS_OP_EMBEDDING, nullptr, {table, index, out});
}

extern "C" CHORUS_API chorus_status chorus_embedding_backward(chorus_queue queue,
                                                              const chorus_tensor* index,
                                                              const chorus_tensor* dy,
                                                              const chorus_tensor* dtable) {
  return chorus::core::run_op(queue, CHORUS_OP_EMBEDDING_BACKWARD, nullptr, {index, dy, dtable});
}
