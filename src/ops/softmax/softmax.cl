/* softmax.cl — softmax and log-softmax along the last axis, one program per
 * (DT, ROW_LAYOUT); rows.h says how a row is walked.
 *
 * Passes over a row: (1) its maximum m (IEEE maximum, so a NaN anywhere, or
 * an infinite maximum, turns the whole row into NaN exactly as the formula
 * of docs/ops.md does), copying x into y on the way; (2) s = sum of
 * e^(x - m), accumulated in float (double for f64); (3) the output, scaled
 * by 1/s. Passes 2 and 3 work on y: the same work-items visit the same
 * elements in every pass, so the row is in cache, and y's cache lines were
 * claimed while x streamed in; memory sees one read of x and one write of y.
 * (Online softmax would fuse passes 1 and 2 at the price of a second
 * exponential per element; on CPUs that costs more than the cached pass.)
 * When y holds the compute precision (f32, f64), pass 2 stores e^(x - m)
 * there and pass 3 only scales it: one exponential per element. For f16/bf16
 * pass 3 recomputes e^(x - m), since storing it would round it twice.
 */
#define ACC CT
#define VSPLAT(x) CAT(vsplat_, CLASS(DT))(x)
#define S_MAX(u, v) CK_MAXIMUM(u, v)
#define S_SUM(u, v) ((u) + (v))

#define SOFTMAX_KERNEL(name, LOG)                                             \
  KERNEL void name(GLOBAL const T* x, GLOBAL T* y, ck_rows a GRID_PARAMS) {               \
    SOFTMAX_SHARED                                                            \
    const I64 row = ROW_INDEX();                                              \
    ROW_SKIP_PAST_END(row)                                                \
    I64 base[2];                                                              \
    row_bases(&a, row, 2, base);                                              \
    const I64 n = a.n;                                                        \
    VCT vm = VSPLAT(-INFINITY);                                               \
    FOR_ROW_VECTORS(j, 0, n) {                                                \
      const VCT v = row_loadv(x, &a, 0, base[0], j);                          \
      row_storev(y, &a, 1, base[1], j, v);                                    \
      vm = S_MAX(vm, v);                                                      \
    }                                                                         \
    ACC m;                                                                    \
    LANES_COMBINE(ACC, vm, m, S_MAX);                                         \
    {                                                                         \
      FOR_ROW_TAIL(j, 0, n) {                                                 \
        const ACC v = LOAD(DT, x, row_at(&a, 0, base[0], j));                 \
        STORE(DT, y, row_at(&a, 1, base[1], j), v);                           \
        m = S_MAX(m, v);                                                      \
      }                                                                       \
    }                                                                         \
    ROW_COMBINE(ACC, shared, m, S_MAX);                                       \
    VCT vs = VSPLAT(K(0.0));                                                  \
    FOR_ROW_VECTORS(j, 0, n) {                                                \
      const VCT e = exp(row_loadv(y, &a, 1, base[1], j) - m);                 \
      vs += e;                                                                \
      if (CACHE_EXP && !LOG) row_storev(y, &a, 1, base[1], j, e);             \
    }                                                                         \
    ACC s;                                                                    \
    LANES_COMBINE(ACC, vs, s, S_SUM);                                         \
    {                                                                         \
      FOR_ROW_TAIL(j, 0, n) {                                                 \
        const ACC e = exp(LOAD(DT, y, row_at(&a, 1, base[1], j)) - m);        \
        s += e;                                                               \
        if (CACHE_EXP && !LOG) STORE(DT, y, row_at(&a, 1, base[1], j), e);    \
      }                                                                       \
    }                                                                         \
    ROW_COMBINE(ACC, shared, s, S_SUM);                                       \
    const ACC log_s = LOG ? log(s) : K(0.0);                                  \
    const ACC inv_s = K(1.0) / s;                                             \
    FOR_ROW_VECTORS(j, 0, n) {                                                \
      VCT out;                                                                \
      if (LOG)                                                                \
        out = (row_loadv(y, &a, 1, base[1], j) - m) - log_s;                  \
      else if (CACHE_EXP)                                                     \
        out = row_loadv(y, &a, 1, base[1], j) * inv_s;                        \
      else                                                                    \
        out = exp(row_loadv(y, &a, 1, base[1], j) - m) * inv_s;               \
      row_storev(y, &a, 1, base[1], j, out);                                  \
    }                                                                         \
    {                                                                         \
      FOR_ROW_TAIL(j, 0, n) {                                                 \
        ACC out;                                                              \
        if (LOG)                                                              \
          out = (LOAD(DT, y, row_at(&a, 1, base[1], j)) - m) - log_s;         \
        else if (CACHE_EXP)                                                   \
          out = LOAD(DT, y, row_at(&a, 1, base[1], j)) * inv_s;               \
        else                                                                  \
          out = exp(LOAD(DT, y, row_at(&a, 1, base[1], j)) - m) * inv_s;      \
        STORE(DT, y, row_at(&a, 1, base[1], j), out);                         \
      }                                                                       \
    }                                                                         \
  }

