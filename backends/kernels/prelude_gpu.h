/* prelude_gpu.h — the names of prelude_opencl.h for NVRTC and hiprtc, so the
 * portable kernels compile unchanged as CUDA or HIP C++. A program is
 * prelude_cuda.h or prelude_hip.h (the few lines that differ: f16
 * conversions), then this file, then the kernel files.
 *
 * Differences the CUDA and HIP backends respect:
 *  - grid dimension d maps to x, y, z. CUDA allows at most 65535 blocks in
 *    y and z, so the host cuts a taller grid into launches of at most that
 *    many and passes each launch's first block in y and z as two extra
 *    kernel parameters (GRID_PARAMS, empty in OpenCL): group_id(1) and (2)
 *    are then the same as in one big launch;
 *  - VW must be 1 for the elementwise math and row programs (their
 *    expressions use ?: lane-wise, which C++ cannot overload); GEMM and the
 *    raw-bit copies may use VW 2 or 4 through the small vector structs
 *    below, which give them what they need (loads, stores, splats, fma);
 *  - local arrays are __shared__ declarations; kernels never take pointers
 *    to them except through the prelude's own loaders.
 * The API prelude before this file defines ck_half_to_float and
 * ck_float_to_half (round to nearest even) on unsigned short bits.
 */
#define KERNEL extern "C" __global__
#define GLOBAL
#define LOCAL __shared__
#define DEVICE_FN static __device__ __forceinline__

typedef long long I64;
typedef unsigned long long U64;
typedef int I32;
typedef unsigned int U32;
typedef unsigned short U16;
typedef unsigned char U8;

#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif
#ifndef NAN
#define NAN __int_as_float(0x7fc00000)
#endif

#define GRID_PARAMS , const I64 ck_group_offset_y, const I64 ck_group_offset_z
#define ck_group_index(d) \
  ((d) == 0 ? (I64)blockIdx.x : (d) == 1 ? (I64)blockIdx.y + ck_group_offset_y : (I64)blockIdx.z + ck_group_offset_z)
#define local_id(d) ((I64)((d) == 0 ? threadIdx.x : (d) == 1 ? threadIdx.y : threadIdx.z))
#define ck_group_size(d) ((I64)((d) == 0 ? blockDim.x : (d) == 1 ? blockDim.y : blockDim.z))
#define group_id(d) ck_group_index(d)
#define global_id(d) (ck_group_index(d) * ck_group_size(d) + local_id(d))
#define barrier_local() __syncthreads()
#define PRAGMA_UNROLL _Pragma("unroll")

#define bits_of_f32(x) __float_as_uint(x)
#define f32_from_bits(u) __uint_as_float(u)
#define bits_of_f64(x) ((U64)__double_as_longlong(x))
#define f64_from_bits(u) __longlong_as_double((long long)(u))
#define i32_from_bits(u) ((I32)(u))
#define i64_from_bits(u) ((I64)(u))
#define clz64(x) __clzll((long long)(x))

DEVICE_FN float load_f16(const U16* p, I64 i) { return ck_half_to_float(p[i]); }
DEVICE_FN void store_f16(U16* p, I64 i, float v) { p[i] = ck_float_to_half(v); }

#define CK_CAT_(a, b) a##b
#define CK_CAT(a, b) CK_CAT_(a, b)

