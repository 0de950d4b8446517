/* softmax.cl — softmax and log-softmax along the last axis, one program per
 * (DT, ROW_LAYOUT); rows.h says how a row is walked.
 *
 * Passes over a row: (1) its maximum m (IEEE maximum, so a NaN anywhere, or
 * an infinite maximum, turns the whole row into NaN exactly as the formula
 * of docs/ops.md does); (2) s = sum of e^(x - m), accumulated in float (double
 * for f64); (3) the output. Only pass 1 normally reads memory: a row is
 * visited by the same work-items in every pass and is still in cache.
 * When the output is stored in the compute precision (f32, f64), pass 2
 * also writes e^(x - m) to y and pass 3 divides it in place, so each element
 * costs one exponential (on CPUs the exponential, not memory, bounds this
 * op). For f16/bf16 outputs pass 3 recomputes e^(x - m), since storing it
 * would round it twice.
 */
#define ACC CT
#define VSPLAT(x) CAT(vsplat_, CLASS(DT))(x)
#define S_MAX(u, v) CK_MAXIMUM(u, v)
#define S_SUM(u, v) ((u) + (v))

#define SOFTMAX_KERNEL(name, LOG)                                             \
  KERNEL void name(GLOBAL const T* x, GLOBAL T* y, ck_rows a) {               \
    SOFTMAX_SHARED                                                            \
    const I64 row = ROW_INDEX();                                              \
    ROW_SKIP_PAST_END(row)                                                \
    I64 base[2];                                                              \
    row_bases(&a, row, 2, base);                                              \
    const I64 n = a.n;                                                        \
    VCT vm = VSPLAT(-INFINITY);                                               \
    FOR_ROW_VECTORS(j, 0, n) {                                                \
      const VCT v = row_loadv(x, &a, 0, base[0], j);                          \
      vm = S_MAX(vm, v);                                                      \
    }                                                                         \
    ACC m;                                                                    \
    LANES_COMBINE(ACC, vm, m, S_MAX);                                         \
    {                                                  \
      FOR_ROW_TAIL(j, 0, n) {                                        \
        const ACC v = LOAD(DT, x, row_at(&a, 0, base[0], j));                 \
        m = S_MAX(m, v);                                                      \
      }                                                                       \
    }                                                                         \
    ROW_COMBINE(ACC, shared, m, S_MAX);                                       \
    VCT vs = VSPLAT(K(0.0));                                                  \
    FOR_ROW_VECTORS(j, 0, n) {                                                \
      const VCT e = exp(row_loadv(x, &a, 0, base[0], j) - m);                 \
      vs += e;                                                                \
      if (CACHE_EXP && !LOG) row_storev(y, &a, 1, base[1], j, e);             \
    }                                                                         \
    ACC s;                                                                    \
    LANES_COMBINE(ACC, vs, s, S_SUM);                                         \
    {                                                  \
      FOR_ROW_TAIL(j, 0, n) {                                        \
        const ACC e = exp(LOAD(DT, x, row_at(&a, 0, base[0], j)) - m);        \
        s += e;                                                               \
        if (CACHE_EXP && !LOG) STORE(DT, y, row_at(&a, 1, base[1], j), e);    \
      }                                                                       \
    }                                                                         \
    ROW_COMBINE(ACC, shared, s, S_SUM);                                       \
    const ACC log_s = LOG ? log(s) : K(0.0);                                  \
    FOR_ROW_VECTORS(j, 0, n) {                                                \
      VCT out;                                                                \
      if (LOG)                                                                \
        out = (row_loadv(x, &a, 0, base[0], j) - m) - log_s;                  \
      else if (CACHE_EXP)                                                     \
        out = row_loadv(y, &a, 1, base[1], j) / s;                            \
      else                                                                    \
        out = exp(row_loadv(x, &a, 0, base[0], j) - m) / s;                   \
      row_storev(y, &a, 1, base[1], j, out);                                  \
    }                                                                         \
    {                                                  \
      FOR_ROW_TAIL(j, 0, n) {                                        \
        ACC out;                                                              \
        if (LOG)                                                              \
          out = (LOAD(DT, x, row_at(&a, 0, base[0], j)) - m) - log_s;         \
        else if (CACHE_EXP)                                                   \
          out = LOAD(DT, y, row_at(&a, 1, base[1], j)) / s;                   \
        else                                                                  \
          out = exp(LOAD(DT, x, row_at(&a, 0, base[0], j)) - m) / s;          \
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
