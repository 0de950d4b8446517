/* pool.cl — 2-D max and average pooling and their input gradient on the
 * normal form of src/ops/pool/schema.cpp (rank 4, logical NCHW, any
 * strides); one program per DT. Arguments: ck_pool (args.h). One work-item
 * per element written, grid dim 0 along the written tensor's axis of
 * smallest stride (p.order), so both layouts store contiguously.
 *
 *   pool_forward   y (and indices) of window (i, j): its positions
 *                  (i*sh - pt + kh*dh, j*sw - pl + kw*dw) inside the image,
 *                  in row-major (kh, kw) order.
 *                  max: the first position greater than all before it, or
 *                  a NaN (the last NaN wins), starting from the first
 *                  position (so a window of -inf picks its first); indices
 *                  h*W + w, -1 and -inf for a window with no position
 *                  inside the image.
 *                  avg: the sum in the compute type / divisor.
 *   pool_backward  dx[n,c,h,w]: one sum in (kh, kw) order over the windows
 *                  that have (h, w) as tap (kh, kw): dy where that window's
 *                  argmax (indices, else recomputed from x) is h*W + w (max),
 *                  dy / divisor (avg). No atomics, no scatter: the same
 *                  bits every run, and indices that point anywhere else are
 *                  never followed.
 * The compute type is float for f32, f16 and bf16, double for f64.
 */
#define T STORAGE(DT)
#define CT COMPUTE(DT)

/* The element (n, c, i, j) of a tensor of extents e at grid position
 * (g0, g1, g2): dim 0 walks axis order[0], dim 1 axis order[1], dim 2 the
 * other two (order[2] the faster). 0 for a work-item past the end of dim 0.
 * (The kernels read the ids: on CUDA/HIP global_id needs the kernel's own
 * grid parameters.) */
DEVICE_FN int pool_position(const ck_pool* p, const I64* e, I64 g0, I64 g1, I64 g2, I64* q) {
  if (g0 >= e[p->order[0]]) return 0;
  const I64 e2 = e[p->order[2]];
  q[p->order[0]] = g0;
  q[p->order[1]] = g1;
  q[p->order[2]] = g2 % e2;
  q[p->order[3]] = g2 / e2;
  return 1;
}

/* The taps k < K whose position base + k*d lies in [0, extent): [*lo, *hi). */
DEVICE_FN void pool_taps(I64 base, I64 d, I64 k, I64 extent, I64* lo, I64* hi) {
  I64 first, last = k - 1;
  if (d == 1) {
    first = base < 0 ? -base : 0;
    if (base + last > extent - 1) last = extent - 1 - base;
  } else {
    first = base < 0 ? (-base + d - 1) / d : 0;
    if (base + last * d > extent - 1) last = extent - 1 - base < 0 ? -1 : (extent - 1 - base) / d;
  }
  *lo = first;
  *hi = last + 1 > first ? last + 1 : first;
}

/* Window (i, j)'s argmax as h*W + w (-1: no position inside the image) and
 * its value; base is the plane's offset in x, s x's strides. */
DEVICE_FN I64 pool_argmax(GLOBAL const T* x, const ck_pool* p, I64 base, const I64* s, I64 i,
                          I64 j, CT* value) {
  const I64 h0 = i * p->sh - p->pt, w0 = j * p->sw - p->pl;
  I64 kh_lo, kh_hi, kw_lo, kw_hi;
  pool_taps(h0, p->dh, p->kh, p->h, &kh_lo, &kh_hi);
  pool_taps(w0, p->dw, p->kw, p->w, &kw_lo, &kw_hi);
  I64 best_at = -1;
  CT best = -INFINITY;
  for (I64 kh = kh_lo; kh < kh_hi; ++kh) {
    const I64 h = h0 + kh * p->dh;
    for (I64 kw = kw_lo; kw < kw_hi; ++kw) {
      const I64 w = w0 + kw * p->dw;
      const CT v = LOAD(DT, x, base + h * s[2] + w * s[3]);
      if (best_at < 0) best_at = h * p->w + w;
      if (v > best || v != v) {
        best = v;
        best_at = h * p->w + w;
      }
    }
  }
  *value = best;
  return best_at;
}

/* Average pooling's divisor of window (i, j) (pool_shape.hpp's rule). */
DEVICE_FN I64 pool_divisor(const ck_pool* p, I64 i, I64 j) {
  if (p->divisor_override > 0) return p->divisor_override;
  I64 h0 = i * p->sh - p->pt, w0 = j * p->sw - p->pl;
  I64 h1 = CK_MIN_I64(h0 + p->kh, p->h + p->pb), w1 = CK_MIN_I64(w0 + p->kw, p->w + p->pr);
  if (p->include_pad) return (h1 - h0) * (w1 - w0);
  h0 = h0 < 0 ? 0 : h0;
  w0 = w0 < 0 ? 0 : w0;
  h1 = CK_MIN_I64(h1, p->h);
  w1 = CK_MIN_I64(w1, p->w);
  return (h1 - h0) * (w1 - w0);
}

