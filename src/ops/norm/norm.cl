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

/* The gradients (layer_norm_backward, rms_norm_backward). Operands of the
 * row kernel: 0 x, 1 dy, 2 gamma (may be absent), 3 dx (may be absent).
 * The statistics are the forward's, computed the same way (the mean, then
 * the squares around it); the second pass also sums g = dy * gamma and
 * g * d, d = x - mean, so that
 *   dx = r * (g - sum(g)/n - d * r^2 * sum(g * d)/n),  r = 1/sqrt(var + eps)
 * (RMS norm: d = x, no sum(g) term) takes three passes over the row. With
 * write_stats thread 0 also stores (mean, r) of each row there for
 * the parameter gradients; with write_dx 0 nothing else is written (and
 * dy is not read). dx may
 * be dy's very memory: the work-item that writes dx_j read dy_j itself,
 * earlier, and the parameter gradients run before this writes dx. */
#define NORM_BACKWARD_KERNEL(name, LAYER)                                                 \
  KERNEL void name(GLOBAL const T* x, GLOBAL const T* dy, GLOBAL const T* gamma,            \
                   GLOBAL T* dx, GLOBAL ACC* stats, ck_rows a, ACC eps, I32 has_gamma,      \
                   I32 write_stats, I32 write_dx GRID_PARAMS) {                             \
    NORM_SHARED                                                                             \
    const I64 row = ROW_INDEX();                                                            \
    ROW_SKIP_PAST_END(row)                                                                  \
    I64 base[4];                                                                            \
    row_bases(&a, row, 4, base);                                                            \
    const I64 n = a.n;                                                                      \
    ACC mean = K(0.0);                                                                      \
    if (LAYER) {                                                                            \
      VCT vs = VSPLAT(K(0.0));                                                              \
      FOR_ROW_VECTORS(j, 0, n) vs += row_loadv(x, &a, 0, base[0], j);                       \
      ACC s;                                                                                \
      LANES_COMBINE(ACC, vs, s, N_SUM);                                                     \
      FOR_ROW_TAIL(j, 0, n) s += LOAD(DT, x, row_at(&a, 0, base[0], j));                    \
      ROW_COMBINE(ACC, shared, s, N_SUM);                                                   \
      mean = s / (ACC)n;                                                                    \
    }                                                                                       \
    VCT vq = VSPLAT(K(0.0)), vg = VSPLAT(K(0.0)), vgd = VSPLAT(K(0.0));                     \
    FOR_ROW_VECTORS(j, 0, n) {                                                              \
      const VCT d = row_loadv(x, &a, 0, base[0], j) - mean;                                 \
      vq += d * d;                                                                          \
      if (write_dx) {                                                                       \
        VCT g = row_loadv(dy, &a, 1, base[1], j);                                           \
        if (has_gamma) g = g * row_loadv(gamma, &a, 2, base[2], j);                         \
        vg += g;                                                                            \
        vgd += g * d;                                                                       \
      }                                                                                     \
    }                                                                                       \
    ACC q, sg, sgd;                                                                         \
    LANES_COMBINE(ACC, vq, q, N_SUM);                                                       \
    LANES_COMBINE(ACC, vg, sg, N_SUM);                                                      \
    LANES_COMBINE(ACC, vgd, sgd, N_SUM);                                                    \
    {                                                                                       \
      FOR_ROW_TAIL(j, 0, n) {                                                               \
        const ACC d = LOAD(DT, x, row_at(&a, 0, base[0], j)) - mean;                        \
        q += d * d;                                                                         \
        if (write_dx) {                                                                     \
          ACC g = LOAD(DT, dy, row_at(&a, 1, base[1], j));                                  \
          if (has_gamma) g = g * LOAD(DT, gamma, row_at(&a, 2, base[2], j));                \
          sg += g;                                                                          \
          sgd += g * d;                                                                     \
        }                                                                                   \
      }                                                                                     \
    }                                                                                       \
    ROW_COMBINE(ACC, shared, q, N_SUM);                                                     \
    ROW_COMBINE(ACC, shared, sg, N_SUM);                                                    \
    ROW_COMBINE(ACC, shared, sgd, N_SUM);                                                   \
    const ACC r = K(1.0) / sqrt(q / (ACC)n + eps);                                          \
    if (write_stats && ROW_THREAD() == 0) {                                                     \
      stats[2 * row] = mean;                                                                \
      stats[2 * row + 1] = r;                                                               \
    }                                                                                       \
    if (write_dx) {                                                                         \
      const ACC c1 = LAYER ? sg / (ACC)n : K(0.0);                                          \
      const ACC c2 = r * r * sgd / (ACC)n;                                                  \
      FOR_ROW_VECTORS(j, 0, n) {                                                            \
        const VCT d = row_loadv(x, &a, 0, base[0], j) - mean;                               \
        VCT g = row_loadv(dy, &a, 1, base[1], j);                                           \
        if (has_gamma) g = g * row_loadv(gamma, &a, 2, base[2], j);                         \
        row_storev(dx, &a, 3, base[3], j, r * (g - c1 - d * c2));                           \
      }                                                                                     \
      {                                                                                     \
        FOR_ROW_TAIL(j, 0, n) {                                                             \
          const ACC d = LOAD(DT, x, row_at(&a, 0, base[0], j)) - mean;                      \
          ACC g = LOAD(DT, dy, row_at(&a, 1, base[1], j));                                  \
          if (has_gamma) g = g * LOAD(DT, gamma, row_at(&a, 2, base[2], j));                \
          STORE(DT, dx, row_at(&a, 3, base[3], j), r * (g - c1 - d * c2));                  \
        }                                                                                   \
      }                                                                                     \
    }                                                                                       \
  }

