/* index.cl — gather and scatter-add along an axis, one program per (DT, IT): DT the data's dtype, IT the index's
 * (I32 or I64). libchorus has moved the axis last (src/ops/index/schema.cpp
 * states the normal form); the argument block is ck_index (args.h): one
 * work-item per element of out, each operand's element at the same position
 * from index_elements(), the axis's stride zeroed for the operands indexed
 * along the axis here.
 *
 * gather     operands 0 x, 1 index, 2 out: out = x[.., index] as raw bits,
 *            0 (all bits clear: +0.0 or integer 0) where the index is
 *            outside [0, extent).
 * scatter_add operands 0 index, 1 src, 2 out (in-out): the element at
 *            position j of its row (the last axis) scans the row's `extent`
 *            index entries in order and sums the src values of those equal
 *            to j, in the compute type (float, double for f64; integers as
 *            wrapping 64-bit bits), then stores out + sum once. Each element
 *            is written by its own work-item only, so the result is the same
 *            bits run after run and on every device, with no atomics;
 *            elements nothing aims at are not written.
 */
#ifndef T
#define T STORAGE(DT)
#define CT COMPUTE(DT)
#endif
#define RAW CAT(bits_, DT)

/* The three operands' elements at row-major position i of the walk, the
 * coordinates found once for all three; returns the innermost coordinate. */
DEVICE_FN I64 index_elements(const ck_index* a, I64 i, I64* e) {
  e[0] = a->offset[0];
  e[1] = a->offset[1];
  e[2] = a->offset[2];
  I64 innermost = 0;
  for (int k = (int)a->rank - 1; k >= 0; --k) {
    const I64 n = a->shape[k];
    const I64 q = i / n;
    const I64 c = i - q * n;
    i = q;
    if (k == (int)a->rank - 1) innermost = c;
    e[0] += c * a->strides[0][k];
    e[1] += c * a->strides[1][k];
    e[2] += c * a->strides[2][k];
  }
  return innermost;
}

/* gather's walk may take the axes in any order (the planner puts out's
 * smallest stride fastest): nothing here depends on the position along the
 * axis, only on the three elements. A work-item takes GATHER_RUN
 * consecutive positions (1 on GPUs, where neighbouring work-items then
 * touch neighbouring memory; more on CPUs, where it steps along the
 * innermost axis instead of dividing for every element). */
#ifndef GATHER_RUN
#define GATHER_RUN 1
#endif
KERNEL void gather(GLOBAL const RAW* x, GLOBAL const IT* index, GLOBAL RAW* out, ck_index a
                   GRID_PARAMS) {
  const I64 first = global_id(0) * GATHER_RUN;
  if (first >= a.count) return;
  const int last = (int)a.rank - 1;
  const I64 inner = a.shape[last];
  I64 e[3];
  I64 c = index_elements(&a, first, e);
  for (int s = 0; s < GATHER_RUN && first + s < a.count; ++s) {
    if (s > 0) {
      if (++c == inner) {
        c = index_elements(&a, first + s, e);
      } else {
        e[0] += a.strides[0][last];
        e[1] += a.strides[1][last];
        e[2] += a.strides[2][last];
      }
    }
    const I64 j = (I64)index[e[1]];
    if (j >= 0 && j < a.extent)
      out[e[2]] = x[e[0] + j * a.axis_stride[0]];
    else
      out[e[2]] = (RAW)0;
  }
}

#if DT_IS_INT
#define SUM_T U64
#define SUM_LOAD(p, e) ((U64)LOAD(DT, (p), (e)))
#else
#define SUM_T CT
#define SUM_LOAD(p, e) LOAD(DT, (p), (e))
#endif

KERNEL void scatter_add(GLOBAL const IT* index, GLOBAL const T* src, GLOBAL T* out, ck_index a
                        GRID_PARAMS) {
  const I64 i = global_id(0);
  if (i >= a.count) return;
  const I64 j = i % a.shape[a.rank - 1];
  I64 e[3];
  index_elements(&a, i, e);
  const I64 ib = e[0], sb = e[1];
  SUM_T sum = (SUM_T)0;
  int hit = 0;
  for (I64 m = 0; m < a.extent; ++m) {
    if ((I64)index[ib + m * a.axis_stride[0]] == j) {
      sum += SUM_LOAD(src, sb + m * a.axis_stride[1]);
      hit = 1;
    }
  }
  if (hit) STORE(DT, out, e[2], SUM_LOAD(out, e[2]) + sum);
}

#if !DT_IS_INT
/* embedding_backward, operands 0 index, 1 dy, 2 dtable (floats of 32 or 64
 * bits: the sums accumulate in dtable itself, so in its own precision; the
 * planner leaves 16-bit tables to the composite, which sums in f32). The
 * work-item of table row r and a block of columns clears them, then scans
 * all n indices in order and adds dy's row k to them wherever index k is r:
 * each element is the sum of its terms in increasing k starting from 0,
 * the very additions of the composite's scatter-add (the same bits), at a
 * cost of v n comparisons and n d additions instead of v d n. */
KERNEL void embedding_backward(GLOBAL const IT* index, GLOBAL const T* dy, GLOBAL T* dtable,
                               ck_embedding a GRID_PARAMS) {
  const I64 item = global_id(0);
  if (item >= a.v * a.blocks) return;
  const I64 r = item / a.blocks;
  const I64 first = (item % a.blocks) * a.block;
  const I64 last = CK_MIN_I64(first + a.block, a.d);
  const I64 row = a.offset[2] + r * a.table_row_stride;
  for (I64 j = first; j < last; ++j) dtable[row + j * a.table_col_stride] = (T)0;
  for (I64 k = 0; k < a.n; ++k) {
    if ((I64)index[a.offset[0] + k * a.index_stride] != r) continue;
    const I64 src = a.offset[1] + k * a.dy_row_stride;
    for (I64 j = first; j < last; ++j) {
      const I64 t = row + j * a.table_col_stride;
      dtable[t] = dtable[t] + dy[src + j * a.dy_col_stride];
    }
  }
}
#endif
