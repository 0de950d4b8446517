// kokkos.cpp — gather and scatter_add on the Kokkos backend, in the normal
// form of schema.cpp (three tensors of one rank, the axis last): a
// RangePolicy over the elements of out, each work item finding its operands
// through a Walk over out's shape with the axis's stride zeroed for the
// operands it indexes along the axis itself. The same arithmetic as
// index.cl: gather copies bits (0 out of range); scatter_add's element j
// scans its row's index entries in order, sums the matching src values in
// the compute type and stores out + sum once, or leaves out alone. No
// atomics: the same bits run after run. embedding and embedding_backward
// run as these two (their composites).
#include <cstring>

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
// operand's stride on the axis.
Walk<3> index_walk(const BoundOp& op, uint32_t along, AlongAxis* ax) {
  chorus_backend_tensor views[3] = {op[0], op[1], op[2]};
  const uint32_t last = op[2].rank - 1;
  for (int t = 0; t < 3; ++t) {
    ax->stride[t] = views[t].strides[last];
    if (along & (1u << t)) views[t].strides[last] = 0;
  }
  ax->row = op[2].shape[last];
  const chorus_backend_tensor* const ptrs[3] = {&views[0], &views[1], &views[2]};
  return make_walk<3>(0, op[2].rank, op[2].shape, ptrs);
}

chorus_status run_gather(const Exec& exec, const BoundOp& op) {
  AlongAxis ax{};
  const Walk<3> walk = index_walk(op, 1u << 0, &ax);
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

void register_kokkos() {
  register_op(CHORUS_OP_GATHER, {sizeof(chorus_index_attrs), check_gather, run_gather});
  register_op(CHORUS_OP_SCATTER_ADD,
              {sizeof(chorus_index_attrs), check_scatter_add, run_scatter_add});
}

}  // namespace chorus::ops::index
