/* index.cl — gather and scatter-add along an axis (walk.h before this
 * file), one program per (DT, IT): DT the data's dtype, IT the index's
 * (I32 or I64). libchorus has moved the axis last (src/ops/index/schema.cpp
 * states the normal form); the argument block is ck_index (args.h): one
 * work-item per element of out, operand t's element at the same position
 * from ew_element_at(&a, t, i), the axis's stride zeroed for the operands
 * indexed along the axis here.
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

KERNEL void gather(GLOBAL const RAW* x, GLOBAL const IT* index, GLOBAL RAW* out, ck_index a
                   GRID_PARAMS) {
  const I64 i = global_id(0);
  if (i >= a.count) return;
  const I64 j = (I64)index[ew_element_at(&a, 1, i)];
  const I64 o = ew_element_at(&a, 2, i);
  if (j >= 0 && j < a.extent)
    out[o] = x[ew_element_at(&a, 0, i) + j * a.axis_stride[0]];
  else
    out[o] = (RAW)0;
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
  const I64 ib = ew_element_at(&a, 0, i);
  const I64 sb = ew_element_at(&a, 1, i);
  SUM_T sum = (SUM_T)0;
  int hit = 0;
  for (I64 m = 0; m < a.extent; ++m) {
    if ((I64)index[ib + m * a.axis_stride[0]] == j) {
      sum += SUM_LOAD(src, sb + m * a.axis_stride[1]);
      hit = 1;
    }
  }
  if (hit) {
    const I64 o = ew_element_at(&a, 2, i);
    STORE(DT, out, o, SUM_LOAD(out, o) + sum);
  }
}
