/* prelude_emu.h — the CUDA names that prelude_gpu.h and the kernels use, as
 * plain host C++, for the GPU emulator of the tests (tests/gpu): the same
 * kernel text NVRTC and hiprtc compile is compiled by the host's C++
 * compiler into a shared object whose kernels the emulator runs, one fiber
 * per GPU thread, so the CUDA/HIP host code and the C++ preludes are
 * checked on a machine without a GPU. Never used by a real backend.
 *
 * __shared__ arrays become static: one copy per kernel, which the blocks
 * of a grid share one after another (blocks run one at a time). The
 * runtime writes ck_emu before it switches to a thread.
 */
#include <math.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static

struct ck_emu_dim3 {
  unsigned x, y, z;
};
struct ck_emu_state {
  ck_emu_dim3 block_idx, thread_idx, block_dim, grid_dim;
  void (*sync)(void);
};
static ck_emu_state ck_emu;
extern "C" __attribute__((visibility("default"))) ck_emu_state* chorus_emu_state(void) {
  return &ck_emu;
}
#define blockIdx ck_emu.block_idx
#define threadIdx ck_emu.thread_idx
#define blockDim ck_emu.block_dim
#define gridDim ck_emu.grid_dim
#define __syncthreads() ck_emu.sync()

template <typename To, typename From>
static inline To ck_emu_bits(From v) {
  static_assert(sizeof(To) == sizeof(From), "bit casts keep the size");
  To t;
  std::memcpy(&t, &v, sizeof t);
  return t;
}
static inline float __uint_as_float(unsigned u) { return ck_emu_bits<float>(u); }
static inline float __int_as_float(int u) { return ck_emu_bits<float>(u); }
static inline unsigned __float_as_uint(float f) { return ck_emu_bits<unsigned>(f); }
static inline long long __double_as_longlong(double d) { return ck_emu_bits<long long>(d); }
static inline double __longlong_as_double(long long v) { return ck_emu_bits<double>(v); }
static inline int __clzll(long long v) {
  return v == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(v));
}

/* f16 through the compiler's _Float16 (GCC 12+, clang): conversions round
 * to nearest even, as PTX's cvt.rn does. */
static inline float ck_half_to_float(unsigned short h) { return (float)ck_emu_bits<_Float16>(h); }
static inline unsigned short ck_float_to_half(float v) {
  return ck_emu_bits<unsigned short>((_Float16)v);
}

/* Kernels are called through void** like cuLaunchKernel's kernelParams:
 * the compiler knows each kernel's parameter types, so one template unpacks
 * them. The emulator's compiler step lists the kernels of a program and
 * appends CK_EMU_ENTRY(name) for each. */
template <typename... P, std::size_t... I>
static inline void ck_emu_invoke(void (*f)(P...), void** args, std::index_sequence<I...>) {
  f(*static_cast<std::remove_cv_t<std::remove_reference_t<P>>*>(args[I])...);
}
#define CK_EMU_ENTRY(name)                                                                   \
  extern "C" __attribute__((visibility("default"))) void chorus_emu_call_##name(void** args) { \
    ck_emu_invoke(name, args, std::make_index_sequence<ck_emu_arity(name)>{});              \
  }
template <typename... P>
constexpr std::size_t ck_emu_arity(void (*)(P...)) {
  return sizeof...(P);
}
