/* prelude_opencl.h — what the portable kernels need from OpenCL C 1.2, under
 * the names they use on every API (ARCHITECTURE.md §4). The OpenCL backend
 * prepends this file to every program; prelude_cuda.h and prelude_hip.h give
 * the same names for NVRTC and hiprtc. Nothing else in backends/kernels/ may
 * call an OpenCL-only builtin: what a kernel needs and C does not have comes
 * from here (qualifiers, indices, barriers, f16/bf16 load and store, bit
 * casts, short vectors of VW lanes and their loads and stores).
 *
 * Definitions the host passes: VW (vector width for contiguous data: 1, 2,
 * 4, 8 or 16) and HAS_FP64 (1 when the device has cl_khr_fp64).
 */
#if HAS_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
/* EXACT_FP programs (the random numbers) round every operation on its own:
 * no contraction into fused multiply-adds. NVRTC, hiprtc and the emulator
 * get the same from a compiler option (backends/gpu/rtc.cpp). */
#if EXACT_FP
#pragma OPENCL FP_CONTRACT OFF
#endif

#define KERNEL __kernel
#define GLOBAL __global
#define LOCAL __local
#define DEVICE_FN static inline

typedef long I64;
typedef ulong U64;
typedef int I32;
typedef uint U32;
typedef ushort U16;
typedef uchar U8;

#define global_id(d) ((I64)get_global_id(d))
#define local_id(d) ((I64)get_local_id(d))
#define group_id(d) ((I64)get_group_id(d))
#define barrier_local() barrier(CLK_LOCAL_MEM_FENCE)
/* Extra kernel parameters after the last one: none in OpenCL, whose grids
 * have no per-dimension group limit (see prelude_gpu.h). */
#define GRID_PARAMS
#define PRAGMA_UNROLL _Pragma("unroll")

/* Bit casts between same-size types. */
#define bits_of_f32(x) as_uint(x)
#define f32_from_bits(u) as_float(u)
#define bits_of_f64(x) as_ulong(x)
#define f64_from_bits(u) as_double(u)
#define i32_from_bits(u) as_int(u)
#define i64_from_bits(u) as_long(u)

/* Leading zeros of a 64-bit value (64 for 0). */
#define clz64(x) ((int)clz((U64)(x)))

/* f16 is a storage type (no cl_khr_fp16 arithmetic): loads widen to float,
 * stores round to nearest even. The pointers are declared as ushort so that
 * kernels never name `half`. */
DEVICE_FN float load_f16(const GLOBAL U16* p, I64 i) { return vload_half(0, (const GLOBAL half*)(p + i)); }
DEVICE_FN void store_f16(GLOBAL U16* p, I64 i, float v) { vstore_half_rte(v, 0, (GLOBAL half*)(p + i)); }

/* Short vectors. VF, VD, VU32, VI32, VU16 are VW-lane float, double, uint,
 * int and ushort vectors (plain scalars when VW is 1); loadv_* / storev_*
 * move VW consecutive elements starting at element i. Arithmetic,
 * comparisons, ?: and the math builtins work lane-wise on them, which is
 * what lets one expression serve a scalar and a vector. */