NORM_BACKWARD_KERNEL(layer_norm_backward, 1)
NORM_BACKWARD_KERNEL(rms_norm_backward, 0)

/* dgamma = sum over rows of dy * d * r, dbeta = sum over rows of dy, in two
 * fixed-order steps (no atomics: the same bits run after run, whatever the
 * grid). Step 1: work-item p * nv + v (nv = ceil(n / VW)) sums columns
 * j = v VW .. v VW + VW - 1 over rows [p * per_part, (p + 1) * per_part),
 * a VW-lane vector per row (the columns past n one at a time), into
 * partial[2 (p n + j)] (dgamma's) and partial[2 (p n + j) + 1] (dbeta's);
 * x and dy are operands 0 and 1 of the row kernel's ck_rows, stats its
 * (mean, r) per row. Each column's sum is the same scalar sequence
 * whichever lane holds it. */
KERNEL void norm_param_grad_partial(GLOBAL const T* x, GLOBAL const T* dy,
                                    GLOBAL const ACC* stats, GLOBAL ACC* partial, ck_rows a,
                                    I64 per_part, I64 parts GRID_PARAMS) {
  const I64 item = global_id(0);
  const I64 n = a.n;
  const I64 nv = (n + VW - 1) / VW;
  if (item >= parts * nv) return;
  const I64 p = item / nv, j0 = (item - p * nv) * VW;
  const I64 first = p * per_part;
  const I64 end = first + per_part < a.rows ? first + per_part : a.rows;
  GLOBAL ACC* out = partial + 2 * (p * n + j0);
  if (j0 + VW <= n) {
    VCT sg = VSPLAT(K(0.0)), sb = VSPLAT(K(0.0));
    for (I64 row = first; row < end; ++row) {
      I64 base[2];
      row_bases(&a, row, 2, base);
      const VCT g = row_loadv(dy, &a, 1, base[1], j0);
      const VCT d = row_loadv(x, &a, 0, base[0], j0) - stats[2 * row];
      sg += g * (d * stats[2 * row + 1]);
      sb += g;
    }
    ACC lg[VW], lb[VW];
    VCT_TO_ARRAY(sg, lg);
    VCT_TO_ARRAY(sb, lb);
    for (int l = 0; l < VW; ++l) {
      out[2 * l] = lg[l];
      out[2 * l + 1] = lb[l];
    }
  } else {
    for (I64 j = j0; j < n; ++j) {
      ACC sg = K(0.0), sb = K(0.0);
      for (I64 row = first; row < end; ++row) {
        I64 base[2];
        row_bases(&a, row, 2, base);
        const ACC g = LOAD(DT, dy, row_at(&a, 1, base[1], j));
        const ACC d = LOAD(DT, x, row_at(&a, 0, base[0], j)) - stats[2 * row];
        sg += g * (d * stats[2 * row + 1]);
        sb += g;
      }
      out[2 * (j - j0)] = sg;
      out[2 * (j - j0) + 1] = sb;
    }
  }
}

/* Step 2: work-item j adds the parts of column j in order and stores
 * dgamma_j and dbeta_j (either may be absent) at offset + j * stride. */
