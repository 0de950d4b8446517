/* conv.cl — 2-D convolution as an implicit GEMM (ck_conv in args.h), one
 * program per (DT, MR, CONV_LINEAR). Kernels:
 *
 *   conv_pack: copies a tensor into a dense scratch array in the
 *     accumulation type, zero where the source has no element (padding,
 *     the holes of a stride): the padded input, dy spread out for the data
 *     gradient, dy as [c_out, n, oh, ow] for the weight gradient. Any
 *     strides and layout in, dense NCHW out.
 *   conv_pack_weights: the weights as panels [group][m_panels][k][MR],
 *     k = (c, kh, kw) in that order, flipped and transposed for the data
 *     gradient, zero-padded to MR rows.
 *   conv_multiply: each work-item owns MR output channels x NR pixels of one
 *     image in registers and walks k = (c, kh, kw) in order with one fused
 *     multiply-add per lane. The im2col matrix is never formed: the value of
 *     column (c, kh, kw) at a pixel is read from the padded source at the
 *     pixel's offset plus the tap's. With CONV_LINEAR (stride 1, source
 *     rows `pitch` apart) the pixels of a tile are NR consecutive positions
 *     of the virtual grid oh x pitch, so each tap is NR consecutive source
 *     elements, vector loads; the columns ow >= OW of that grid are computed
 *     and dropped (pitch - OW of every pitch: 2 of 58 for a 3x3, pad-1 layer
 *     on 56x56). Otherwise each lane keeps its own pixel offset (a gather).
 *   conv_weight_grad: dw as a GEMM whose sum runs over the pixels: each
 *     work-item owns MRW output channels x NRW columns (c, kh, kw), vectors
 *     run along the output row (dy and the source both contiguous there
 *     with stride 1), the row tail gathered with zeros beyond OW. A split
 *     over rows (chunks > 1) writes partial sums that conv_sum_chunks adds
 *     in chunk order: no atomics, the same bits on every run.
 *   conv_bias_grad: dbias, each channel's sum of dy in a fixed order.
 * Every output element is one fixed-order sum on a given device and tuning:
 * bitwise reproducible. MR, NR, VW come from the tuning table's GEMM tiles.
 */
#define T STORAGE(DT)
#define CT COMPUTE(DT)
#define ACC CT
#define VACC VCOMPUTE(DT)
#define VSPLAT(x) CAT(vsplat_, CLASS(DT))(x)
#define NV (NR / VW)
#if DT_IS_F64
#define LOADV_ACC(p, i) loadv_f64((p), (i))
#define ACC_TO_ARRAY VD_TO_ARRAY
#define ACC_FROM_ARRAY VD_FROM_ARRAY
#else
#define LOADV_ACC(p, i) loadv_f32((p), (i))
#define ACC_TO_ARRAY VF_TO_ARRAY
#define ACC_FROM_ARRAY VF_FROM_ARRAY
#endif

/* dw's element of channel (group * m + m) and column k = (c, kh, kw). */
DEVICE_FN I64 conv_dw_at(const ck_conv* c, I64 channel, I64 k) {
  const I64 taps = c->kh * c->kw, t = k % taps;
  return c->out_offset + channel * c->out_strides[0] + (k / taps) * c->out_strides[1] +
         (t / c->kw) * c->out_strides[2] + (t % c->kw) * c->out_strides[3];
}

/* Grid: dim 0 the element of axis 3, dim 1 axis 2, dim 2 axes 0 and 1. */
KERNEL void conv_pack(GLOBAL const T* src, GLOBAL ACC* dst, ck_conv_pack p GRID_PARAMS) {
  const I64 i3 = global_id(0), i2 = global_id(1), i01 = global_id(2);
  if (i3 >= p.d[3]) return;
  const I64 i0 = i01 / p.d[1], i1 = i01 % p.d[1];
  const I64 h = i2 - p.off_h, w = i3 - p.off_w;
  ACC v = K(0.0);
  if (h >= 0 && w >= 0 && h % p.up_h == 0 && w % p.up_w == 0 && h / p.up_h < p.src_h &&
      w / p.up_w < p.src_w)
    v = LOAD(DT, src, p.src_offset + i0 * p.src_strides[0] + i1 * p.src_strides[1] +
                          (h / p.up_h) * p.src_strides[2] + (w / p.up_w) * p.src_strides[3]);
  dst[((i0 * p.d[1] + i1) * p.d[2] + i2) * p.d[3] + i3] = v;
}

