/* loss.cl — cross-entropy from logits and its gradient, one program per
 * (DT, ROW_LAYOUT, TGT); rows.h says how a row is walked. A row is one
 * sample's C logits (the class axis moved last by libchorus). Operands:
 * 0 logits, 1 target (TGT, I32 or I64: one element per row), 2 the loss
 * (reduction none: one element per row) or dloss (one per row, or one for
 * all rows), 3 dlogits.
 *
 * Per row: m = max (IEEE maximum: a NaN makes the row NaN), then in one pass
 * s = sum e^(x - m) and the sum of x (for label smoothing), in float (double
 * for f64) in the fixed order of rows.h; lse = m + log s. The loss is
 *   (1 - eps)(lse - x_t) + eps (lse - sum(x)/C),
 * each term left out when its weight is 0 (so -inf logits, a mask, give
 * a finite loss without smoothing); 0 when t is ignore_index; NaN when t is
 * outside [0, C). The gradient is w (e^(x - lse) - (1 - eps)[c = t] - eps/C).
 */
#define ACC CT
#define VSPLAT(x) CAT(vsplat_, CLASS(DT))(x)
#define L_MAX(u, v) CK_MAXIMUM(u, v)
#define L_SUM(u, v) ((u) + (v))

#if ROW_THREADS > 1
#define LOSS_SHARED LOCAL ACC shared[ROW_THREADS];
#else
#define LOSS_SHARED
#endif

/* m, lse, the sum of x, the target t and (when valid) its logit x_t, all
 * read before the final combine's barrier: dlogits may be logits itself,
 * and a later write of element t by another thread of the row must not
 * come before this thread's read of it. */
#define CE_ROW_STATS(WITH_TOTAL)                                                 \
  VCT vm = VSPLAT(-INFINITY);                                                    \
  FOR_ROW_VECTORS(j, 0, n) vm = L_MAX(vm, row_loadv(x, &a, 0, base[0], j));      \
  ACC m;                                                                         \
  LANES_COMBINE(ACC, vm, m, L_MAX);                                              \
  FOR_ROW_TAIL(j, 0, n) m = L_MAX(m, LOAD(DT, x, row_at(&a, 0, base[0], j)));   \
  ROW_COMBINE(ACC, shared, m, L_MAX);                                            \
  VCT vs = VSPLAT(K(0.0)), vt = VSPLAT(K(0.0));                                  \
  FOR_ROW_VECTORS(j, 0, n) {                                                     \
    const VCT v = row_loadv(x, &a, 0, base[0], j);                               \
    vs += exp(v - m);                                                            \
    if (WITH_TOTAL) vt += v;                                                     \
  }                                                                              \
  ACC s, total;                                                                  \
  LANES_COMBINE(ACC, vs, s, L_SUM);                                              \
  LANES_COMBINE(ACC, vt, total, L_SUM);                                          \
  {                                                                              \
    FOR_ROW_TAIL(j, 0, n) {                                                      \
      const ACC v = LOAD(DT, x, row_at(&a, 0, base[0], j));                      \
      s += exp(v - m);                                                           \
      if (WITH_TOTAL) total += v;                                                \
    }                                                                            \
  }                                                                              \
  const I64 t = (I64)target[base[1]];                                            \
  const int ignored = t == (I64)ignore_index;                                    \
  const int valid = !ignored && t >= 0 && t < n;                                 \
  const ACC x_t = valid ? (ACC)LOAD(DT, x, row_at(&a, 0, base[0], t)) : K(0.0);  \
  ROW_COMBINE(ACC, shared, s, L_SUM);                                            \
  if (WITH_TOTAL) ROW_COMBINE(ACC, shared, total, L_SUM);                        \
  const ACC lse = m + log(s);

/* The forward: with per_sample each row's loss goes to operand 2; else
 * (mean, sum) thread 0 writes (loss, counted) to part[2 row], [2 row + 1]
 * for cross_entropy_finish. */
KERNEL void cross_entropy_rows(GLOBAL const T* x, GLOBAL const TGT* target, GLOBAL T* loss,
                               GLOBAL ACC* part, ck_rows a, I32 per_sample, I32 ignore_index,
                               ACC smoothing GRID_PARAMS) {
  LOSS_SHARED
  const I64 row = ROW_INDEX();
  ROW_SKIP_PAST_END(row)
  I64 base[3];
  row_bases(&a, row, 3, base);
  const I64 n = a.n;
  CE_ROW_STATS(smoothing > K(0.0))
  ACC l = K(0.0);
  if (!ignored && !valid) {
    l = NAN;
  } else if (valid) {
    if (smoothing < K(1.0)) l = (K(1.0) - smoothing) * (lse - x_t);
    if (smoothing > K(0.0)) l += smoothing * (lse - total / (ACC)n);
  }
  if (ROW_THREAD() == 0) {
    if (per_sample) {
      STORE(DT, loss, base[2], l);
    } else {
      part[2 * row] = l;
      part[2 * row + 1] = ignored ? K(0.0) : K(1.0);
    }
  }
}