KERNEL void norm_param_grad_final(GLOBAL const ACC* partial, GLOBAL T* dgamma, GLOBAL T* dbeta,
                                  I64 n, I64 parts, I32 has_dgamma, I32 has_dbeta, I64 g_offset,
                                  I64 g_stride, I64 b_offset, I64 b_stride GRID_PARAMS) {
  const I64 j = global_id(0);
  if (j >= n) return;
  ACC sg = K(0.0), sb = K(0.0);
  for (I64 p = 0; p < parts; ++p) {
    sg += partial[2 * (p * n + j)];
    sb += partial[2 * (p * n + j) + 1];
  }
  if (has_dgamma) STORE(DT, dgamma, g_offset + j * g_stride, sg);
  if (has_dbeta) STORE(DT, dbeta, b_offset + j * b_stride, sb);
}

/* Batch norm (batch_norm, batch_norm_backward): one row per channel over the
 * values it spans (N and the spatial axes: ROW_GENERIC when several), in
 * the fixed order of rows.h; the per-channel tensors come through
 * ck_channels (element `row`). Forward operands 0 x, 1 y; channel tensors
 * 0 gamma, 1 beta, 2 running_mean, 3 running_var. Training: the mean, then
 * the squares around it, as the norms above; thread 0 updates the running
 * statistics (the variance unbiased, n / (n - 1)). y may be x itself. */
#define CHANNEL(t) (ch.offset[t] + row * ch.stride[t])

#if ROW_LAYOUT == ROW_GENERIC
/* A channel spans several axes (N and the spatial ones; the normal form merges
 * those it can, so NCHW arrives as [N, H*W]). Its values are walked as runs
 * along the last axis: a run's start is decomposed over the other axes once
 * per run, not once per element (row_at's division per element and axis
 * made batch norm 40 times slower than layer norm over the same bytes on
 * PoCL). Thread t visits elements t, t + ROW_THREADS, ... in run order,
 * always the same order. */
typedef struct bn_cursor {
  I64 k, run, len;
  I64 at[3];
} bn_cursor;

DEVICE_FN void bn_place(bn_cursor* c, const ck_rows* a, int operands, const I64* base) {
  I64 run = c->run;
  for (int t = 0; t < operands; ++t) c->at[t] = base[t];
  for (I64 d = a->inner_rank - 2; d >= 0; --d) {
    const I64 q = run % a->inner_shape[d];
    run /= a->inner_shape[d];
    for (int t = 0; t < operands; ++t) c->at[t] += q * a->inner_strides[t][d];
  }
}

DEVICE_FN void bn_start(bn_cursor* c, const ck_rows* a, int operands, const I64* base,
                        I64 thread) {
  c->len = a->inner_shape[a->inner_rank - 1];
  c->run = c->len > 0 ? thread / c->len : 0;
  c->k = c->len > 0 ? thread % c->len : 0;
  if (a->n > 0) bn_place(c, a, operands, base);  /* no extent is 0 then */
}

DEVICE_FN void bn_next(bn_cursor* c, const ck_rows* a, int operands, const I64* base) {
  c->k += ROW_THREADS;
  if (c->k >= c->len) {
    c->run += c->k / c->len;
    c->k %= c->len;
    bn_place(c, a, operands, base);
  }
}

/* Element offset of operand t at the cursor. */
#define BN_AT(c, t) ((c).at[t] + (c).k * a.inner_strides[t][a.inner_rank - 1])
/* Declares cursor c and loops over this thread's elements of the row; the
 * body reads them through BN_AT. Each use in a block of its own. */
#define BN_FOR(c, operands)                                     \
  bn_cursor c;                                                  \
  bn_start(&c, &a, (operands), base, ROW_THREAD());             \
  for (I64 bn_j = ROW_THREAD(); bn_j < n;                       \
       bn_j += ROW_THREADS, bn_next(&c, &a, (operands), base))
/* This thread's part of the sum of x into s. */
#define BN_SUM_X(operands) \
  BN_FOR(c, operands) s += LOAD(DT, x, BN_AT(c, 0));
#else
#define BN_SUM_X(operands)                                                 \
  VCT vs = VSPLAT(K(0.0));                                                 \
  FOR_ROW_VECTORS(j, 0, n) vs += row_loadv(x, &a, 0, base[0], j);         \
  LANES_COMBINE(ACC, vs, s, N_SUM);                                        \
  FOR_ROW_TAIL(j, 0, n) s += LOAD(DT, x, row_at(&a, 0, base[0], j));
