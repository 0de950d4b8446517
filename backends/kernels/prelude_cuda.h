/* prelude_cuda.h — what only NVRTC needs before prelude_gpu.h: f16
 * conversions through PTX, which round to nearest even and need no header. */
static __device__ __forceinline__ float ck_half_to_float(unsigned short h) {
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
  return f;
}
static __device__ __forceinline__ unsigned short ck_float_to_half(float v) {
  unsigned short h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(v));
  return h;
}