/* Grid: dim 0 k, dim 1 the panel, dim 2 the group. */
KERNEL void conv_pack_weights(GLOBAL const T* w, GLOBAL ACC* a, ck_conv c GRID_PARAMS) {
  const I64 k = global_id(0), panel = global_id(1), g = global_id(2);
  if (k >= c.k) return;
  const I64 taps = c.kh * c.kw;
  const I64 ci = k / taps, t = k % taps, kh = t / c.kw, kw = t % c.kw;
  GLOBAL ACC* dst = a + ((g * c.m_panels + panel) * c.k + k) * MR;
  for (int i = 0; i < MR; ++i) {
    const I64 m = panel * MR + i;
    ACC v = K(0.0);
    if (m < c.m) {
      const I64 at =
          c.flip ? c.w_offset + (g * c.cin + ci) * c.w_strides[0] + m * c.w_strides[1] +
                       (c.kh - 1 - kh) * c.w_strides[2] + (c.kw - 1 - kw) * c.w_strides[3]
                 : c.w_offset + (g * c.m + m) * c.w_strides[0] + ci * c.w_strides[1] +
                       kh * c.w_strides[2] + kw * c.w_strides[3];
      v = LOAD(DT, w, at);
    }
    dst[i] = v;
  }
}

/* acc[i][j] += a[kk][i] * bv[j] for the MR rows of the panel. */
#define CONV_MAC(kk)                                              \
  PRAGMA_UNROLL                                                   \
  for (int i = 0; i < MR; ++i) {                                  \
    const VACC av = VSPLAT(a[(kk) * MR + i]);                     \
    PRAGMA_UNROLL                                                 \
    for (int j = 0; j < NV; ++j) acc[i][j] = fma(av, bv[j], acc[i][j]); \
  }

/* Grid: dim 0 the pixel tile (n * tiles + tile), dim 1 the panel, dim 2 the
 * group. src is ACC: the scratch copy, or the input itself when its dtype
 * is the accumulation type and nothing needs padding. */
KERNEL void conv_multiply(GLOBAL const ACC* a_packed, GLOBAL const ACC* src, GLOBAL T* out,
                          GLOBAL const T* bias, ck_conv c GRID_PARAMS) {
  const I64 tile_id = global_id(0), panel = global_id(1), g = global_id(2);
  if (tile_id >= c.n * c.tiles || panel >= c.m_panels) return;
  const I64 n = tile_id / c.tiles, q0 = (tile_id % c.tiles) * NR;
  const GLOBAL ACC* a = a_packed + (g * c.m_panels + panel) * c.k * MR;
  const I64 base = c.src_offset + n * c.src_strides[0] + g * c.cin * c.src_strides[1];
  const I64 c_step = c.src_strides[1], h_step = c.dh * c.src_strides[2],
            w_step = c.dw * c.src_strides[3];

  VACC acc[MR][NV];
  PRAGMA_UNROLL
  for (int i = 0; i < MR; ++i) {
    PRAGMA_UNROLL
    for (int j = 0; j < NV; ++j) acc[i][j] = VSPLAT(K(0.0));
  }

#if CONV_LINEAR
  if (q0 + NR <= c.q_count) {
    /* A whole tile: every tap is NR consecutive source elements. */
    I64 kk = 0;
    for (I64 ci = 0; ci < c.cin; ++ci) {
      for (I64 kh = 0; kh < c.kh; ++kh) {
        const GLOBAL ACC* row = src + base + q0 + ci * c_step + kh * h_step;
        for (I64 kw = 0; kw < c.kw; ++kw, ++kk) {
          VACC bv[NV];
          PRAGMA_UNROLL
          for (int j = 0; j < NV; ++j) bv[j] = LOADV_ACC(row, kw * w_step + j * VW);
          CONV_MAC(kk)
        }
      }
    }
  } else
#endif
  {
    /* Each lane's pixel offset; lanes past the image repeat its last pixel
     * (computed, never stored), so every read stays inside the source. */
    I64 pix[NR];
    {
#if CONV_LINEAR
      I64 p = q0;
      PRAGMA_UNROLL
      for (int l = 0; l < NR; ++l) {
        pix[l] = p;
        if (p + 1 < c.q_count) ++p;
      }
#else
      I64 oh = q0 / c.ow, ow = q0 % c.ow;
      PRAGMA_UNROLL
      for (int l = 0; l < NR; ++l) {
        pix[l] = oh * c.sh * c.src_strides[2] + ow * c.sw * c.src_strides[3];
        if (q0 + l + 1 < c.q_count && ++ow == c.ow) {
          ow = 0;
          ++oh;
        }
      }
#endif
    }
    I64 kk = 0;
    for (I64 ci = 0; ci < c.cin; ++ci) {
      for (I64 kh = 0; kh < c.kh; ++kh) {
        for (I64 kw = 0; kw < c.kw; ++kw, ++kk) {
          const I64 tap = base + ci * c_step + kh * h_step + kw * w_step;
          VACC bv[NV];
          PRAGMA_UNROLL
          for (int j = 0; j < NV; ++j) {
            ACC lanes[VW];
            PRAGMA_UNROLL
            for (int l = 0; l < VW; ++l) lanes[l] = src[tap + pix[j * VW + l]];
            bv[j] = ACC_FROM_ARRAY(lanes);
          }
          CONV_MAC(kk)
        }
      }
    }
  }

  /* Epilogue: + bias, rounded once into out's dtype through its strides.
   * Each lane's output offset, or -1 where it has none (past the image, or
   * a column >= OW of the linear walk's grid). */
  I64 out_at[NR];
  {
    const I64 width = CONV_LINEAR ? c.pitch : c.ow;
    I64 oh = q0 / width, ow = q0 % width;
    PRAGMA_UNROLL
    for (int l = 0; l < NR; ++l) {
      out_at[l] = q0 + l < c.q_count && ow < c.ow
                      ? oh * c.out_strides[2] + ow * c.out_strides[3]
                      : -1;
      if (++ow == width) {
        ow = 0;
        ++oh;
      }
    }
  }
  PRAGMA_UNROLL
  for (int i = 0; i < MR; ++i) {
    const I64 m = panel * MR + i;
    if (m >= c.m) break;
    const I64 channel = g * c.m + m;
    const ACC b = c.has_bias ? (ACC)LOAD(DT, bias, c.bias_offset + channel * c.bias_stride)
                             : K(0.0);
    const I64 at0 = c.out_offset + n * c.out_strides[0] + channel * c.out_strides[1];
    PRAGMA_UNROLL
    for (int j = 0; j < NV; ++j) {
      ACC lanes[VW];
      ACC_TO_ARRAY(acc[i][j], lanes);
      PRAGMA_UNROLL
      for (int l = 0; l < VW; ++l) {
        const I64 at = out_at[j * VW + l];
        if (at >= 0) STORE(DT, out, at0 + at, lanes[l] + b);
      }
    }
  }
}

