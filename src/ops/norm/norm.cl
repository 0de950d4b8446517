/* norm.cl — layer norm and RMS norm over the last axis, one program per
 * (DT, ROW_LAYOUT); rows.h says how a row is walked. Operands: 0 x, 1 y,
 * 2 gamma, 3 beta (gamma and beta are [n] spread over the rows with stride
 * 0, and may be absent).
 *
 * Layer norm takes the mean first and then the sum of squares around it
 * (the two-pass variance: E[x^2] - E[x]^2 would cancel on rows with a large
 * mean and a small spread); RMS norm needs only the sum of squares. The
 * first pass also copies x into y, and the later passes work on y: the row
 * is then in cache for them (the same work-items visit the same elements in
 * every pass), and y's cache lines are claimed while x streams in, not in a
 * later pass. Memory sees one read of x and one write of y.
 */
#define ACC CT
#define VSPLAT(x) CAT(vsplat_, CLASS(DT))(x)
#define N_SUM(u, v) ((u) + (v))

#if ROW_THREADS > 1
#define NORM_SHARED LOCAL ACC shared[ROW_THREADS];
#else
#define NORM_SHARED
#endif

/* y = (x - centre) * scale * gamma + beta, for one vector and the tail. */
#define NORM_WRITE(centre, scale)                                                        \
  do {                                                                                   \
    FOR_ROW_VECTORS(j, 0, n) {                                                           \
      VCT v = (row_loadv(y, &a, 1, base[1], j) - (centre)) * (scale);                    \
      if (has_gamma) v = v * row_loadv(gamma, &a, 2, base[2], j);                        \
      if (has_beta) v = v + row_loadv(beta, &a, 3, base[3], j);                          \
      row_storev(y, &a, 1, base[1], j, v);                                               \
    }                                                                                    \
    {                                                             \
      FOR_ROW_TAIL(j, 0, n) {                                                   \
        ACC v = (LOAD(DT, y, row_at(&a, 1, base[1], j)) - (centre)) * (scale);           \
        if (has_gamma) v = v * LOAD(DT, gamma, row_at(&a, 2, base[2], j));               \
        if (has_beta) v = v + LOAD(DT, beta, row_at(&a, 3, base[3], j));                 \
        STORE(DT, y, row_at(&a, 1, base[1], j), v);                                      \
      }                                                                                  \
    }                                                                                    \
  } while (0)

KERNEL void layer_norm(GLOBAL const T* x, GLOBAL T* y, GLOBAL const T* gamma, GLOBAL const T* beta,
                       ck_rows a, ACC eps, I32 has_gamma, I32 has_beta GRID_PARAMS) {
  NORM_SHARED
  const I64 row = ROW_INDEX();
  ROW_SKIP_PAST_END(row)
  I64 base[4];
  row_bases(&a, row, 4, base);
  const I64 n = a.n;

  VCT vs = VSPLAT(K(0.0));
  FOR_ROW_VECTORS(j, 0, n) {
    const VCT v = row_loadv(x, &a, 0, base[0], j);
    row_storev(y, &a, 1, base[1], j, v);
    vs += v;
  }
  ACC s;
  LANES_COMBINE(ACC, vs, s, N_SUM);
  FOR_ROW_TAIL(j, 0, n) {
    const ACC v = LOAD(DT, x, row_at(&a, 0, base[0], j));
    STORE(DT, y, row_at(&a, 1, base[1], j), v);
    s += v;
  }
  ROW_COMBINE(ACC, shared, s, N_SUM);
  const ACC mean = s / (ACC)n;

  VCT vq = VSPLAT(K(0.0));
  FOR_ROW_VECTORS(j, 0, n) {
    const VCT d = row_loadv(y, &a, 1, base[1], j) - mean;
    vq += d * d;
  }
  ACC q;
  LANES_COMBINE(ACC, vq, q, N_SUM);
  {
    FOR_ROW_TAIL(j, 0, n) {
      const ACC d = LOAD(DT, y, row_at(&a, 1, base[1], j)) - mean;
      q += d * d;
    }
  }
  ROW_COMBINE(ACC, shared, q, N_SUM);
  const ACC rstd = K(1.0) / sqrt(q / (ACC)n + eps);
  NORM_WRITE(mean, rstd);
}

KERNEL void rms_norm(GLOBAL const T* x, GLOBAL T* y, GLOBAL const T* gamma, ck_rows a, ACC eps,
                     I32 has_gamma GRID_PARAMS) {
  NORM_SHARED
  const I32 has_beta = 0;
  GLOBAL const T* beta = gamma;
  const I64 row = ROW_INDEX();
  ROW_SKIP_PAST_END(row)
  I64 base[4];
  row_bases(&a, row, 4, base);
  const I64 n = a.n;

  VCT vq = VSPLAT(K(0.0));
  FOR_ROW_VECTORS(j, 0, n) {
    const VCT v = row_loadv(x, &a, 0, base[0], j);
    row_storev(y, &a, 1, base[1], j, v);
    vq += v * v;
  }
  ACC q;
  LANES_COMBINE(ACC, vq, q, N_SUM);
  {
    FOR_ROW_TAIL(j, 0, n) {
      const ACC v = LOAD(DT, x, row_at(&a, 0, base[0], j));
      STORE(DT, y, row_at(&a, 1, base[1], j), v);
      q += v * v;
    }
  }
  ROW_COMBINE(ACC, shared, q, N_SUM);
  const ACC r = K(1.0) / sqrt(q / (ACC)n + eps);
  NORM_WRITE(K(0.0), r);
}
