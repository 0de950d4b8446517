/* prelude_hip.h — what only hiprtc needs before prelude_gpu.h: f16
 * conversions through clang's _Float16 (the conversion instructions round
 * to nearest even in the default rounding mode). Wavefront size never
 * matters here: no kernel uses warp or subgroup operations. */
static __device__ inline float ck_half_to_float(unsigned short h) {
  return (float)__builtin_bit_cast(_Float16, h);
}
static __device__ inline unsigned short ck_float_to_half(float v) {
  return __builtin_bit_cast(unsigned short, (_Float16)v);
}