#endif

/* Declares the channel's `mean`: in training the sum of its values over
 * every thread of the row, else running_mean's element (channel tensor
 * mean_slot). Every barrier (ROW_COMBINE) of the batch norm kernels is
 * outside the branches on `training` (the sums are 0 in inference): PoCL
 * 3.1 did not finish the first version, with them inside, under the GPU
 * tuning. */
#define BN_MEAN(operands, mean_slot)                 \
  ACC s = K(0.0);                                    \
  if (training) {                                    \
    BN_SUM_X(operands)                               \
  }                                                  \
  ROW_COMBINE(ACC, shared, s, N_SUM);                \
  const ACC mean = training ? s / (ACC)n : (ACC)LOAD(DT, running_mean, CHANNEL(mean_slot));

KERNEL void batch_norm(GLOBAL const T* x, GLOBAL T* y, GLOBAL const T* gamma,
                       GLOBAL const T* beta, GLOBAL T* running_mean, GLOBAL T* running_var,
                       ck_rows a, ck_channels ch, ACC eps, ACC momentum, I32 training,
                       I32 has_gamma, I32 has_beta, I32 update GRID_PARAMS) {
  NORM_SHARED
  const I64 row = ROW_INDEX();
  ROW_SKIP_PAST_END(row)
  I64 base[2];
  row_bases(&a, row, 2, base);
  const I64 n = a.n;
  BN_MEAN(2, 2)
  ACC q = K(0.0);
  if (training) {
#if ROW_LAYOUT == ROW_GENERIC
    BN_FOR(c, 2) {
      const ACC d = LOAD(DT, x, BN_AT(c, 0)) - mean;
      q += d * d;
    }
#else
    VCT vq = VSPLAT(K(0.0));
    FOR_ROW_VECTORS(j, 0, n) {
      const VCT d = row_loadv(x, &a, 0, base[0], j) - mean;
      vq += d * d;
    }
    LANES_COMBINE(ACC, vq, q, N_SUM);
    FOR_ROW_TAIL(j, 0, n) {
      const ACC d = LOAD(DT, x, row_at(&a, 0, base[0], j)) - mean;
      q += d * d;
    }
#endif
  }
  ROW_COMBINE(ACC, shared, q, N_SUM);
  const ACC var = training ? q / (ACC)n : (ACC)LOAD(DT, running_var, CHANNEL(3));
  if (training) {
    if (update && ROW_THREAD() == 0) {
      const ACC rm = LOAD(DT, running_mean, CHANNEL(2));
      const ACC rv = LOAD(DT, running_var, CHANNEL(3));
      STORE(DT, running_mean, CHANNEL(2), (K(1.0) - momentum) * rm + momentum * mean);
      STORE(DT, running_var, CHANNEL(3),
            (K(1.0) - momentum) * rv + momentum * (var * (ACC)n / (ACC)(n - 1)));
    }
  }
  const ACC rstd = K(1.0) / sqrt(var + eps);
  const ACC g = has_gamma ? (ACC)LOAD(DT, gamma, CHANNEL(0)) : K(1.0);
  const ACC b = has_beta ? (ACC)LOAD(DT, beta, CHANNEL(1)) : K(0.0);
#if ROW_LAYOUT == ROW_GENERIC
  {
    BN_FOR(c, 2) STORE(DT, y, BN_AT(c, 1), (LOAD(DT, x, BN_AT(c, 0)) - mean) * rstd * g + b);
  }
#else
  FOR_ROW_VECTORS(j, 0, n)
    row_storev(y, &a, 1, base[1], j, (row_loadv(x, &a, 0, base[0], j) - mean) * rstd * g + b);
  {
    FOR_ROW_TAIL(j, 0, n) {
      const ACC v = LOAD(DT, x, row_at(&a, 0, base[0], j));
      STORE(DT, y, row_at(&a, 1, base[1], j), (v - mean) * rstd * g + b);
    }
  }
#endif
}

/* The gradients. Operands 0 x, 1 dy, 2 dx (may be absent; may be dy's very
 * memory); channel tensors 0 gamma, 1 running_mean, 2 running_var,
 * 3 dgamma, 4 dbeta. With d = x - mean, r = 1/sqrt(var + eps), sums over
 * the channel: dgamma = r sum(dy d), dbeta = sum(dy) (0 for an empty
 * batch); dx = gamma r (dy - sum(dy)/n - d r^2 sum(dy d)/n) in training,
 * gamma r dy with the running statistics. */
