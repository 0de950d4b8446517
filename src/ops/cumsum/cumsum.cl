/* cumsum.cl — running sums along the last axis (libchorus moves the axis
 * last), inclusive or exclusive, forwards or reversed; one program per
 * (DT, ROW_LAYOUT), rows.h says how rows are found. Operands: 0 x, 1 y; y
 * may be the very memory of x (a scan in place).
 *
 * A row is scanned by its ROW_THREADS work-items (1 on CPUs, where a
 * work-item walks whole rows and RPG rows share a work-group): the row's
 * steps are cut into ROW_THREADS contiguous segments, one per thread.
 * Pass 1: each thread sums its segment. The segment sums meet in local
 * memory, and each thread adds up those of the segments before its own, in
 * segment order: its starting offset. Pass 2: each thread scans its segment
 * again from that offset and writes y. Every sum happens in one fixed
 * order, so results are bitwise reproducible run to run (no atomics, no
 * subgroup operations). In place is safe: a thread reads each element of
 * its own segment before it writes it, and no other thread touches that
 * segment.
 *
 * Step s of a row is element s, or n-1-s when reversed; an exclusive sum
 * writes the running sum before adding the element. Floats accumulate in
 * float (double for f64) and are rounded to the dtype once per element;
 * integers wrap (64-bit two's complement, the store keeps the low bits).
 * Every thread runs the same loops with its own bounds and nothing returns
 * before the barrier (rows.h: PoCL's rules).
 */
#if DT_IS_INT
#define ACC U64
#define ACC_ZERO ((U64)0)
#define ACC_LOAD(p, i) ((U64)LOAD(DT, (p), (i)))
#else
#define ACC CT
#define ACC_ZERO K(0.0)
#define ACC_LOAD(p, i) LOAD(DT, (p), (i))
#endif

/* Element of step s in a row of n. */
#define CUMSUM_AT(s) (reverse ? n - 1 - (s) : (s))

KERNEL void cumsum(GLOBAL const T* x, GLOBAL T* y, ck_rows a, I32 exclusive, I32 reverse GRID_PARAMS) {
#if ROW_THREADS > 1
  LOCAL ACC shared[ROW_THREADS];
#endif
  const I64 row = ROW_INDEX();
  ROW_SKIP_PAST_END(row)
  I64 base[2];
  row_bases(&a, row, 2, base);
  const I64 n = a.n;
  const I64 segment = (n + ROW_THREADS - 1) / ROW_THREADS;
  const I64 begin = CK_MIN_I64(ROW_THREAD() * segment, n);
  const I64 end = CK_MIN_I64(begin + segment, n);

  ACC sum = ACC_ZERO;
#if ROW_THREADS > 1
  for (I64 s = begin; s < end; ++s) sum += ACC_LOAD(x, row_at(&a, 0, base[0], CUMSUM_AT(s)));
  shared[ROW_THREAD()] = sum;
  barrier_local();
  sum = ACC_ZERO;
  for (I64 t = 0; t < ROW_THREAD(); ++t) sum += shared[t];
#endif
  for (I64 s = begin; s < end; ++s) {
    const I64 j = CUMSUM_AT(s);
    const ACC v = ACC_LOAD(x, row_at(&a, 0, base[0], j));
    if (exclusive) {
      STORE(DT, y, row_at(&a, 1, base[1], j), sum);
      sum += v;
    } else {
      sum += v;
      STORE(DT, y, row_at(&a, 1, base[1], j), sum);
    }
  }
}
