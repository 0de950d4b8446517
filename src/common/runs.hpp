// runs.hpp — layout arithmetic that libchorus and the plugins share as
// header-only code (plugins must not link libchorus's symbols): any type
// with shape[] and strides[] (core::View, chorus_backend_tensor).
#pragma once

#include <cstdint>

namespace chorus::common {

// Whether axes [0, count) of t step over their elements as one run of a
// single stride (extent-1 axes ignored); that stride in *stride (1 when no
// axis moves).
template <typename Layout>
bool one_run(const Layout& t, uint32_t count, int64_t* stride) {
  int64_t s = 1, reach = 0;
  bool any = false;
  for (uint32_t k = count; k-- > 0;) {
    if (t.shape[k] == 1) continue;
    if (!any) {
      s = t.strides[k];
      reach = t.strides[k] * t.shape[k];
      any = true;
    } else if (t.strides[k] == reach) {
      reach *= t.shape[k];
    } else {
      return false;
    }
  }
  *stride = s;
  return true;
}

}  // namespace chorus::common
