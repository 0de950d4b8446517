// kokkos.cpp — gather and scatter_add on the Kokkos backend, in the normal
// form of schema.cpp (three tensors of one rank, the axis last): a
// RangePolicy over the elements of out, each work item finding its operands
// through a Walk over out's shape with the axis's stride zeroed for the
// operands it indexes along the axis itself. The same arithmetic as
// index.cl: gather copies bits (0 out of range); scatter_add's element j
// scans its row's index entries in order, sums the matching src values in
// the compute type and stores out + sum once, or leaves out alone. No
// atomics: the same bits run after run. embedding runs as gather (its
// composite); embedding_backward has a kernel here too (below).
#include <cstring>
#include <utility>

#include "common/runs.hpp"
#include "kokkos_ops.hpp"

namespace chorus::ops::index {

using namespace chorus::kokkos;

struct AlongAxis {
  int64_t extent;     // gather: x's extent on the axis; scatter_add: index's
  int64_t stride[3];  // each operand's stride on the axis
  int64_t row;        // out's extent on the axis
};

template <typename Index>
KOKKOS_INLINE_FUNCTION int64_t load_index(const unsigned char* p, int64_t e) {
  return static_cast<int64_t>(load_bits<Index>(p, e));
}

template <typename Raw, typename Index>
void gather_kernel(const Exec& exec, const Walk<3>& walk, const AlongAxis& ax,
                   const unsigned char* x, const unsigned char* ix, unsigned char* out) {
  Kokkos::parallel_for(
      "chorus::gather", Range(exec, 0, walk.count), KOKKOS_LAMBDA(int64_t i) {
        int64_t at[3];
        walk.locate(i, at);
        const int64_t j = load_index<Index>(ix, at[1]);
        const Raw v =
            (j >= 0 && j < ax.extent) ? load_bits<Raw>(x, at[0] + j * ax.stride[0]) : Raw(0);
        store_bits<Raw>(out, at[2], v);
      });
}

template <chorus_dtype D, typename Index>
void scatter_add_kernel(const Exec& exec, const Walk<3>& walk, const AlongAxis& ax,
                        const unsigned char* ix, const unsigned char* src, unsigned char* out) {
  using S = Storage<D>;
  using CT = typename S::compute;
  // Integers sum as wrapping 64-bit bits.
  using Sum = std::conditional_t<is_integer_dtype(D), uint64_t, CT>;
  Kokkos::parallel_for(
      "chorus::scatter_add", Range(exec, 0, walk.count), KOKKOS_LAMBDA(int64_t i) {
        int64_t at[3];
        walk.locate(i, at);
        const int64_t j = i % ax.row;
        Sum sum = Sum(0);
        bool hit = false;
        for (int64_t m = 0; m < ax.extent; ++m)
          if (load_index<Index>(ix, at[0] + m * ax.stride[0]) == j) {
            sum += static_cast<Sum>(S::load(src, at[1] + m * ax.stride[1]));
            hit = true;
          }
        if (hit) S::store(out, at[2], static_cast<CT>(static_cast<Sum>(S::load(out, at[2])) + sum));
      });
}

bool normal(const BoundOp& op) {
  const chorus_backend_tensor& out = op[2];
  if (out.rank < 1 || attrs_of<chorus_index_attrs>(op).axis != static_cast<int32_t>(out.rank) - 1)
    return false;
  for (uint32_t t = 0; t < 2; ++t) {
    if (op[t].rank != out.rank) return false;
    for (uint32_t k = 0; k + 1 < out.rank; ++k)
      if (op[t].shape[k] != out.shape[k]) return false;
  }
  return true;
}

bool index_dtype(chorus_dtype d) {
  return d == CHORUS_DTYPE_I32 || d == CHORUS_DTYPE_I64;
}

chorus_status check_gather(const BoundOp& op) {
  if (!normal(op)) return unsupported("gather", "not the normal form (the axis last)");
  if (!index_dtype(op[1].dtype)) return unsupported_dtype("gather", op[1].dtype);
  if (!is_known_dtype(op[0].dtype) || op[2].dtype != op[0].dtype)
    return unsupported_dtype("gather", op[2].dtype);
  return CHORUS_OK;
}

chorus_status check_scatter_add(const BoundOp& op) {
  if (!normal(op)) return unsupported("scatter_add", "not the normal form (the axis last)");
  if (!index_dtype(op[0].dtype)) return unsupported_dtype("scatter_add", op[0].dtype);
  const chorus_dtype d = op[2].dtype;
  if ((!is_float_dtype(d) && !is_signed_int_dtype(d)) || op[1].dtype != d)
    return unsupported_dtype("scatter_add", d);
  return CHORUS_OK;
}

// The walk over out's shape; `along` (a bit per operand) zeroes that
// operand's stride on the axis. With `any_order` (gather, whose work items
// need no position along the axis) the axes are walked by out's stride,
// largest first, so consecutive work items write consecutive memory
// (embedding's view then walks its table's rows, not its columns).
Walk<3> index_walk(const BoundOp& op, uint32_t along, AlongAxis* ax, bool any_order = false) {
  chorus_backend_tensor views[3] = {op[0], op[1], op[2]};
  const uint32_t rank = op[2].rank, last = rank - 1;
  for (int t = 0; t < 3; ++t) {
    ax->stride[t] = views[t].strides[last];
    if (along & (1u << t)) views[t].strides[last] = 0;
  }
  ax->row = op[2].shape[last];
  if (any_order)
    for (uint32_t k = 1; k < rank; ++k)
      for (uint32_t j = k; j > 0 && views[2].strides[j] > views[2].strides[j - 1]; --j)
        for (auto& v : views) {
          std::swap(v.shape[j], v.shape[j - 1]);
          std::swap(v.strides[j], v.strides[j - 1]);
        }
  const chorus_backend_tensor* const ptrs[3] = {&views[0], &views[1], &views[2]};
  return make_walk<3>(0, rank, views[2].shape, ptrs);
}

chorus_status run_gather(const Exec& exec, const BoundOp& op) {
  AlongAxis ax{};
  const Walk<3> walk = index_walk(op, 1u << 0, &ax, true);
  ax.extent = op[0].shape[op[0].rank - 1];
  const bool i64 = op[1].dtype == CHORUS_DTYPE_I64;
  const auto launch = [&]<typename Raw>() {
    if (i64)
      gather_kernel<Raw, int64_t>(exec, walk, ax, data_of(op[0]), data_of(op[1]), data_of(op[2]));
    else
      gather_kernel<Raw, int32_t>(exec, walk, ax, data_of(op[0]), data_of(op[1]), data_of(op[2]));
  };
  switch (numeric::dtype_size(op[0].dtype)) {
    case 1:
      launch.template operator()<uint8_t>();
      break;
    case 2:
      launch.template operator()<uint16_t>();
      break;
    case 4:
      launch.template operator()<uint32_t>();
      break;
    default:
      launch.template operator()<uint64_t>();
      break;
  }
  return CHORUS_OK;
}

chorus_status run_scatter_add(const Exec& exec, const BoundOp& op) {
  AlongAxis ax{};
  const Walk<3> walk = index_walk(op, (1u << 0) | (1u << 1), &ax);
  ax.extent = op[0].shape[op[0].rank - 1];
  const bool i64 = op[0].dtype == CHORUS_DTYPE_I64;
  const auto launch = [&]<chorus_dtype D>() {
    if (i64)
      scatter_add_kernel<D, int64_t>(exec, walk, ax, data_of(op[0]), data_of(op[1]),
                                     data_of(op[2]));
    else
      scatter_add_kernel<D, int32_t>(exec, walk, ax, data_of(op[0]), data_of(op[1]),
                                     data_of(op[2]));
  };
  if (!with_float_dtype(op[2].dtype, launch) && !with_signed_int_dtype(op[2].dtype, launch))
    return check_scatter_add(op);
  return CHORUS_OK;
}

// embedding_backward for f32/f64 tables whose index and dy rows are each
// one run (as index.cl's kernel; the rest answers UNSUPPORTED and runs as
// the composite): a work item per table row and block of 32 columns clears
// them, then scans the indices in order and adds dy's row k wherever index
// k is the row. The same additions as the composite: the same bits.
struct EmbeddingGrad {
  int64_t n, v, d, block, blocks;
  int64_t index_stride, dy_row_stride, dy_col_stride, row_stride, col_stride;
  int64_t index_offset, dy_offset, table_offset;
};

bool embedding_grad_of(const BoundOp& op, EmbeddingGrad* g) {
  const chorus_backend_tensor &ix = op[0], &dy = op[1], &table = op[2];
  if (!index_dtype(ix.dtype) || table.rank != 2 || dy.rank != ix.rank + 1 ||
      (table.dtype != CHORUS_DTYPE_F32 && table.dtype != CHORUS_DTYPE_F64) ||
      dy.dtype != table.dtype || !common::one_run(ix, ix.rank, &g->index_stride) ||
      !common::one_run(dy, ix.rank, &g->dy_row_stride))
    return false;
  g->n = 1;
  for (uint32_t k = 0; k < ix.rank; ++k) g->n *= ix.shape[k];
  g->v = table.shape[0];
  g->d = table.shape[1];
  g->block = 32;
  g->blocks = (g->d + g->block - 1) / g->block;
  g->dy_col_stride = dy.strides[ix.rank];
  g->row_stride = table.strides[0];
  g->col_stride = table.strides[1];
  g->index_offset = ix.offset;
  g->dy_offset = dy.offset;
  g->table_offset = table.offset;
  return true;
}

template <chorus_dtype D, typename Index>
void embedding_grad_kernel(const Exec& exec, const EmbeddingGrad& g, const unsigned char* ix,
                           const unsigned char* dy, unsigned char* table) {
  using S = Storage<D>;
  using CT = typename S::compute;
  Kokkos::parallel_for(
      "chorus::embedding_backward", Range(exec, 0, g.v * g.blocks), KOKKOS_LAMBDA(int64_t item) {
        const int64_t r = item / g.blocks;
        const int64_t first = (item % g.blocks) * g.block;
        const int64_t last = first + g.block < g.d ? first + g.block : g.d;
        const int64_t row = g.table_offset + r * g.row_stride;
        for (int64_t j = first; j < last; ++j) S::store(table, row + j * g.col_stride, CT(0));
        for (int64_t k = 0; k < g.n; ++k) {
          if (load_index<Index>(ix, g.index_offset + k * g.index_stride) != r) continue;
          const int64_t src = g.dy_offset + k * g.dy_row_stride;
          for (int64_t j = first; j < last; ++j) {
            const int64_t t = row + j * g.col_stride;
            S::store(table, t, S::load(table, t) + S::load(dy, src + j * g.dy_col_stride));
          }
        }
      });
}

chorus_status check_embedding_backward(const BoundOp& op) {
  EmbeddingGrad g{};
  if (!embedding_grad_of(op, &g))
    return unsupported("embedding_backward",
                       "the kernel takes f32/f64 tables with index and dy rows in one run each "
                       "(the composite takes the rest)");
  return CHORUS_OK;
}

chorus_status run_embedding_backward(const Exec& exec, const BoundOp& op) {
  EmbeddingGrad g{};
  if (!embedding_grad_of(op, &g)) return check_embedding_backward(op);
  const bool i64 = op[0].dtype == CHORUS_DTYPE_I64;
  const auto launch = [&]<chorus_dtype D>() {
    if (i64)
      embedding_grad_kernel<D, int64_t>(exec, g, data_of(op[0]), data_of(op[1]), data_of(op[2]));
    else
      embedding_grad_kernel<D, int32_t>(exec, g, data_of(op[0]), data_of(op[1]), data_of(op[2]));
  };
  with_float_dtype(op[2].dtype, launch);
  return CHORUS_OK;
}

void register_kokkos() {
  register_op(CHORUS_OP_GATHER, {sizeof(chorus_index_attrs), check_gather, run_gather});
  register_op(CHORUS_OP_SCATTER_ADD,
              {sizeof(chorus_index_attrs), check_scatter_add, run_scatter_add});
  register_op(CHORUS_OP_EMBEDDING_BACKWARD, {0, check_embedding_backward, run_embedding_backward});
}

}  // namespace chorus::ops::index
