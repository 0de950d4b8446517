/* common.h — the portable helpers every kernel family shares, written in the
 * C subset that OpenCL C, CUDA and HIP all accept, on top of a prelude.
 *
 * Dtypes are named by the host in definitions (DT=f16, SRC=i64, ...), and
 * each dtype name selects, by token pasting, its storage type st_<dt>, its
 * compute class cls_<dt> (f: computed in float, d: in double, i: in a 64-bit
 * integer), and load_<dt> / store_<dt> / cvt_<dt>_from_<class>. f16 and bf16
 * are storage only: loads widen to float exactly, stores round once to
 * nearest even; bf16 is done with bit operations, NaN kept NaN. Conversions
 * follow docs/ops.md: floats to integers truncate and saturate (NaN gives 0),
 * integers saturate to narrower integers, and every float result is rounded
 * once (a double or a 64-bit integer headed for a 16-bit float is first
 * rounded to float *to odd*, which makes the second rounding exact).
 */
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define CAT3(a, b, c) CAT(CAT(a, b), c)
#define CAT4(a, b, c, d) CAT(CAT3(a, b, c), d)

#define st_f32 float
#define st_f16 U16
#define st_bf16 U16
#define st_f64 double
#define st_i32 I32
#define st_i64 I64
#define st_u8 U8
#define cls_f32 f
#define cls_f16 f
#define cls_bf16 f
#define cls_f64 d
#define cls_i32 i
#define cls_i64 i
#define cls_u8 i
#define ct_f float
#define ct_d double
#define ct_i I64
#define vt_f VF
#define vt_d VD
/* Raw bits of one element, for copies that convert nothing. */
#define bits_f32 U32
#define bits_f16 U16
#define bits_bf16 U16
#define bits_f64 U64
#define bits_i32 U32
#define bits_i64 U64
#define bits_u8 U8

#define STORAGE(dt) CAT(st_, dt)
#define CLASS(dt) CAT(cls_, dt)
#define COMPUTE(dt) CAT(ct_, CLASS(dt))
#define VCOMPUTE(dt) CAT(vt_, CLASS(dt))
#define LOAD(dt, p, i) CAT(load_, dt)((p), (i))
#define STORE(dt, p, i, v) CAT(store_, dt)((p), (i), (v))
#define LOADV(dt, p, i) CAT(loadv_, dt)((p), (i))
#define STOREV(dt, p, i, v) CAT(storev_, dt)((p), (i), (v))
#define CONVERT_STORE(dst, src_class, p, i, v) CAT4(cvt_, dst, _from_, src_class)((p), (i), (v))

#define CK_I64_MAX ((I64)0x7FFFFFFFFFFFFFFF)
#define CK_I64_MIN (-CK_I64_MAX - 1)
#define CK_INF_F (1e30f * 1e30f)

/* ------------------------------------------------------------ loads */

DEVICE_FN float load_f32(const GLOBAL float* p, I64 i) { return p[i]; }
DEVICE_FN float load_bf16(const GLOBAL U16* p, I64 i) { return f32_from_bits(((U32)p[i]) << 16); }
DEVICE_FN I64 load_i32(const GLOBAL I32* p, I64 i) { return (I64)p[i]; }
DEVICE_FN I64 load_i64(const GLOBAL I64* p, I64 i) { return p[i]; }
DEVICE_FN I64 load_u8(const GLOBAL U8* p, I64 i) { return (I64)p[i]; }
#if HAS_FP64
DEVICE_FN double load_f64(const GLOBAL double* p, I64 i) { return p[i]; }
#endif

/* ------------------------------------------- stores of computed values */

