// cuda_plugin.cpp — libchorus-cuda.so: the portable kernels through NVRTC
// on the CUDA driver API, both loaded at run time.
#include "gpu_backend.hpp"

extern "C" CHORUS_API const chorus_backend_vtable* chorus_backend_entry(uint32_t abi_version) {
  static const chorus::gpu::BackendConfig config{"cuda", chorus::gpu::RtcKind::nvrtc,
                                                 chorus::gpu::load_cuda_runtime, 400};
  return chorus::gpu::backend_vtable(abi_version, config);
}