#if ROW_THREADS > 1
#define SOFTMAX_SHARED LOCAL ACC shared[ROW_THREADS];
#else
#define SOFTMAX_SHARED
#endif

SOFTMAX_KERNEL(softmax, 0)
SOFTMAX_KERNEL(log_softmax, 1)

/* The gradients, from the forward's output y and dy (operands 0 y, 1 dy,
 * 2 dx): pass 1 sums dy*y (softmax) or dy (log-softmax) over the row, in
 * float (double for f64) in the fixed order of rows.h; pass 2 writes
 *   softmax      dx = y * (dy - s)
 *   log-softmax  dx = dy - exp(y) * s.
 * dx may be dy's very memory: the work-item that writes dx_j read dy_j
 * (in both passes) itself, before. */
#define SOFTMAX_BACKWARD_KERNEL(name, LOG)                                                \
  KERNEL void name(GLOBAL const T* y, GLOBAL const T* dy, GLOBAL T* dx, ck_rows a GRID_PARAMS) { \
    SOFTMAX_SHARED                                                                        \
    const I64 row = ROW_INDEX();                                                          \
    ROW_SKIP_PAST_END(row)                                                                \
    I64 base[3];                                                                          \
    row_bases(&a, row, 3, base);                                                          \
    const I64 n = a.n;                                                                    \
    VCT vs = VSPLAT(K(0.0));                                                              \
    FOR_ROW_VECTORS(j, 0, n) {                                                            \
      const VCT g = row_loadv(dy, &a, 1, base[1], j);                                     \
      if (LOG)                                                                            \
        vs += g;                                                                          \
      else                                                                                \
        vs += g * row_loadv(y, &a, 0, base[0], j);                                        \
    }                                                                                     \
    ACC s;                                                                                \
    LANES_COMBINE(ACC, vs, s, S_SUM);                                                     \
    {                                                                                     \
      FOR_ROW_TAIL(j, 0, n) {                                                             \
        const ACC g = LOAD(DT, dy, row_at(&a, 1, base[1], j));                            \
        if (LOG)                                                                          \
          s += g;                                                                         \
        else                                                                              \
          s += g * LOAD(DT, y, row_at(&a, 0, base[0], j));                                \
      }                                                                                   \
    }                                                                                     \
    ROW_COMBINE(ACC, shared, s, S_SUM);                                                   \
    FOR_ROW_VECTORS(j, 0, n) {                                                            \
      const VCT g = row_loadv(dy, &a, 1, base[1], j);                                     \
      const VCT v = row_loadv(y, &a, 0, base[0], j);                                      \
      VCT out;                                                                            \
      if (LOG)                                                                            \
        out = g - exp(v) * s;                                                             \
      else                                                                                \
        out = v * (g - s);                                                                \
      row_storev(dx, &a, 2, base[2], j, out);                                             \
    }                                                                                     \
    {                                                                                     \
      FOR_ROW_TAIL(j, 0, n) {                                                             \
        const ACC g = LOAD(DT, dy, row_at(&a, 1, base[1], j));                            \
        const ACC v = LOAD(DT, y, row_at(&a, 0, base[0], j));                             \
        STORE(DT, dx, row_at(&a, 2, base[2], j), LOG ? g - exp(v) * s : v * (g - s));     \
      }                                                                                   \
    }                                                                                     \
  }

SOFTMAX_BACKWARD_KERNEL(softmax_backward, 0)
SOFTMAX_BACKWARD_KERNEL(log_softmax_backward, 1)