DEVICE_FN U32 bf16_bits_from_f32(float v) {
  const U32 u = bits_of_f32(v);
  if (v != v) return (u >> 16) | 0x40u; /* quiet NaN, sign kept */
  return (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
}
DEVICE_FN void store_f32(GLOBAL float* p, I64 i, float v) { p[i] = v; }
DEVICE_FN void store_bf16(GLOBAL U16* p, I64 i, float v) { p[i] = (U16)bf16_bits_from_f32(v); }
/* Integer results are computed on unsigned 64-bit bits and wrap: the store
 * keeps the low bits of the two's-complement value. */
DEVICE_FN void store_i32(GLOBAL I32* p, I64 i, U64 v) { p[i] = i32_from_bits((U32)v); }
DEVICE_FN void store_i64(GLOBAL I64* p, I64 i, U64 v) { p[i] = i64_from_bits(v); }
DEVICE_FN void store_u8(GLOBAL U8* p, I64 i, U64 v) { p[i] = (U8)v; }
/* Integer programs run with VW == 1: their "vectors" are the scalars. */
#if VW == 1
#define vt_i I64
#define vfrom_i(a) ((a)[0])
#define vto_i(v, a) ((a)[0] = (v))
#define vsplat_i(x) ((I64)(x))
#define loadv_i32 load_i32
#define loadv_i64 load_i64
#define loadv_u8 load_u8
#define storev_i32 store_i32
#define storev_i64 store_i64
#define storev_u8 store_u8
#endif
#if HAS_FP64
DEVICE_FN void store_f64(GLOBAL double* p, I64 i, double v) { p[i] = v; }
#endif

/* bf16 vectors: widen by shifting, narrow with the same rounding as above.
 * (A prelude whose vectors are not native, CUDA's, brings its own loader.) */
#if !CK_PRELUDE_HAS_LOADV_BF16
DEVICE_FN VF loadv_bf16(const GLOBAL U16* p, I64 i) {
  return vf_from_bits(cvt_vu32_from_vu16(loadv_u16(p, i)) << 16);
}
DEVICE_FN void storev_bf16(GLOBAL U16* p, I64 i, VF v) {
  const VU32 u = vu32_from_vf(v);
  const VU32 rounded = (u + (VU32)0x7FFFu + ((u >> 16) & (VU32)1u)) >> 16;
  const VU32 nan = (u >> 16) | (VU32)0x40u;
  storev_u16(p, i, cvt_vu16_from_vu32((v != v) ? nan : rounded));
}
#endif

/* ----------------------------------------------------- conversions */

/* Truncates toward zero and saturates; NaN gives 0. */
DEVICE_FN I64 sat_i64_from_f(float v) {
  if (v != v) return 0;
  if (v >= 9223372036854775808.0f) return CK_I64_MAX;
  if (v <= -9223372036854775808.0f) return CK_I64_MIN;
  return (I64)v;
}
DEVICE_FN I64 clamp_i64(I64 v, I64 lo, I64 hi) { return v < lo ? lo : (v > hi ? hi : v); }
#define CK_I32_LO ((I64)-2147483647 - 1)
#define CK_I32_HI ((I64)2147483647)

/* v rounded to float toward zero, with the last bit set when inexact. */
DEVICE_FN float f32_round_to_odd_from_i64(I64 v) {
  const U64 m = v < 0 ? (U64)0 - (U64)v : (U64)v;
  const int bits = 64 - clz64(m);
  if (bits <= 24) return (float)v;
  const int shift = bits - 24;
  const U64 top = m >> shift;
  const U64 rest = m & ((((U64)1) << shift) - 1);
  float f = (float)(top | (rest != 0 ? (U64)1 : (U64)0));
  f = f * f32_from_bits((U32)(127 + shift) << 23); /* a power of two: exact */
  return v < 0 ? -f : f;
}

DEVICE_FN void cvt_f32_from_f(GLOBAL float* p, I64 i, float v) { p[i] = v; }
DEVICE_FN void cvt_f16_from_f(GLOBAL U16* p, I64 i, float v) { store_f16(p, i, v); }
DEVICE_FN void cvt_bf16_from_f(GLOBAL U16* p, I64 i, float v) { store_bf16(p, i, v); }
DEVICE_FN void cvt_i64_from_f(GLOBAL I64* p, I64 i, float v) { p[i] = sat_i64_from_f(v); }
DEVICE_FN void cvt_i32_from_f(GLOBAL I32* p, I64 i, float v) {
  p[i] = (I32)clamp_i64(sat_i64_from_f(v), CK_I32_LO, CK_I32_HI);
}
DEVICE_FN void cvt_u8_from_f(GLOBAL U8* p, I64 i, float v) { p[i] = (U8)clamp_i64(sat_i64_from_f(v), 0, 255); }

DEVICE_FN void cvt_f32_from_i(GLOBAL float* p, I64 i, I64 v) { p[i] = (float)v; }
DEVICE_FN void cvt_f16_from_i(GLOBAL U16* p, I64 i, I64 v) { store_f16(p, i, f32_round_to_odd_from_i64(v)); }
DEVICE_FN void cvt_bf16_from_i(GLOBAL U16* p, I64 i, I64 v) { store_bf16(p, i, f32_round_to_odd_from_i64(v)); }
DEVICE_FN void cvt_i64_from_i(GLOBAL I64* p, I64 i, I64 v) { p[i] = v; }
DEVICE_FN void cvt_i32_from_i(GLOBAL I32* p, I64 i, I64 v) { p[i] = (I32)clamp_i64(v, CK_I32_LO, CK_I32_HI); }
DEVICE_FN void cvt_u8_from_i(GLOBAL U8* p, I64 i, I64 v) { p[i] = (U8)clamp_i64(v, 0, 255); }

#if HAS_FP64
DEVICE_FN I64 sat_i64_from_d(double v) {
  if (v != v) return 0;
  if (v >= 9223372036854775808.0) return CK_I64_MAX;
  if (v <= -9223372036854775808.0) return CK_I64_MIN;
  return (I64)v;
}
DEVICE_FN float f32_round_to_odd_from_f64(double d) {
  const float f = (float)d;
  if (d != d || (double)f == d) return f;
  U32 b = bits_of_f32(f);
  if (fabs((double)f) > fabs(d)) b -= 1u; /* step toward zero (inf becomes the largest finite) */
  return f32_from_bits(b | 1u);
}
DEVICE_FN void cvt_f64_from_f(GLOBAL double* p, I64 i, float v) { p[i] = (double)v; }
DEVICE_FN void cvt_f64_from_i(GLOBAL double* p, I64 i, I64 v) { p[i] = (double)v; }
DEVICE_FN void cvt_f64_from_d(GLOBAL double* p, I64 i, double v) { p[i] = v; }
DEVICE_FN void cvt_f32_from_d(GLOBAL float* p, I64 i, double v) { p[i] = (float)v; }
DEVICE_FN void cvt_f16_from_d(GLOBAL U16* p, I64 i, double v) { store_f16(p, i, f32_round_to_odd_from_f64(v)); }
DEVICE_FN void cvt_bf16_from_d(GLOBAL U16* p, I64 i, double v) { store_bf16(p, i, f32_round_to_odd_from_f64(v)); }
DEVICE_FN void cvt_i64_from_d(GLOBAL I64* p, I64 i, double v) { p[i] = sat_i64_from_d(v); }
DEVICE_FN void cvt_i32_from_d(GLOBAL I32* p, I64 i, double v) {
  p[i] = (I32)clamp_i64(sat_i64_from_d(v), CK_I32_LO, CK_I32_HI);
}
DEVICE_FN void cvt_u8_from_d(GLOBAL U8* p, I64 i, double v) { p[i] = (U8)clamp_i64(sat_i64_from_d(v), 0, 255); }
#endif

/* ------------------------------------------------------------ math */

/* IEEE 754-2019 maximum / minimum: NaN wins, +0 is above -0. Lane-wise on
 * vectors too. Arguments are evaluated several times: pass variables (or
 * expressions without side effects). binary max/min and unary clamp
 * (src/ops/elementwise) are these. */
#define CK_MAXIMUM(a, b) \
  (((a) != (a)) ? (a) : ((b) != (b)) ? (b) : ((a) == (b)) ? (signbit(a) ? (b) : (a)) : ((a) > (b) ? (a) : (b)))
#define CK_MINIMUM(a, b) \
  (((a) != (a)) ? (a) : ((b) != (b)) ? (b) : ((a) == (b)) ? (signbit(a) ? (a) : (b)) : ((a) < (b) ? (a) : (b)))

#define vsplat_f VF_SPLAT
#define vsplat_d VD_SPLAT

/* Constants in the compute precision of the program's DT (float unless
 * DT_IS_F64). Write them with a decimal point. */
#if DT_IS_F64
#define K(c) (c)
#else
#define K(c) CAT(c, f)
#endif

#define CK_MIN_I64(a, b) ((a) < (b) ? (a) : (b))

/* Row layouts of the row kernels (reduce, argmax, softmax, norms, cumsum): one axis
 * of stride 1, one axis of any stride, or several axes. */
#define ROW_CONTIG 1
#define ROW_STRIDED 2
#define ROW_GENERIC 3