/* mean and sum, in one work-group of ROW_THREADS work-items: thread t adds
 * the (loss, counted) of rows t, t + ROW_THREADS, ... in turn, the threads'
 * sums combine pairwise (ROW_COMBINE), always in this order, so the bits are
 * the same run after run; thread 0 stores the total, or total / count (0/0 =
 * NaN when every sample is ignored), at loss_offset. (With one work-item
 * walking every row, the forward at 8192 x 4096 took 0.58 ms on an H200,
 * 4.7 times PyTorch's.) */
KERNEL void cross_entropy_finish(GLOBAL const ACC* part, GLOBAL T* loss, I64 rows, I32 mean,
                                 I64 loss_offset GRID_PARAMS) {
  LOSS_SHARED
  ACC total = K(0.0), count = K(0.0);
  for (I64 r = ROW_THREAD(); r < rows; r += ROW_THREADS) {
    total += part[2 * r];
    count += part[2 * r + 1];
  }
  ROW_COMBINE(ACC, shared, total, L_SUM);
  ROW_COMBINE(ACC, shared, count, L_SUM);
  if (ROW_THREAD() == 0) STORE(DT, loss, loss_offset, mean ? total / count : total);
}

/* The gradient's mean: the samples not ignored, counted into count[0] by one
 * work-group as cross_entropy_finish adds (counts are exact in ACC up to
 * 2^24 samples in f32, and the order fixed). */
KERNEL void cross_entropy_count(GLOBAL const TGT* target, GLOBAL ACC* count, ck_rows a,
                                I32 ignore_index GRID_PARAMS) {
  LOSS_SHARED
  ACC c = K(0.0);
  for (I64 r = ROW_THREAD(); r < a.rows; r += ROW_THREADS) {
    I64 base[2];
    row_bases(&a, r, 2, base);
    if ((I64)target[base[1]] != (I64)ignore_index) c += K(1.0);
  }
  ROW_COMBINE(ACC, shared, c, L_SUM);
  if (ROW_THREAD() == 0) count[0] = c;
}

/* dlogits = w (e^(x - lse) - eps/C), then element t less (1 - eps) w,
 * written again by the thread that wrote it (no other thread touches it).
 * w = dloss of the row (none), dloss (sum), dloss / count[0] (mean). */
KERNEL void cross_entropy_backward_rows(GLOBAL const T* x, GLOBAL const TGT* target,
                                        GLOBAL const T* dloss, GLOBAL T* dx,
                                        GLOBAL const ACC* count, ck_rows a, I32 mean,
                                        I32 ignore_index, ACC smoothing GRID_PARAMS) {
  LOSS_SHARED
  const I64 row = ROW_INDEX();
  ROW_SKIP_PAST_END(row)
  I64 base[4];
  row_bases(&a, row, 4, base);
  const I64 n = a.n;
  CE_ROW_STATS(0)
  ACC w = LOAD(DT, dloss, base[2]);
  if (mean) w = w / count[0];
  const ACC spread = smoothing / (ACC)n;
  if (!valid) {
    const ACC c = ignored ? K(0.0) : NAN;
    FOR_ROW_VECTORS(j, 0, n) row_storev(dx, &a, 3, base[3], j, VSPLAT(c));
    {
      FOR_ROW_TAIL(j, 0, n) STORE(DT, dx, row_at(&a, 3, base[3], j), c);
    }
    return;
  }
  FOR_ROW_VECTORS(j, 0, n) {
    const VCT p = exp(row_loadv(x, &a, 0, base[0], j) - lse);
    row_storev(dx, &a, 3, base[3], j, w * (p - spread));
  }
  {
    FOR_ROW_TAIL(j, 0, n) {
      const ACC p = exp(LOAD(DT, x, row_at(&a, 0, base[0], j)) - lse);
      STORE(DT, dx, row_at(&a, 3, base[3], j), w * (p - spread));
    }
  }
  const I64 tail = ROW_TAIL_BEGIN(0, n);
  const I64 owner = t < tail ? (t / VW) % ROW_THREADS : (t - tail) % ROW_THREADS;
  if (ROW_THREAD() == owner)
    STORE(DT, dx, row_at(&a, 3, base[3], t),
          w * ((exp(x_t - lse) - spread) - (K(1.0) - smoothing)));
}
