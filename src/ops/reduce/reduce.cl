/* reduce.cl — sum, mean, max and min over the last axes (libchorus moves
 * the reduced axes last), and argmax over the last axis. One program per
 * (DT, ROW_LAYOUT); rows.h says how a row is walked.
 *
 * Sums accumulate in float for f32/f16/bf16 and in double for f64, integer
 * sums wrap (64-bit two's complement, the store keeps the low bits). max and
 * min are IEEE maximum/minimum: NaN wins, +0 above -0. A row too long for
 * one work-group is split into `chunks`: each writes a partial result to
 * `part`, and <op>_finish combines them in chunk order.
 */
#if DT_IS_INT
#define ACC I64
#define R_SUM(u, v) i64_from_bits((U64)(u) + (U64)(v))
#define R_MAX(u, v) ((u) > (v) ? (u) : (v))
#define R_MIN(u, v) ((u) < (v) ? (u) : (v))
#define SUM_IDENTITY ((I64)0)
#define MAX_IDENTITY CK_I64_MIN
#define MIN_IDENTITY CK_I64_MAX
#else
#define ACC CT
#define R_SUM(u, v) ((u) + (v))
#define R_MAX(u, v) CK_MAXIMUM(u, v)
#define R_MIN(u, v) CK_MINIMUM(u, v)
#define SUM_IDENTITY K(0.0)
#define MAX_IDENTITY (-INFINITY)
#define MIN_IDENTITY INFINITY
#endif
#define VSPLAT(x) CAT(vsplat_, CLASS(DT))(x)
#define FINISH_SAME(s) (s)
#define FINISH_MEAN(s) ((s) / (ACC)a.n)

#define REDUCE_KERNELS(name, IDENTITY, COMBINE, FINISH)                                      \
  KERNEL void reduce_##name(GLOBAL const T* x, GLOBAL T* y, GLOBAL ACC* part, ck_rows a GRID_PARAMS) {   \
    REDUCE_SHARED(ACC, shared)                                                               \
    const I64 row = ROW_INDEX();                                                             \
    ROW_SKIP_PAST_END(row)                                                               \
    I64 base[2];                                                                             \
    row_bases(&a, row, 2, base);                                                             \
    const I64 begin = group_id(0) * a.chunk;                                                 \
    const I64 end = CK_MIN_I64(begin + a.chunk, a.n);                                        \
    VCT acc = VSPLAT(IDENTITY);                                                              \
    FOR_ROW_VECTORS(j, begin, end) {                                                         \
      const VCT v = row_loadv(x, &a, 0, base[0], j);                                         \
      acc = COMBINE(acc, v);                                                                 \
    }                                                                                        \
    ACC s;                                                                                   \
    LANES_COMBINE(ACC, acc, s, COMBINE);                                                     \
    {                                                                 \
      FOR_ROW_TAIL(j, begin, end) {                               \
        const ACC v = LOAD(DT, x, row_at(&a, 0, base[0], j));                               \
        s = COMBINE(s, v);                                                                   \
      }                                                                                      \
    }                                                                                        \
    ROW_COMBINE(ACC, shared, s, COMBINE);                                                    \
    if (ROW_THREAD() != 0) return;                                                           \
    if (a.chunks == 1)                                                                       \
      STORE(DT, y, base[1], FINISH(s));                                                      \
    else                                                                                     \
      part[row * a.chunks + group_id(0)] = s;                                                \
  }                                                                                          \
  KERNEL void reduce_##name##_finish(GLOBAL const ACC* part, GLOBAL T* y, ck_rows a GRID_PARAMS) {       \
    const I64 row = global_id(0);                                                            \
    if (row >= a.rows) return;                                                               \
    I64 base[2];                                                                             \
    row_bases(&a, row, 2, base);                                                             \
    ACC s = part[row * a.chunks];                                                            \
    for (I64 c = 1; c < a.chunks; ++c) {                                                     \
      const ACC v = part[row * a.chunks + c];                                                \
      s = COMBINE(s, v);                                                                     \
    }                                                                                        \
    STORE(DT, y, base[1], FINISH(s));                                                        \
  }

#if ROW_THREADS > 1
#define REDUCE_SHARED(TYPE, name) LOCAL TYPE name[ROW_THREADS];
#else
#define REDUCE_SHARED(TYPE, name)
#endif

REDUCE_KERNELS(max, MAX_IDENTITY, R_MAX, FINISH_SAME)
REDUCE_KERNELS(min, MIN_IDENTITY, R_MIN, FINISH_SAME)
#if !DT_IS_U8
REDUCE_KERNELS(sum, SUM_IDENTITY, R_SUM, FINISH_SAME)
#endif
#if !DT_IS_INT
REDUCE_KERNELS(mean, SUM_IDENTITY, R_SUM, FINISH_MEAN)
#endif

