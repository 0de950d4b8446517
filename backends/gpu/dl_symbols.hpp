// dl_symbols.hpp — entry points of a vendor library opened with dlopen, for
// the CUDA and HIP runtimes and the run-time compilers (rtc.cpp).
#pragma once

#include <dlfcn.h>

#include <initializer_list>
#include <string>

namespace chorus::gpu {

// The first of `names` that `library` exports, as *out; false when none.
// Several names serve entry points renamed across versions
// ("cuDevicePrimaryCtxRelease_v2", then the old name).
template <typename F>
bool resolve_symbol(void* library, std::initializer_list<const char*> names, F* out) {
  for (const char* name : names)
    if ((*out = reinterpret_cast<F>(dlsym(library, name)))) return true;
  return false;
}

template <typename F>
bool resolve_symbol(void* library, const std::string& name, F* out) {
  return resolve_symbol(library, {name.c_str()}, out);
}

}  // namespace chorus::gpu
