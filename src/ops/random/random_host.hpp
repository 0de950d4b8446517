// random_host.hpp — philox.h for host code (the reference and Kokkos
// backends), and the host-side constants every backend derives from an op's
// attributes in the same way: the event threshold of a probability and
// dropout's scale. The kernels' planner (plan.cpp) uses these too, so no
// backend has its own idea of them.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#ifdef KOKKOS_INLINE_FUNCTION
#define CHORUS_RANDOM_FN KOKKOS_INLINE_FUNCTION
#else
#define CHORUS_RANDOM_FN inline
#endif

namespace chorus::ops::random::host {

using U32 = uint32_t;
using U64 = uint64_t;

CHORUS_RANDOM_FN U32 bits_of_f32(float f) {
  U32 u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
CHORUS_RANDOM_FN float f32_from_bits(U32 u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

#define DEVICE_FN CHORUS_RANDOM_FN
#include "random/philox.h"
#undef DEVICE_FN

// The number of 24-bit draws (of 2^24) that make the event of probability
// p: round(p * 2^24), so the probability realised is a multiple of 2^-24
// (p = 0 and p = 1 exactly; any other p within 2^-25). p in [0, 1].
inline U32 threshold_of(double p) {
  if (!(p > 0)) return 0;
  if (p >= 1) return 1u << 24;
  return static_cast<U32>(std::floor(p * 16777216.0 + 0.5));
}

// Dropout's factor for kept elements, 1 / (1 - p) in double (then rounded to
// the compute type by the caller); 0 for p = 1, where nothing is kept.
inline double dropout_scale(double p) { return p >= 1 ? 0.0 : 1.0 / (1.0 - p); }

}  // namespace chorus::ops::random::host
