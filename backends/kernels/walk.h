/* walk.h — the element at row-major index i of one operand of a collapsed
 * elementwise layout, for kernels that address elements one at a time
 * (random numbers, optimizers). ew_element_at(a, t, i) takes any argument
 * block with count, rank, shape, offset[t] and strides[t] (ck_elementwise,
 * ck_optim). EW_CONTIG programs (every operand one unit-stride run) add i to
 * the offset; the others split i over the axes. */
#ifndef CHORUS_WALK_H
#define CHORUS_WALK_H

DEVICE_FN I64 walk_element(I64 rank, const I64* shape, const I64* strides, I64 offset, I64 i) {
#if EW_CONTIG
  return offset + i;
#else
  I64 e = offset;
  for (int k = (int)rank - 1; k >= 0; --k) {
    const I64 n = shape[k];
    e += (i % n) * strides[k];
    i /= n;
  }
  return e;
#endif
}

#define ew_element_at(a, t, i) \
  walk_element((a)->rank, (a)->shape, (a)->strides[t], (a)->offset[t], (i))

#endif
