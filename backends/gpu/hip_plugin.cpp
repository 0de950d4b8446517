// hip_plugin.cpp — libchorus-hip.so: the portable kernels through hiprtc on
// the HIP runtime, both loaded at run time.
#include "gpu_backend.hpp"

extern "C" CHORUS_API const chorus_backend_vtable* chorus_backend_entry(uint32_t abi_version) {
  static const chorus::gpu::BackendConfig config{"hip", chorus::gpu::RtcKind::hiprtc,
                                                 chorus::gpu::load_hip_runtime, 400};
  return chorus::gpu::backend_vtable(abi_version, config);
}