/* Grid: y's elements (pool_position). */
KERNEL void pool_forward(GLOBAL const T* x, GLOBAL T* y, GLOBAL I64* indices,
                         ck_pool p GRID_PARAMS) {
  I64 e[4], q[4];
  e[0] = p.n;
  e[1] = p.c;
  e[2] = p.oh;
  e[3] = p.ow;
  if (!pool_position(&p, e, global_id(0), global_id(1), global_id(2), q)) return;
  const I64 i = q[2], j = q[3];
  const I64 base = p.big_offset + q[0] * p.big_strides[0] + q[1] * p.big_strides[1];
  CT result;
  if (p.is_max) {
    const I64 best_at = pool_argmax(x, &p, base, p.big_strides, i, j, &result);
    if (p.has_indices)
      indices[p.index_offset + q[0] * p.index_strides[0] + q[1] * p.index_strides[1] +
              i * p.index_strides[2] + j * p.index_strides[3]] = best_at;
  } else {
    const I64 h0 = i * p.sh - p.pt, w0 = j * p.sw - p.pl;
    I64 kh_lo, kh_hi, kw_lo, kw_hi;
    pool_taps(h0, 1, p.kh, p.h, &kh_lo, &kh_hi);
    pool_taps(w0, 1, p.kw, p.w, &kw_lo, &kw_hi);
    CT sum = K(0.0);
    for (I64 kh = kh_lo; kh < kh_hi; ++kh) {
      const I64 row = base + (h0 + kh) * p.big_strides[2];
      for (I64 kw = kw_lo; kw < kw_hi; ++kw) sum += LOAD(DT, x, row + (w0 + kw) * p.big_strides[3]);
    }
    result = sum / (CT)pool_divisor(&p, i, j);
  }
  STORE(DT, y, p.small_offset + q[0] * p.small_strides[0] + q[1] * p.small_strides[1] +
                   i * p.small_strides[2] + j * p.small_strides[3], result);
}

/* What window (i, j) routes to element `here` of its plane: dy, dy/divisor
 * (avg), or, for max, dy where the window's argmax is `here`, else 0. */
DEVICE_FN CT pool_routed(GLOBAL const T* dy, GLOBAL const T* x, GLOBAL const I64* indices,
                         const ck_pool* p, I64 dy_base, I64 index_base, I64 x_base, I64 i, I64 j,
                         I64 here) {
  const CT d = LOAD(DT, dy, dy_base + i * p->small_strides[2] + j * p->small_strides[3]);
  if (!p->is_max) return d / (CT)pool_divisor(p, i, j);
  I64 best_at;
  if (p->has_indices) {
    best_at = indices[index_base + i * p->index_strides[2] + j * p->index_strides[3]];
  } else {
    CT unused;
    best_at = pool_argmax(x, p, x_base, p->x_strides, i, j, &unused);
  }
  return best_at == here ? d : K(0.0);
}

/* Grid: dx's elements (pool_position). The windows that have (h, w) as tap
 * (kh, kw) are visited in (kh, kw) order: without dilation, window row i
 * has h as tap kh = h + pt - i*sh, so i runs down from the last window
 * starting at or before h to the first that still reaches it (no division
 * per tap); with dilation each tap is tried. */
KERNEL void pool_backward(GLOBAL const T* dy, GLOBAL const T* x, GLOBAL const I64* indices,
                          GLOBAL T* dx, ck_pool p GRID_PARAMS) {
  I64 e[4], q[4];
  e[0] = p.n;
  e[1] = p.c;
  e[2] = p.h;
  e[3] = p.w;
  if (!pool_position(&p, e, global_id(0), global_id(1), global_id(2), q)) return;
  const I64 h = q[2], w = q[3], here = h * p.w + w;
  const I64 dy_base = p.small_offset + q[0] * p.small_strides[0] + q[1] * p.small_strides[1];
  const I64 index_base = p.index_offset + q[0] * p.index_strides[0] + q[1] * p.index_strides[1];
  const I64 x_base = p.x_offset + q[0] * p.x_strides[0] + q[1] * p.x_strides[1];
  CT sum = K(0.0);
  if (p.dh == 1 && p.dw == 1) {
    const I64 th = h + p.pt, tw = w + p.pl; /* >= 0 */
    const I64 i_hi = CK_MIN_I64(th / p.sh, p.oh - 1), j_hi = CK_MIN_I64(tw / p.sw, p.ow - 1);
    const I64 i_lo = th - p.kh + 1 <= 0 ? 0 : (th - p.kh + p.sh) / p.sh;
    const I64 j_lo = tw - p.kw + 1 <= 0 ? 0 : (tw - p.kw + p.sw) / p.sw;
    for (I64 i = i_hi; i >= i_lo; --i)
      for (I64 j = j_hi; j >= j_lo; --j)
        sum += pool_routed(dy, x, indices, &p, dy_base, index_base, x_base, i, j, here);
  } else {
    for (I64 kh = 0; kh < p.kh; ++kh) {
      /* The window row i with i*sh - pt + kh*dh = h, if it exists. */
      const I64 th = h + p.pt - kh * p.dh;
      if (th < 0) break; /* th only falls as kh grows */
      if (th % p.sh != 0 || th / p.sh >= p.oh) continue;
      const I64 i = th / p.sh;
      for (I64 kw = 0; kw < p.kw; ++kw) {
        const I64 tw = w + p.pl - kw * p.dw;
        if (tw < 0) break;
        if (tw % p.sw != 0 || tw / p.sw >= p.ow) continue;
        sum += pool_routed(dy, x, indices, &p, dy_base, index_base, x_base, i, tw / p.sw, here);
      }
    }
  }
  STORE(DT, dx, p.big_offset + q[0] * p.big_strides[0] + q[1] * p.big_strides[1] +
                    h * p.big_strides[2] + w * p.big_strides[3], sum);
}
