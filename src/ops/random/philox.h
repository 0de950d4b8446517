/* philox.h — the random numbers of chorus, written once for every layer:
 * the portable kernels include it after their prelude, and the reference
 * and Kokkos backends include it through random_host.hpp. It needs only
 * DEVICE_FN, U32, U64, bits_of_f32 and f32_from_bits, and uses nothing but
 * integer operations and float additions and multiplications, each rounded
 * on its own (programs that include it are compiled without contraction
 * into fused multiply-adds: EXACT_FP), so every backend computes the same
 * bits.
 *
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
 * 3", SC11), as Random123's philox4x32_R(10, ctr, key): ten rounds, the key
 * bumped before each round after the first. tests/unit/test_random.cpp
 * checks it against Random123's published known answers.
 *
 * The stream of chorus: element i of an output takes word i % 4 of block
 * i / 4, where block j = Philox({lo(j), hi(j), lo(offset), hi(offset)},
 * {lo(seed), hi(seed)}).
 */
#ifndef CHORUS_PHILOX_H
#define CHORUS_PHILOX_H

typedef struct ck_philox_block {
  U32 w[4];
} ck_philox_block;

DEVICE_FN ck_philox_block ck_philox4x32_10(U32 c0, U32 c1, U32 c2, U32 c3, U32 k0, U32 k1) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    const U64 p0 = (U64)0xD2511F53u * (U64)c0;
    const U64 p1 = (U64)0xCD9E8D57u * (U64)c2;
    const U32 n0 = (U32)(p1 >> 32) ^ c1 ^ k0;
    const U32 n1 = (U32)p1;
    const U32 n2 = (U32)(p0 >> 32) ^ c3 ^ k1;
    const U32 n3 = (U32)p0;
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
  }
  ck_philox_block b;
  b.w[0] = c0;
  b.w[1] = c1;
  b.w[2] = c2;
  b.w[3] = c3;
  return b;
}

/* Block j of the stream (seed, offset). */
DEVICE_FN ck_philox_block ck_random_block(U64 seed, U64 offset, U64 j) {
  return ck_philox4x32_10((U32)j, (U32)(j >> 32), (U32)offset, (U32)(offset >> 32), (U32)seed,
                          (U32)(seed >> 32));
}

/* u in [0, 1): the top 24 bits of a word times 2^-24 (exact in float). */
DEVICE_FN float ck_uniform01(U32 w) { return (float)(w >> 8) * 5.9604644775390625e-8f; }

/* A word's 24-bit draw below `threshold` (in [0, 2^24]): the event of
 * probability threshold / 2^24 (bernoulli, and dropout's dropped elements;
 * the host computes the threshold from p: random_host.hpp, threshold_of). */
DEVICE_FN int ck_below(U32 w, U32 threshold) { return (w >> 8) < threshold; }

/* ln(u) for u in (0, 1]: u = m * 2^e with m in [sqrt(1/2), sqrt(2)), then
 * ln(1 + f), f = m - 1 (exact), as f + f^2 q(f) with q a least-squares
 * polynomial of degree 9 (absolute error below 3e-8 on that range in
 * float), plus e ln 2. Additions and multiplications only. */
DEVICE_FN float ck_log_unit(float u) {
  const U32 bits = bits_of_f32(u);
  int e = (int)((bits >> 23) & 0xffu) - 127;
  float m = f32_from_bits((bits & 0x007fffffu) | 0x3f800000u);
  if (m > 1.41421356f) {
    m = m * 0.5f;
    e = e + 1;
  }
  const float f = m - 1.0f;
  float p = 6.941972673e-02f;
  p = p * f + -1.165657863e-01f;
  p = p * f + 1.178890616e-01f;
  p = p * f + -1.240274906e-01f;
  p = p * f + 1.423301399e-01f;
  p = p * f + -1.666858196e-01f;
  p = p * f + 2.000145167e-01f;
  p = p * f + -2.499999106e-01f;
  p = p * f + 3.333332241e-01f;
  p = p * f + -5.000000000e-01f;
  p = p * f * f + f;
  return (float)e * 0.693147182f + p;
}

/* sqrt(t) for t >= 0 by three Newton steps on 1/sqrt(t) from the usual bit
 * estimate (relative error below 1e-7); 0 for 0. */
DEVICE_FN float ck_sqrt_nonneg(float t) {
  if (!(t > 0.0f)) return 0.0f;
  float y = f32_from_bits(0x5f3759dfu - (bits_of_f32(t) >> 1));
  const float h = 0.5f * t;
  y = y * (1.5f - h * y * y);
  y = y * (1.5f - h * y * y);
  y = y * (1.5f - h * y * y);
  return t * y;
}

/* cos and sin of 2 pi v, v = w / 2^32: the quadrant from the top two bits,
 * x in [0, pi/2) from the next 24, Taylor polynomials to x^14 and x^13
 * (error below 1e-9 on that range), then rotated by the quadrant. */
DEVICE_FN void ck_cos_sin_turn(U32 w, float* c_out, float* s_out) {
  const U32 quadrant = w >> 30;
  const float x = (float)((w >> 6) & 0x00ffffffu) * 9.3623484e-8f; /* (pi/2) / 2^24 */
  const float x2 = x * x;
  float s = -7.6471637e-13f;
  s = s * x2 + 1.6059044e-10f;
  s = s * x2 + -2.5052108e-8f;
  s = s * x2 + 2.7557319e-6f;
  s = s * x2 + -1.9841270e-4f;
  s = s * x2 + 8.3333333e-3f;
  s = s * x2 + -1.6666667e-1f;
  s = s * x2 * x + x;
  float c = 4.7794773e-14f;
  c = c * x2 + -1.1470746e-11f;
  c = c * x2 + 2.0876757e-9f;
  c = c * x2 + -2.7557319e-7f;
  c = c * x2 + 2.4801587e-5f;
  c = c * x2 + -1.3888889e-3f;
  c = c * x2 + 4.1666667e-2f;
  c = c * x2 + -0.5f;
  c = c * x2 + 1.0f;
  if (quadrant == 0u) {
    *c_out = c;
    *s_out = s;
  } else if (quadrant == 1u) {
    *c_out = -s;
    *s_out = c;
  } else if (quadrant == 2u) {
    *c_out = -c;
    *s_out = -s;
  } else {
    *c_out = s;
    *s_out = -c;
  }
}

/* Two standard normals from two words (Box-Muller): r = sqrt(-2 ln u) with
 * u = (top 24 bits of w0 + 1) / 2^24 in (0, 1], angle 2 pi w1 / 2^32;
 * z0 = r cos, z1 = r sin. |z| <= sqrt(-2 ln 2^-24) = 5.77. */
DEVICE_FN void ck_normal_pair(U32 w0, U32 w1, float* z0, float* z1) {
  const float u = (float)((w0 >> 8) + 1u) * 5.9604644775390625e-8f;
  const float r = ck_sqrt_nonneg(-2.0f * ck_log_unit(u));
  float c, s;
  ck_cos_sin_turn(w1, &c, &s);
  *z0 = r * c;
  *z1 = r * s;
}

/* The four standard normals of a block, z[k] for element k: words (0, 1)
 * give elements 0 and 1, words (2, 3) elements 2 and 3. */
DEVICE_FN void ck_normal_block(ck_philox_block b, float* z) {
  ck_normal_pair(b.w[0], b.w[1], &z[0], &z[1]);
  ck_normal_pair(b.w[2], b.w[3], &z[2], &z[3]);
}

#endif
