/* pool.cl — 2-D max and average pooling and their input gradient on the
 * normal form of src/ops/pool/schema.cpp (rank 4, logical NCHW, any
 * strides); one program per DT. Arguments: ck_pool (args.h). One work-item
 * per element written, numbered along p.order (the written tensor's axes
 * from the smallest stride up), so both layouts store contiguously.
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

/* The element (n, c, i, j) of work-item `id` in a tensor of extents e. */
DEVICE_FN void pool_decode(const ck_pool* p, I64 id, const I64* e, I64* q) {
  for (int k = 0; k < 4; ++k) {
    const int axis = (int)p->order[k];
    q[axis] = id % e[axis];
    id /= e[axis];
  }
}

/* The taps k < K whose position base + k*d lies in [0, extent): [*lo, *hi). */
DEVICE_FN void pool_taps(I64 base, I64 d, I64 k, I64 extent, I64* lo, I64* hi) {
  const I64 first = base < 0 ? (-base + d - 1) / d : 0;
  I64 last = k - 1;
  if (base + last * d > extent - 1) last = extent - 1 - base < 0 ? -1 : (extent - 1 - base) / d;
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

/* Grid: dim 0 the element of y (p.count of them). */
KERNEL void pool_forward(GLOBAL const T* x, GLOBAL T* y, GLOBAL I64* indices,
                         ck_pool p GRID_PARAMS) {
  const I64 id = global_id(0);
  if (id >= p.count) return;
  I64 e[4], q[4];
  e[0] = p.n;
  e[1] = p.c;
  e[2] = p.oh;
  e[3] = p.ow;
  pool_decode(&p, id, e, q);
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

/* Grid: dim 0 the element of dx (p.count of them). */
KERNEL void pool_backward(GLOBAL const T* dy, GLOBAL const T* x, GLOBAL const I64* indices,
                          GLOBAL T* dx, ck_pool p GRID_PARAMS) {
  const I64 id = global_id(0);
  if (id >= p.count) return;
  I64 e[4], q[4];
  e[0] = p.n;
  e[1] = p.c;
  e[2] = p.h;
  e[3] = p.w;
  pool_decode(&p, id, e, q);
  const I64 h = q[2], w = q[3], here = h * p.w + w;
  const I64 dy_base = p.small_offset + q[0] * p.small_strides[0] + q[1] * p.small_strides[1];
  const I64 index_base = p.index_offset + q[0] * p.index_strides[0] + q[1] * p.index_strides[1];
  const I64 x_base = p.x_offset + q[0] * p.x_strides[0] + q[1] * p.x_strides[1];
  CT sum = K(0.0);
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
      const I64 j = tw / p.sw;
      const CT d = LOAD(DT, dy, dy_base + i * p.small_strides[2] + j * p.small_strides[3]);
      if (!p.is_max) {
        sum += d / (CT)pool_divisor(&p, i, j);
      } else {
        I64 best_at;
        if (p.has_indices) {
          best_at = indices[index_base + i * p.index_strides[2] + j * p.index_strides[3]];
        } else {
          CT unused;
          best_at = pool_argmax(x, &p, x_base, p.x_strides, i, j, &unused);
        }
        if (best_at == here) sum += d;
      }
    }
  }
  STORE(DT, dx, p.big_offset + q[0] * p.big_strides[0] + q[1] * p.big_strides[1] +
                    h * p.big_strides[2] + w * p.big_strides[3], sum);
}