/* ------------------------------------------------------------ argmax */

/* Whether (v, i) beats the best so far (bv, bi): the first NaN wins, then
 * the larger value, then the lower index. An index < 0 is "nothing yet". */
DEVICE_FN int argmax_better(ACC bv, I64 bi, ACC v, I64 i) {
  if (i < 0) return 0;
  if (bi < 0) return 1;
#if !DT_IS_INT
  const int best_nan = bv != bv;
  const int nan = v != v;
  if (best_nan || nan) return nan && (!best_nan || i < bi);
#endif
  if (v != bv) return v > bv;
  return i < bi;
}

KERNEL void argmax(GLOBAL const T* x, GLOBAL I64* y, GLOBAL ACC* part, GLOBAL I64* part_index,
                   ck_rows a GRID_PARAMS) {
#if ROW_THREADS > 1
  LOCAL ACC shared_v[ROW_THREADS];
  LOCAL I64 shared_i[ROW_THREADS];
#endif
  const I64 row = ROW_INDEX();
  ROW_SKIP_PAST_END(row)
  I64 base[2];
  row_bases(&a, row, 2, base);
  const I64 begin = group_id(0) * a.chunk;
  const I64 end = CK_MIN_I64(begin + a.chunk, a.n);
  ACC bv[VW];
  I64 bi[VW];
  PRAGMA_UNROLL
  for (int l = 0; l < VW; ++l) {
    bv[l] = (ACC)0;
    bi[l] = -1;
  }
  FOR_ROW_VECTORS(j, begin, end) {
    ACC lanes[VW];
    VCT_TO_ARRAY(row_loadv(x, &a, 0, base[0], j), lanes);
    PRAGMA_UNROLL
    for (int l = 0; l < VW; ++l) {
      if (argmax_better(bv[l], bi[l], lanes[l], j + l)) {
        bv[l] = lanes[l];
        bi[l] = j + l;
      }
    }
  }
  for (int w = VW / 2; w > 0; w /= 2) {
    for (int l = 0; l < w; ++l) {
      if (argmax_better(bv[l], bi[l], bv[l + w], bi[l + w])) {
        bv[l] = bv[l + w];
        bi[l] = bi[l + w];
      }
    }
  }
  ACC best_v = bv[0];
  I64 best_i = bi[0];
  {
    FOR_ROW_TAIL(j, begin, end) {
      const ACC v = LOAD(DT, x, row_at(&a, 0, base[0], j));
      if (argmax_better(best_v, best_i, v, j)) {
        best_v = v;
        best_i = j;
      }
    }
  }
#if ROW_THREADS > 1
  shared_v[ROW_THREAD()] = best_v;
  shared_i[ROW_THREAD()] = best_i;
  barrier_local();
  for (I64 w = ROW_THREADS / 2; w > 0; w /= 2) {
    if (ROW_THREAD() < w &&
        argmax_better(shared_v[ROW_THREAD()], shared_i[ROW_THREAD()], shared_v[ROW_THREAD() + w],
                      shared_i[ROW_THREAD() + w])) {
      shared_v[ROW_THREAD()] = shared_v[ROW_THREAD() + w];
      shared_i[ROW_THREAD()] = shared_i[ROW_THREAD() + w];
    }
    barrier_local();
  }
  best_v = shared_v[0];
  best_i = shared_i[0];
#endif
  if (ROW_THREAD() != 0) return;
  if (a.chunks == 1) {
    y[base[1]] = best_i;
  } else {
    part[row * a.chunks + group_id(0)] = best_v;
    part_index[row * a.chunks + group_id(0)] = best_i;
  }
}

KERNEL void argmax_finish(GLOBAL const ACC* part, GLOBAL const I64* part_index, GLOBAL I64* y,
                          ck_rows a GRID_PARAMS) {
  const I64 row = global_id(0);
  if (row >= a.rows) return;
  I64 base[2];
  row_bases(&a, row, 2, base);
  ACC best_v = part[row * a.chunks];
  I64 best_i = part_index[row * a.chunks];
  for (I64 c = 1; c < a.chunks; ++c) {
    const ACC v = part[row * a.chunks + c];
    const I64 i = part_index[row * a.chunks + c];
    if (argmax_better(best_v, best_i, v, i)) {
      best_v = v;
      best_i = i;
    }
  }
  y[base[1]] = best_i;
}
