/* gemm.cl — c = act(alpha * a @ b + beta * c + bias) on [batch, M, K] x
 * [batch, K, N], one program per DT. Two kernels:
 *
 *   gemm_pack: copies a and b, through any strides (transposes
 *     and batch broadcasts arrive as strides) and from any float dtype, into
 *     zero-padded panels in the accumulation type: a as [M/MR][K][MR], b as
 *     [N/NR][K][NR] (rows of b stored contiguously move as vectors). Packing is what makes the multiply fast and simple: its
 *     loads are unit-stride, aligned and never out of bounds, and no
 *     power-of-two leading dimension can alias cache sets.
 *   gemm_multiply: each work-item owns an MR x NR block of c in registers
 *     (NR/VW vectors of VW lanes per row), walks k in order with one fused
 *     multiply-add per lane, then applies the epilogue element by element.
 *     With GEMM_LOCAL the work-group first stages KC-deep slabs of its
 *     LM a-panels and LN b-panels in local memory (the GPU path); without
 *     it, each work-item streams its panels from global memory, which on
 *     CPUs sit in cache (PoCL emulates local memory and barriers at a cost
 *     that outweighs what they buy there).
 * Every element is the same k-ordered sum in either path, so the results
 * are identical and bitwise reproducible. Tile sizes (MR, NR, VW, LM, LN,
 * KC) come from the host's tuning table.
 */
#define T STORAGE(DT)
#define CT COMPUTE(DT)
#define VCT VCOMPUTE(DT)
#define ACC CT
#define VACC VCT
#define VSPLAT(x) CAT(vsplat_, CLASS(DT))(x)
#define NV (NR / VW)
#if DT_IS_F64
#define LOADV_ACC(p, i) loadv_f64((p), (i))
#define STOREV_ACC(p, i, v) storev_f64((p), (i), (v))
#define LOADV_LOCAL_ACC(p, i) loadv_local_f64((p), (i))
#define ACC_TO_ARRAY VD_TO_ARRAY
#else
#define LOADV_ACC(p, i) loadv_f32((p), (i))
#define STOREV_ACC(p, i, v) storev_f32((p), (i), (v))
#define LOADV_LOCAL_ACC(p, i) loadv_local_f32((p), (i))
#define ACC_TO_ARRAY VF_TO_ARRAY
#endif

/* One launch packs both operands: work-item (k, p, batch) packs the k-slice
 * of a-panel p (MR values of a's column k) when p < a_panels, else of
 * b-panel p - a_panels (NR values of b's row k). */
KERNEL void gemm_pack(GLOBAL const T* a_, GLOBAL const T* b_, GLOBAL ACC* a_packed,
                      GLOBAL ACC* b_packed, ck_gemm g GRID_PARAMS) {
  const I64 k = global_id(0), p = global_id(1), b = global_id(2);
  const I64 a_panels = g.m_padded / MR;
  if (k >= g.k) return;
  if (p < a_panels) {
    if (b >= g.a_batches) return;
    const I64 row0 = p * MR;
    const I64 src = g.a_offset + b * g.a_strides[0] + k * g.a_strides[2];
    GLOBAL ACC* dst = a_packed + b * g.m_padded * g.k + (p * g.k + k) * MR;
    PRAGMA_UNROLL
    for (int i = 0; i < MR; ++i)
      dst[i] = row0 + i < g.m ? LOAD(DT, a_, src + (row0 + i) * g.a_strides[1]) : K(0.0);
    return;
  }
  if (b >= g.b_batches) return;
  const I64 panel = p - a_panels;
  const I64 col0 = panel * NR;
  const I64 src = g.b_offset + b * g.b_strides[0] + k * g.b_strides[1];
  GLOBAL ACC* dst = b_packed + b * g.n_padded * g.k + (panel * g.k + k) * NR;
  if (g.b_strides[2] == 1 && col0 + NR <= g.n) {
    /* The common case, a row of b stored contiguously: vectors. */
    PRAGMA_UNROLL
    for (int j = 0; j < NR; j += VW) STOREV_ACC(dst, j, LOADV(DT, b_, src + col0 + j));
  } else {
    PRAGMA_UNROLL
    for (int j = 0; j < NR; ++j)
      dst[j] = col0 + j < g.n ? LOAD(DT, b_, src + (col0 + j) * g.b_strides[2]) : K(0.0);
  }
}

/* The activations are unary ops, and their expressions are unary_table.h's
 * KERNEL column: every row becomes a function gemm_unary_<name> (those with
 * parameters take them, though no activation has any), and the epilogue
 * calls the one of chorus_activation's value. */
#define P0 ck_p0
#define P1 ck_p1
#define UNARY_OP(NAME, name, DTYPES, PARAMS, KERNEL, KI, R, RI, CHECK, REF, INPUTS) \
  DEVICE_FN ACC gemm_unary_##name(ACC x, ACC ck_p0, ACC ck_p1) {         \
    (void)ck_p0;                                                         \
    (void)ck_p1;                                                         \
    return KERNEL;                                                       \
  }
#include "unary_table.h"
#undef UNARY_OP