#if VW == 1
#define VF float
#define VD double
#define VU32 U32
#define VI32 I32
#define VU16 U16
#define VU64 U64
#define VI64 I64
#define VU8 U8
#define VF_SPLAT(x) ((float)(x))
#define VD_SPLAT(x) ((double)(x))
#define VF_TO_ARRAY(v, a) ((a)[0] = (v))
#define VF_FROM_ARRAY(a) ((a)[0])
#define VD_TO_ARRAY(v, a) ((a)[0] = (v))
#define VD_FROM_ARRAY(a) ((a)[0])
#define cvt_vu32_from_vu16(v) ((U32)(v))
#define cvt_vu16_from_vu32(v) ((U16)(v))
#define vf_from_bits(v) __uint_as_float(v)
#define vu32_from_vf(v) __float_as_uint(v)
DEVICE_FN VF loadv_f32(const float* p, I64 i) { return p[i]; }
DEVICE_FN void storev_f32(float* p, I64 i, VF v) { p[i] = v; }
DEVICE_FN VF loadv_f16(const U16* p, I64 i) { return load_f16(p, i); }
DEVICE_FN void storev_f16(U16* p, I64 i, VF v) { store_f16(p, i, v); }
DEVICE_FN VU16 loadv_u16(const U16* p, I64 i) { return p[i]; }
DEVICE_FN void storev_u16(U16* p, I64 i, VU16 v) { p[i] = v; }
DEVICE_FN VU32 loadv_u32(const U32* p, I64 i) { return p[i]; }
DEVICE_FN void storev_u32(U32* p, I64 i, VU32 v) { p[i] = v; }
DEVICE_FN VU64 loadv_u64(const U64* p, I64 i) { return p[i]; }
DEVICE_FN void storev_u64(U64* p, I64 i, VU64 v) { p[i] = v; }
DEVICE_FN VU8 loadv_u8(const U8* p, I64 i) { return p[i]; }
DEVICE_FN void storev_u8(U8* p, I64 i, VU8 v) { p[i] = v; }
DEVICE_FN VF loadv_local_f32(const float* p, I64 i) { return p[i]; }
DEVICE_FN VD loadv_f64(const double* p, I64 i) { return p[i]; }
DEVICE_FN void storev_f64(double* p, I64 i, VD v) { p[i] = v; }
DEVICE_FN VD loadv_local_f64(const double* p, I64 i) { return p[i]; }
#elif VW == 2 || VW == 4
/* Short vectors, enough for the GEMM program (the others need VW 1). */
template <typename T>
struct ck_vec {
  T v[VW];
};
#define VF ck_vec<float>
#define VD ck_vec<double>
template <typename T>
DEVICE_FN ck_vec<T> ck_splat(T x) {
  ck_vec<T> r;
  for (int l = 0; l < VW; ++l) r.v[l] = x;
  return r;
}
template <typename T>
DEVICE_FN ck_vec<T> fma(ck_vec<T> a, ck_vec<T> b, ck_vec<T> c) {
  ck_vec<T> r;
  for (int l = 0; l < VW; ++l) r.v[l] = ::fma(a.v[l], b.v[l], c.v[l]);
  return r;
}
template <typename T>
DEVICE_FN ck_vec<T> ck_load(const T* p, I64 i) {
  ck_vec<T> r;
  for (int l = 0; l < VW; ++l) r.v[l] = p[i + l];
  return r;
}
template <typename T>
DEVICE_FN void ck_store(T* p, I64 i, ck_vec<T> x) {
  for (int l = 0; l < VW; ++l) p[i + l] = x.v[l];
}
#define VF_SPLAT(x) ck_splat<float>((float)(x))
#define VD_SPLAT(x) ck_splat<double>((double)(x))
#define VF_TO_ARRAY(x, a) ck_store<float>((a), 0, (x))
#define VD_TO_ARRAY(x, a) ck_store<double>((a), 0, (x))
#define VF_FROM_ARRAY(a) ck_load<float>((a), 0)
#define VD_FROM_ARRAY(a) ck_load<double>((a), 0)
DEVICE_FN VF loadv_f32(const float* p, I64 i) { return ck_load<float>(p, i); }
DEVICE_FN void storev_f32(float* p, I64 i, VF v) { ck_store<float>(p, i, v); }
DEVICE_FN VF loadv_local_f32(const float* p, I64 i) { return ck_load<float>(p, i); }
DEVICE_FN VD loadv_f64(const double* p, I64 i) { return ck_load<double>(p, i); }
DEVICE_FN void storev_f64(double* p, I64 i, VD v) { ck_store<double>(p, i, v); }
DEVICE_FN VD loadv_local_f64(const double* p, I64 i) { return ck_load<double>(p, i); }
DEVICE_FN VF loadv_f16(const U16* p, I64 i) {
  VF r;
  for (int l = 0; l < VW; ++l) r.v[l] = load_f16(p, i + l);
  return r;
}
DEVICE_FN VF loadv_bf16(const U16* p, I64 i) {
  VF r;
  for (int l = 0; l < VW; ++l) r.v[l] = __uint_as_float(((U32)p[i + l]) << 16);
  return r;
}
#define CK_PRELUDE_HAS_LOADV_BF16 1
/* Raw-bit copies move VW elements of any size. */
#define VU8 ck_vec<U8>
#define VU16 ck_vec<U16>
#define VU32 ck_vec<U32>
#define VU64 ck_vec<U64>
DEVICE_FN VU8 loadv_u8(const U8* p, I64 i) { return ck_load<U8>(p, i); }
DEVICE_FN void storev_u8(U8* p, I64 i, VU8 v) { ck_store<U8>(p, i, v); }
DEVICE_FN VU16 loadv_u16(const U16* p, I64 i) { return ck_load<U16>(p, i); }
DEVICE_FN void storev_u16(U16* p, I64 i, VU16 v) { ck_store<U16>(p, i, v); }
DEVICE_FN VU32 loadv_u32(const U32* p, I64 i) { return ck_load<U32>(p, i); }
DEVICE_FN void storev_u32(U32* p, I64 i, VU32 v) { ck_store<U32>(p, i, v); }
DEVICE_FN VU64 loadv_u64(const U64* p, I64 i) { return ck_load<U64>(p, i); }
DEVICE_FN void storev_u64(U64* p, I64 i, VU64 v) { ck_store<U64>(p, i, v); }
#else
#error "prelude_gpu.h: VW must be 1, 2 or 4"
#endif