#define CK_CAT_(a, b) a##b
#define CK_CAT(a, b) CK_CAT_(a, b)
#if VW == 1
#define VF float
#define VD double
#define VU32 uint
#define VI32 int
#define VU16 ushort
#define VU64 ulong
#define VI64 long
#define VU8 uchar
DEVICE_FN VF loadv_f32(const GLOBAL float* p, I64 i) { return p[i]; }
DEVICE_FN void storev_f32(GLOBAL float* p, I64 i, VF v) { p[i] = v; }
DEVICE_FN VF loadv_f16(const GLOBAL U16* p, I64 i) { return load_f16(p, i); }
DEVICE_FN void storev_f16(GLOBAL U16* p, I64 i, VF v) { store_f16(p, i, v); }
DEVICE_FN VU16 loadv_u16(const GLOBAL U16* p, I64 i) { return p[i]; }
DEVICE_FN void storev_u16(GLOBAL U16* p, I64 i, VU16 v) { p[i] = v; }
DEVICE_FN VU32 loadv_u32(const GLOBAL U32* p, I64 i) { return p[i]; }
DEVICE_FN void storev_u32(GLOBAL U32* p, I64 i, VU32 v) { p[i] = v; }
DEVICE_FN VU64 loadv_u64(const GLOBAL U64* p, I64 i) { return p[i]; }
DEVICE_FN void storev_u64(GLOBAL U64* p, I64 i, VU64 v) { p[i] = v; }
DEVICE_FN VU8 loadv_u8(const GLOBAL U8* p, I64 i) { return p[i]; }
DEVICE_FN void storev_u8(GLOBAL U8* p, I64 i, VU8 v) { p[i] = v; }
#define cvt_vu32_from_vu16(v) ((uint)(v))
#define cvt_vu16_from_vu32(v) ((ushort)(v))
#define vf_from_bits(v) as_float(v)
#define vu32_from_vf(v) as_uint(v)
#if HAS_FP64
DEVICE_FN VD loadv_f64(const GLOBAL double* p, I64 i) { return p[i]; }
DEVICE_FN void storev_f64(GLOBAL double* p, I64 i, VD v) { p[i] = v; }
#endif
#else
#define VF CK_CAT(float, VW)
#define VD CK_CAT(double, VW)
#define VU32 CK_CAT(uint, VW)
#define VI32 CK_CAT(int, VW)
#define VU16 CK_CAT(ushort, VW)
#define VU64 CK_CAT(ulong, VW)
#define VI64 CK_CAT(long, VW)
#define VU8 CK_CAT(uchar, VW)
#define CK_VLOAD CK_CAT(vload, VW)
#define CK_VSTORE CK_CAT(vstore, VW)
DEVICE_FN VF loadv_f32(const GLOBAL float* p, I64 i) { return CK_VLOAD(0, p + i); }
DEVICE_FN void storev_f32(GLOBAL float* p, I64 i, VF v) { CK_VSTORE(v, 0, p + i); }
DEVICE_FN VF loadv_f16(const GLOBAL U16* p, I64 i) {
  return CK_CAT(vload_half, VW)(0, (const GLOBAL half*)(p + i));
}
DEVICE_FN void storev_f16(GLOBAL U16* p, I64 i, VF v) {
  CK_CAT(CK_CAT(vstore_half, VW), _rte)(v, 0, (GLOBAL half*)(p + i));
}
DEVICE_FN VU16 loadv_u16(const GLOBAL U16* p, I64 i) { return CK_VLOAD(0, p + i); }
DEVICE_FN void storev_u16(GLOBAL U16* p, I64 i, VU16 v) { CK_VSTORE(v, 0, p + i); }
DEVICE_FN VU32 loadv_u32(const GLOBAL U32* p, I64 i) { return CK_VLOAD(0, p + i); }
DEVICE_FN void storev_u32(GLOBAL U32* p, I64 i, VU32 v) { CK_VSTORE(v, 0, p + i); }
DEVICE_FN VU64 loadv_u64(const GLOBAL U64* p, I64 i) { return CK_VLOAD(0, p + i); }
DEVICE_FN void storev_u64(GLOBAL U64* p, I64 i, VU64 v) { CK_VSTORE(v, 0, p + i); }
DEVICE_FN VU8 loadv_u8(const GLOBAL U8* p, I64 i) { return CK_VLOAD(0, p + i); }
DEVICE_FN void storev_u8(GLOBAL U8* p, I64 i, VU8 v) { CK_VSTORE(v, 0, p + i); }
#define cvt_vu32_from_vu16(v) CK_CAT(convert_uint, VW)(v)
#define cvt_vu16_from_vu32(v) CK_CAT(convert_ushort, VW)(v)
#define vf_from_bits(v) CK_CAT(as_float, VW)(v)
#define vu32_from_vf(v) CK_CAT(as_uint, VW)(v)
#if HAS_FP64
DEVICE_FN VD loadv_f64(const GLOBAL double* p, I64 i) { return CK_VLOAD(0, p + i); }
DEVICE_FN void storev_f64(GLOBAL double* p, I64 i, VD v) { CK_VSTORE(v, 0, p + i); }
#endif
#endif

