/* random.cl — random numbers and dropout (walk.h and philox.h before this
 * file). One work-item per Philox block: block j gives elements 4j .. 4j+3
 * of the output in row-major order, so the launch geometry never changes a
 * value.
 * Element addresses come from the collapsed layout in ck_elementwise
 * (walk.h).
 *
 * Every value is computed with the operations of the reference
 * (src/ops/random/reference.cpp), each rounded on its own: programs are
 * built with EXACT_FP (no contraction into fused multiply-adds: the OpenCL
 * prelude's pragma, --fmad=false for NVRTC, -ffp-contract=off for hiprtc and
 * the emulator).
 *
 * random_fill operands: 0 y. dropout operands: 0 x, 1 mask (u8, or absent:
 * has_mask 0), 2 y; y may be x's very memory (each element is read before
 * it is written, by the same work-item).
 */
#ifndef T
#define T STORAGE(DT)
#define CT COMPUTE(DT)
#endif

/* distribution: 0 uniform (lo + (hi - lo) u), 1 normal (lo + hi z: mean lo,
 * standard deviation hi), 2 bernoulli (1 when the draw is below threshold).
 * Integer programs have bernoulli only. */
KERNEL void random_fill(GLOBAL T* y, ck_elementwise a, U64 seed, U64 offset, I32 distribution,
                        CT lo, CT hi, U32 threshold GRID_PARAMS) {
  const I64 j = global_id(0);
  const I64 first = j * 4;
  if (first >= a.count) return;
  const ck_philox_block b = ck_random_block(seed, offset, (U64)j);
#if DT_IS_INT
  for (int lane = 0; lane < 4 && first + lane < a.count; ++lane)
    STORE(DT, y, ew_element_at(&a, 0, first + lane), (U64)ck_below(b.w[lane], threshold));
#else
  float z[4];
  if (distribution == 1) ck_normal_block(b, z);
  for (int lane = 0; lane < 4 && first + lane < a.count; ++lane) {
    CT v;
    if (distribution == 0) {
      const CT u = (CT)ck_uniform01(b.w[lane]);
      const CT width = hi - lo;
      const CT scaled = width * u;
      v = lo + scaled;
    } else if (distribution == 1) {
      const CT scaled = hi * (CT)z[lane];
      v = lo + scaled;
    } else {
      v = ck_below(b.w[lane], threshold) ? K(1.0) : K(0.0);
    }
    STORE(DT, y, ew_element_at(&a, 0, first + lane), v);
  }
#endif
}

#if !DT_IS_INT
/* y = x * (keep ? scale : 0), keep = the draw is not below threshold. */
KERNEL void dropout(GLOBAL const T* x, GLOBAL U8* mask, GLOBAL T* y, ck_elementwise a, U64 seed,
                    U64 offset, U32 threshold, CT scale, I32 has_mask GRID_PARAMS) {
  const I64 j = global_id(0);
  const I64 first = j * 4;
  if (first >= a.count) return;
  const ck_philox_block b = ck_random_block(seed, offset, (U64)j);
  for (int lane = 0; lane < 4 && first + lane < a.count; ++lane) {
    const I64 i = first + lane;
    const int keep = !ck_below(b.w[lane], threshold);
    const CT v = LOAD(DT, x, ew_element_at(&a, 0, i));
    const CT m = keep ? scale : K(0.0);
    STORE(DT, y, ew_element_at(&a, 2, i), v * m);
    if (has_mask) mask[ew_element_at(&a, 1, i)] = (U8)keep;
  }
}
#endif
