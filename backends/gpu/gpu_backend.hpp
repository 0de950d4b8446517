// gpu_backend.hpp — the plugin body shared by libchorus-cuda.so,
// libchorus-hip.so and the tests' GPU emulator (libchorus-gpuemu.so): each
// module supplies its API's name, compiler and runtime loader and exports
// the vtable this returns.
#pragma once

#include <chorus/backend.h>

#include <memory>
#include <string>

#include "gpu_runtime.hpp"
#include "rtc.hpp"

namespace chorus::gpu {

struct BackendConfig {
  const char* name;  // "cuda", "hip"
  RtcKind compiler;
  std::unique_ptr<Runtime> (*load_runtime)(std::string* why);
  int32_t score;  // preference among usable devices ("best")
};

// The vtable of the module's backend, or nullptr for another major ABI
// version (0, "describe yourself", gets it too).
const chorus_backend_vtable* backend_vtable(uint32_t abi_version, const BackendConfig& config);

}  // namespace chorus::gpu