/* Grid: dim 0 the panel of MRW channels, dim 1 the panel of NRW columns,
 * dim 2 group * chunks + chunk. src: the padded input (ACC, dense or the
 * input itself); a: dy through a_strides (ACC, ow stride 1). */
KERNEL void conv_weight_grad(GLOBAL const ACC* a_src, GLOBAL const ACC* src, GLOBAL T* dw,
                             GLOBAL ACC* partial, ck_conv c GRID_PARAMS) {
  const I64 panel = global_id(0), kp = global_id(1), gz = global_id(2);
  const I64 g = gz / c.chunks, chunk = gz % c.chunks;
  if (panel * MRW >= c.m || kp * NRW >= c.k) return;
  const I64 r0 = chunk * c.rows_per_chunk;
  const I64 r1 = CK_MIN_I64(r0 + c.rows_per_chunk, c.rows);
  const I64 taps = c.kh * c.kw;
  I64 koff[NRW];
  PRAGMA_UNROLL
  for (int j = 0; j < NRW; ++j) {
    const I64 k = CK_MIN_I64(kp * NRW + j, c.k - 1), t = k % taps;
    koff[j] = (g * c.cin + k / taps) * c.src_strides[1] + (t / c.kw) * c.dh * c.src_strides[2] +
              (t % c.kw) * c.dw * c.src_strides[3];
  }
  I64 arow[MRW];
  PRAGMA_UNROLL
  for (int i = 0; i < MRW; ++i)
    arow[i] = c.a_offset + (g * c.m + CK_MIN_I64(panel * MRW + i, c.m - 1)) * c.a_strides[0];
  const bool vectors = c.sw == 1 && c.src_strides[3] == 1;

  VACC acc[MRW][NRW];
  PRAGMA_UNROLL
  for (int i = 0; i < MRW; ++i) {
    PRAGMA_UNROLL
    for (int j = 0; j < NRW; ++j) acc[i][j] = VSPLAT(K(0.0));
  }
  for (I64 r = r0; r < r1; ++r) {
    const I64 n = r / c.oh, oh = r % c.oh;
    const I64 xb = c.src_offset + n * c.src_strides[0] + oh * c.sh * c.src_strides[2];
    const I64 ab = n * c.a_strides[1] + oh * c.a_strides[2];
    I64 ow0 = 0;
    if (vectors) {
      for (; ow0 + VW <= c.ow; ow0 += VW) {
        VACC av[MRW], bv[NRW];
        PRAGMA_UNROLL
        for (int i = 0; i < MRW; ++i) av[i] = LOADV_ACC(a_src, arow[i] + ab + ow0);
        PRAGMA_UNROLL
        for (int j = 0; j < NRW; ++j) bv[j] = LOADV_ACC(src, xb + koff[j] + ow0);
        PRAGMA_UNROLL
        for (int i = 0; i < MRW; ++i) {
          PRAGMA_UNROLL
          for (int j = 0; j < NRW; ++j) acc[i][j] = fma(av[i], bv[j], acc[i][j]);
        }
      }
    }
    if (c.vector_tail && ow0 < c.ow) {
      /* The row's tail as whole vectors: a's rows are padded with zeros to
       * a multiple of VW and the source has VW elements of slack, so the
       * loads stay in bounds; the source's lanes past OW are zeroed (they
       * may hold the next row's values, Inf included). */
      VACC av[MRW], bv[NRW];
      PRAGMA_UNROLL
      for (int i = 0; i < MRW; ++i) av[i] = LOADV_ACC(a_src, arow[i] + ab + ow0);
      PRAGMA_UNROLL
      for (int j = 0; j < NRW; ++j) {
        ACC lanes[VW];
        ACC_TO_ARRAY(LOADV_ACC(src, xb + koff[j] + ow0), lanes);
        PRAGMA_UNROLL
        for (int l = 0; l < VW; ++l) lanes[l] = ow0 + l < c.ow ? lanes[l] : K(0.0);
        bv[j] = ACC_FROM_ARRAY(lanes);
      }
      PRAGMA_UNROLL
      for (int i = 0; i < MRW; ++i) {
        PRAGMA_UNROLL
        for (int j = 0; j < NRW; ++j) acc[i][j] = fma(av[i], bv[j], acc[i][j]);
      }
      ow0 = c.ow;
    }
    /* The rest of the row (a strided source), lanes past OW zero in both
     * operands. */
    for (; ow0 < c.ow; ow0 += VW) {
      VACC av[MRW], bv[NRW];
      ACC lanes[VW];
      PRAGMA_UNROLL
      for (int i = 0; i < MRW; ++i) {
        for (int l = 0; l < VW; ++l)
          lanes[l] = ow0 + l < c.ow ? a_src[arow[i] + ab + ow0 + l] : K(0.0);
        av[i] = ACC_FROM_ARRAY(lanes);
      }
      PRAGMA_UNROLL
      for (int j = 0; j < NRW; ++j) {
        for (int l = 0; l < VW; ++l)
          lanes[l] = ow0 + l < c.ow ? src[xb + koff[j] + (ow0 + l) * c.sw * c.src_strides[3]]
                                    : K(0.0);
        bv[j] = ACC_FROM_ARRAY(lanes);
      }
      PRAGMA_UNROLL
      for (int i = 0; i < MRW; ++i) {
        PRAGMA_UNROLL
        for (int j = 0; j < NRW; ++j) acc[i][j] = fma(av[i], bv[j], acc[i][j]);
      }
    }
  }

  PRAGMA_UNROLL
  for (int i = 0; i < MRW; ++i) {
    const I64 m = panel * MRW + i;
    if (m >= c.m) break;
    PRAGMA_UNROLL
    for (int j = 0; j < NRW; ++j) {
      const I64 k = kp * NRW + j;
      if (k >= c.k) break;
      ACC lanes[VW];
      ACC_TO_ARRAY(acc[i][j], lanes);
      ACC sum = K(0.0);
      for (int l = 0; l < VW; ++l) sum += lanes[l];
      if (c.chunks == 1) {
        STORE(DT, dw, conv_dw_at(&c, g * c.m + m, k), sum);
      } else {
        partial[c.partial_offset + ((chunk * c.groups + g) * c.m + m) * c.k + k] = sum;
      }
    }
  }
}