KERNEL void batch_norm_backward(GLOBAL const T* x, GLOBAL const T* dy, GLOBAL T* dx,
                                GLOBAL const T* gamma, GLOBAL const T* running_mean,
                                GLOBAL const T* running_var, GLOBAL T* dgamma, GLOBAL T* dbeta,
                                ck_rows a, ck_channels ch, ACC eps, I32 training, I32 has_gamma,
                                I32 has_dx, I32 has_dgamma, I32 has_dbeta GRID_PARAMS) {
  NORM_SHARED
  const I64 row = ROW_INDEX();
  ROW_SKIP_PAST_END(row)
  I64 base[3];
  row_bases(&a, row, 3, base);
  const I64 n = a.n;
  BN_MEAN(3, 1)
  ACC q = K(0.0), sg = K(0.0), sgd = K(0.0);
#if ROW_LAYOUT == ROW_GENERIC
  {
    BN_FOR(c, 3) {
      const ACC d = LOAD(DT, x, BN_AT(c, 0)) - mean;
      const ACC g = LOAD(DT, dy, BN_AT(c, 1));
      q += d * d;
      sg += g;
      sgd += g * d;
    }
  }
#else
  VCT vq = VSPLAT(K(0.0)), vg = VSPLAT(K(0.0)), vgd = VSPLAT(K(0.0));
  FOR_ROW_VECTORS(j, 0, n) {
    const VCT d = row_loadv(x, &a, 0, base[0], j) - mean;
    const VCT g = row_loadv(dy, &a, 1, base[1], j);
    vq += d * d;
    vg += g;
    vgd += g * d;
  }
  LANES_COMBINE(ACC, vq, q, N_SUM);
  LANES_COMBINE(ACC, vg, sg, N_SUM);
  LANES_COMBINE(ACC, vgd, sgd, N_SUM);
  {
    FOR_ROW_TAIL(j, 0, n) {
      const ACC d = LOAD(DT, x, row_at(&a, 0, base[0], j)) - mean;
      const ACC g = LOAD(DT, dy, row_at(&a, 1, base[1], j));
      q += d * d;
      sg += g;
      sgd += g * d;
    }
  }
#endif
  ROW_COMBINE(ACC, shared, q, N_SUM);
  ROW_COMBINE(ACC, shared, sg, N_SUM);
  ROW_COMBINE(ACC, shared, sgd, N_SUM);
  const ACC var = training ? q / (ACC)n : (ACC)LOAD(DT, running_var, CHANNEL(2));
  const ACC r = K(1.0) / sqrt(var + eps);
  if (ROW_THREAD() == 0) {
    if (has_dgamma) STORE(DT, dgamma, CHANNEL(3), n == 0 ? K(0.0) : sgd * r);
    if (has_dbeta) STORE(DT, dbeta, CHANNEL(4), sg);
  }
  if (!has_dx) return;
  const ACC scale = (has_gamma ? (ACC)LOAD(DT, gamma, CHANNEL(0)) : K(1.0)) * r;
  const ACC c1 = training ? sg / (ACC)n : K(0.0);
  const ACC c2 = training ? r * r * sgd / (ACC)n : K(0.0);
#if ROW_LAYOUT == ROW_GENERIC
  {
    BN_FOR(c, 3) {
      const ACC d = LOAD(DT, x, BN_AT(c, 0)) - mean;
      const ACC g = LOAD(DT, dy, BN_AT(c, 1));
      STORE(DT, dx, BN_AT(c, 2), training ? scale * (g - c1 - d * c2) : scale * g);
    }
  }
#else
  FOR_ROW_VECTORS(j, 0, n) {
    const VCT d = row_loadv(x, &a, 0, base[0], j) - mean;
    const VCT g = row_loadv(dy, &a, 1, base[1], j);
    row_storev(dx, &a, 2, base[2], j, training ? scale * (g - c1 - d * c2) : scale * g);
  }
  {
    FOR_ROW_TAIL(j, 0, n) {
      const ACC d = LOAD(DT, x, row_at(&a, 0, base[0], j)) - mean;
      const ACC g = LOAD(DT, dy, row_at(&a, 1, base[1], j));
      STORE(DT, dx, row_at(&a, 2, base[2], j), training ? scale * (g - c1 - d * c2) : scale * g);
    }
  }
#endif
}