/* A vector with every lane x. */
#define VF_SPLAT(x) ((VF)(x))
#define VD_SPLAT(x) ((VD)(x))

/* Loads from local memory (the GPU GEMM stages packed slabs there). */
#if VW == 1
DEVICE_FN VF loadv_local_f32(const LOCAL float* p, I64 i) { return p[i]; }
#if HAS_FP64
DEVICE_FN VD loadv_local_f64(const LOCAL double* p, I64 i) { return p[i]; }
#endif
#else
DEVICE_FN VF loadv_local_f32(const LOCAL float* p, I64 i) { return CK_VLOAD(0, p + i); }
#if HAS_FP64
DEVICE_FN VD loadv_local_f64(const LOCAL double* p, I64 i) { return CK_VLOAD(0, p + i); }
#endif
#endif

/* PoCL 3.1's float vector sin and cos (every width) are wrong in the lanes
 * below about 1e-3 (sin(1e-7) gives 0.0131) when another lane of the vector
 * is 2^23 or more or infinite: the large-argument reduction then runs for
 * the whole vector. Its scalar functions and its double vectors are right.
 * So a float vector is evaluated twice: once with the lanes of 2^16 or more
 * set to 0 (every lane small: the ordinary path), once as it is, for those
 * lanes. sin and cos become these functions for every type (clang's
 * overloadable attribute: PoCL and every clang-based compiler; the
 * functions are defined before the names change, so they call the
 * builtins, whatever name the driver gives them). */
#if VW > 1 && defined(__clang__)
#define CK_OVERLOADABLE __attribute__((overloadable))
#define CK_TRIG_FUNCTIONS(wrapper, name)                                               \
  DEVICE_FN CK_OVERLOADABLE float wrapper(float x) { return name(x); }                 \
  DEVICE_FN CK_OVERLOADABLE VF wrapper(VF x) {                                         \
    const VI32 small = fabs(x) < 65536.0f;                                             \
    return small ? name(small ? x : 0.0f) : name(x);                                   \
  }                                                                                    \
  CK_TRIG_FUNCTIONS_F64(wrapper, name)
#if HAS_FP64
#define CK_TRIG_FUNCTIONS_F64(wrapper, name)                                           \
  DEVICE_FN CK_OVERLOADABLE double wrapper(double x) { return name(x); }               \
  DEVICE_FN CK_OVERLOADABLE VD wrapper(VD x) { return name(x); }
#else
#define CK_TRIG_FUNCTIONS_F64(wrapper, name)
#endif
CK_TRIG_FUNCTIONS(ck_sin, sin)
CK_TRIG_FUNCTIONS(ck_cos, cos)
#undef sin
#undef cos
#define sin(x) ck_sin(x)
#define cos(x) ck_cos(x)
#endif

/* Spills a vector into a private array of VW lanes and back: how kernels
 * reach single lanes (OpenCL C has no run-time lane index). */
#if VW == 1
#define VF_TO_ARRAY(v, a) ((a)[0] = (v))
#define VF_FROM_ARRAY(a) ((a)[0])
#define VD_TO_ARRAY(v, a) ((a)[0] = (v))
#define VD_FROM_ARRAY(a) ((a)[0])
#else
#define VF_TO_ARRAY(v, a) CK_VSTORE((v), 0, (a))
#define VF_FROM_ARRAY(a) CK_VLOAD(0, (a))
#define VD_TO_ARRAY(v, a) CK_VSTORE((v), 0, (a))
#define VD_FROM_ARRAY(a) CK_VLOAD(0, (a))
#endif