/* Grid: dim 0 k, dim 1 the channel (group * m + m). */
KERNEL void conv_sum_chunks(GLOBAL const ACC* partial, GLOBAL T* dw, ck_conv c GRID_PARAMS) {
  const I64 k = global_id(0), channel = global_id(1);
  if (k >= c.k) return;
  const I64 per_chunk = c.groups * c.m * c.k;
  ACC sum = K(0.0);
  for (I64 chunk = 0; chunk < c.chunks; ++chunk)
    sum += partial[c.partial_offset + chunk * per_chunk + channel * c.k + k];
  STORE(DT, dw, conv_dw_at(&c, channel, k), sum);
}

/* Grid: dim 0 the channel. dbias[channel] = its dy summed over rows (n, oh)
 * and ow in order. */
KERNEL void conv_bias_grad(GLOBAL const ACC* a_src, GLOBAL T* dbias, ck_conv c GRID_PARAMS) {
  const I64 channel = global_id(0);
  if (channel >= c.groups * c.m) return;
  ACC sum = K(0.0);
  const I64 base = c.a_offset + channel * c.a_strides[0];
  for (I64 r = 0; r < c.rows; ++r) {
    const I64 row = base + (r / c.oh) * c.a_strides[1] + (r % c.oh) * c.a_strides[2];
    for (I64 ow = 0; ow < c.ow; ++ow) sum += a_src[row + ow];
  }
  STORE(DT, dbias, c.bias_offset + channel * c.bias_stride, sum);
}