DEVICE_FN ACC gemm_activate(ACC v, I64 activation) {
  switch (activation) { /* chorus_activation */
    case 1: return gemm_unary_relu(v, K(0.0), K(0.0));
    case 2: return gemm_unary_gelu_erf(v, K(0.0), K(0.0));
    case 3: return gemm_unary_gelu_tanh(v, K(0.0), K(0.0));
    case 4: return gemm_unary_silu(v, K(0.0), K(0.0));
    default: return v;
  }
}

KERNEL void gemm_multiply(GLOBAL const ACC* a_packed, GLOBAL const ACC* b_packed, GLOBAL T* c,
                          GLOBAL const T* bias, ck_gemm g, ACC alpha, ACC beta GRID_PARAMS) {
  const I64 panel_m = global_id(0);
  const I64 panel_n = global_id(1);
  const I64 b = global_id(2);
  const I64 kk = g.k;
  const GLOBAL ACC* pa = a_packed + b * g.a_packed_batch_stride + panel_m * kk * MR;
  const GLOBAL ACC* pb = b_packed + b * g.b_packed_batch_stride + panel_n * kk * NR;

  VACC acc[MR][NV];
  PRAGMA_UNROLL
  for (int i = 0; i < MR; ++i) {
    PRAGMA_UNROLL
    for (int j = 0; j < NV; ++j) acc[i][j] = VSPLAT(K(0.0));
  }

#if GEMM_LOCAL
  /* Slabs of the work-group's LM a-panels and LN b-panels, KC deep. */
  LOCAL ACC a_slab[LM * KC * MR];
  LOCAL ACC b_slab[LN * KC * NR];
  const I64 lm = local_id(0), ln = local_id(1);
  const I64 threads = LM * LN, me = ln * LM + lm;
  const GLOBAL ACC* group_a = a_packed + b * g.a_packed_batch_stride + (panel_m - lm) * kk * MR;
  const GLOBAL ACC* group_b = b_packed + b * g.b_packed_batch_stride + (panel_n - ln) * kk * NR;
  for (I64 k0 = 0; k0 < kk; k0 += KC) {
    const I64 depth = CK_MIN_I64((I64)KC, kk - k0);
    for (I64 t = me; t < LM * depth * MR; t += threads) {
      const I64 p = t / (depth * MR), r = t % (depth * MR);
      a_slab[p * KC * MR + r] = group_a[p * kk * MR + k0 * MR + r];
    }
    for (I64 t = me; t < LN * depth * NR; t += threads) {
      const I64 p = t / (depth * NR), r = t % (depth * NR);
      b_slab[p * KC * NR + r] = group_b[p * kk * NR + k0 * NR + r];
    }
    barrier_local();
    for (I64 k = 0; k < depth; ++k) {
      VACC bv[NV];
      PRAGMA_UNROLL
      for (int j = 0; j < NV; ++j) bv[j] = LOADV_LOCAL_ACC(b_slab, ln * KC * NR + k * NR + j * VW);
      PRAGMA_UNROLL
      for (int i = 0; i < MR; ++i) {
        const VACC av = VSPLAT(a_slab[lm * KC * MR + k * MR + i]);
        PRAGMA_UNROLL
        for (int j = 0; j < NV; ++j) acc[i][j] = fma(av, bv[j], acc[i][j]);
      }
    }
    barrier_local();
  }
#else
  for (I64 k = 0; k < kk; ++k) {
    VACC bv[NV];
    PRAGMA_UNROLL
    for (int j = 0; j < NV; ++j) bv[j] = LOADV_ACC(pb, k * NR + j * VW);
    PRAGMA_UNROLL
    for (int i = 0; i < MR; ++i) {
      const VACC av = VSPLAT(pa[k * MR + i]);
      PRAGMA_UNROLL
      for (int j = 0; j < NV; ++j) acc[i][j] = fma(av, bv[j], acc[i][j]);
    }
  }
#endif

  /* Epilogue: c is not read when beta == 0 (it may hold NaN). */
  const I64 row0 = panel_m * MR, col0 = panel_n * NR;
  PRAGMA_UNROLL
  for (int i = 0; i < MR; ++i) {
    const I64 row = row0 + i;
    if (row >= g.m) break;
    PRAGMA_UNROLL
    for (int j = 0; j < NV; ++j) {
      ACC lanes[VW];
      ACC_TO_ARRAY(acc[i][j], lanes);
      for (int l = 0; l < VW; ++l) {
        const I64 col = col0 + j * VW + l;
        if (col >= g.n) break;
        const I64 at = g.c_offset + b * g.c_strides[0] + row * g.c_strides[1] + col * g.c_strides[2];
        ACC v = alpha * lanes[l];
        if (g.read_c) v += beta * LOAD(DT, c, at);
        if (g.has_bias)
          v += LOAD(DT, bias, g.bias_offset + b * g.bias_strides[0] + row * g.bias_strides[1] +
                                  col * g.bias_strides[2]);
        STORE(DT, c, at, gemm_activate(v, g.activation));
      }
    }
  }
}
