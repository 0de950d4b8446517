// hip_runtime.cpp — Runtime on the HIP runtime API. libamdhip64.so is opened
// with dlopen; only the declarations of <hip/hip_runtime_api.h> are used
// (for hipDeviceProp_t and the signatures), never its library at link time.
// The wavefront size comes from the device (warpSize: 64 on CDNA and GCN,
// 32 on RDNA), never assumed.
#ifndef __HIP_PLATFORM_AMD__
#define __HIP_PLATFORM_AMD__ 1
#endif
#include <dlfcn.h>
#include <hip/hip_runtime_api.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "dl_symbols.hpp"
#include "gpu_runtime.hpp"

namespace chorus::gpu {
namespace {

#define CHORUS_HIP_FNS(X)                                                                         \
  X(hipInit)                                                                                      \
  X(hipDriverGetVersion)                                                                          \
  X(hipRuntimeGetVersion)                                                                         \
  X(hipGetDeviceCount) X(hipSetDevice) X(hipFree) X(hipStreamCreateWithFlags) X(hipStreamDestroy) \
      X(hipStreamSynchronize) X(hipMemcpyHtoDAsync) X(hipMemcpyDtoHAsync) X(hipEventCreate)       \
          X(hipEventDestroy) X(hipEventRecord) X(hipEventSynchronize) X(hipEventElapsedTime)      \
              X(hipModuleLoadData) X(hipModuleUnload) X(hipModuleGetFunction)                     \
                  X(hipModuleLaunchKernel) X(hipGetErrorName) X(hipGetErrorString)

struct Fns {
#define CHORUS_HIP_FIELD(name) decltype(&::name) name = nullptr;
  CHORUS_HIP_FNS(CHORUS_HIP_FIELD)
#undef CHORUS_HIP_FIELD
  // ROCm 6 renamed the call with its new struct; R0000 keeps the layout of
  // the ROCm 5 headers this file is built with.
  hipError_t (*get_properties)(hipDeviceProp_t*, int) = nullptr;
  hipError_t (*hipMalloc)(void**, size_t) = nullptr;  // overloaded in C++: no decltype
};

struct Context {
  int device = 0;
};

class HipRuntime final : public Runtime {
 public:
  HipRuntime(const Fns& f, std::string driver) : f_(f), driver_(std::move(driver)) {}
  const std::string& driver_version() const override { return driver_; }
  std::string error_text(int code) const override {
    const auto e = static_cast<hipError_t>(code);
    return std::string(f_.hipGetErrorName(e)) + ": " + f_.hipGetErrorString(e);
  }
  bool out_of_memory(int code) const override { return code == hipErrorOutOfMemory; }

  int device_count(int* count) override { return f_.hipGetDeviceCount(count); }
  int describe(int index, GpuDeviceDesc* out) override {
    hipDeviceProp_t p;
    std::memset(&p, 0, sizeof p);
    if (const hipError_t e = f_.get_properties(&p, index)) return e;
    out->name = p.name;
    out->vendor = "Advanced Micro Devices, Inc.";
    // gcnArchName is "gfx90a:sramecc+:xnack-"; the compiler target is the
    // part before the first ':'.
    out->arch = std::string(p.gcnArchName).substr(0, std::string(p.gcnArchName).find(':'));
    out->memory_bytes = p.totalGlobalMem;
    out->l2_bytes = static_cast<uint64_t>(p.l2CacheSize);
    out->shared_per_block = p.sharedMemPerBlock;
    out->max_threads_per_block = static_cast<uint32_t>(p.maxThreadsPerBlock);
    for (int i = 0; i < 3; ++i) out->max_grid[i] = static_cast<uint32_t>(p.maxGridSize[i]);
    out->compute_units = static_cast<uint32_t>(p.multiProcessorCount);
    out->warp_size = static_cast<uint32_t>(p.warpSize);
    out->compute_unit_name = "CUs";
    out->lane_group_name = "wavefront";
    out->integrated = p.integrated != 0;
    return 0;
  }
  int open(int index, void** context) override {
    if (const hipError_t e = f_.hipSetDevice(index)) return e;
    *context = new Context{index};
    return 0;
  }
  void close(void* context) override { delete static_cast<Context*>(context); }
  int make_current(void* context) override {
    return f_.hipSetDevice(static_cast<Context*>(context)->device);
  }

  int alloc(uint64_t bytes, uint64_t* pointer) override {
    void* p = nullptr;
    const hipError_t e = f_.hipMalloc(&p, bytes);
    *pointer = reinterpret_cast<uint64_t>(p);
    return e;
  }
  int free(uint64_t pointer) override { return f_.hipFree(reinterpret_cast<void*>(pointer)); }
  int stream_create(void** stream) override {
    return f_.hipStreamCreateWithFlags(reinterpret_cast<hipStream_t*>(stream),
                                       hipStreamNonBlocking);
  }
  int stream_destroy(void* stream) override {
    return f_.hipStreamDestroy(static_cast<hipStream_t>(stream));
  }
  int stream_sync(void* stream) override {
    return f_.hipStreamSynchronize(static_cast<hipStream_t>(stream));
  }
  int write(void* stream, uint64_t dst, const void* src, uint64_t bytes) override {
    if (const hipError_t e =
            f_.hipMemcpyHtoDAsync(reinterpret_cast<hipDeviceptr_t>(dst), const_cast<void*>(src),
                                  bytes, static_cast<hipStream_t>(stream)))
      return e;
    return stream_sync(stream);
  }
  int read(void* stream, void* dst, uint64_t src, uint64_t bytes) override {
    if (const hipError_t e = f_.hipMemcpyDtoHAsync(dst, reinterpret_cast<hipDeviceptr_t>(src),
                                                   bytes, static_cast<hipStream_t>(stream)))
      return e;
    return stream_sync(stream);
  }
  int event_create(void** event) override {
    return f_.hipEventCreate(reinterpret_cast<hipEvent_t*>(event));
  }
  int event_destroy(void* event) override {
    return f_.hipEventDestroy(static_cast<hipEvent_t>(event));
  }
  int event_record(void* event, void* stream) override {
    return f_.hipEventRecord(static_cast<hipEvent_t>(event), static_cast<hipStream_t>(stream));
  }
  int event_sync(void* event) override {
    return f_.hipEventSynchronize(static_cast<hipEvent_t>(event));
  }
  int event_elapsed_ms(void* start, void* end, float* ms) override {
    return f_.hipEventElapsedTime(ms, static_cast<hipEvent_t>(start), static_cast<hipEvent_t>(end));
  }
  int module_load(const std::vector<uint8_t>& binary, void** module) override {
    return f_.hipModuleLoadData(reinterpret_cast<hipModule_t*>(module), binary.data());
  }
  int module_unload(void* module) override {
    return f_.hipModuleUnload(static_cast<hipModule_t>(module));
  }
  int function(void* module, const char* name, void** function) override {
    return f_.hipModuleGetFunction(reinterpret_cast<hipFunction_t*>(function),
                                   static_cast<hipModule_t>(module), name);
  }
  int launch(void* function, const uint32_t grid[3], const uint32_t block[3], void* stream,
             void** args) override {
    return f_.hipModuleLaunchKernel(static_cast<hipFunction_t>(function), grid[0], grid[1], grid[2],
                                    block[0], block[1], block[2], 0,
                                    static_cast<hipStream_t>(stream), args, nullptr);
  }

 private:
  Fns f_;
  std::string driver_;
};

}  // namespace

std::unique_ptr<Runtime> load_hip_runtime(std::string* why) {
  void* library = nullptr;
  std::string tried;
  std::vector<std::string> names;
  if (const char* rocm = std::getenv("ROCM_PATH"); rocm && *rocm)
    names.push_back(std::string(rocm) + "/lib/libamdhip64.so");
  for (const char* n :
       {"libamdhip64.so", "libamdhip64.so.6", "libamdhip64.so.5", "/opt/rocm/lib/libamdhip64.so"})
    names.push_back(n);
  for (const auto& name : names)
    if ((library = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL))) break;
  if (!library) {
    *why = "libamdhip64.so not found: no HIP runtime on this machine";
    return nullptr;
  }
  Fns f;
  bool ok = true;
#define CHORUS_HIP_RESOLVE(name) ok = ok && resolve_symbol(library, {#name}, &f.name);
  CHORUS_HIP_FNS(CHORUS_HIP_RESOLVE)
#undef CHORUS_HIP_RESOLVE
  ok = ok &&
       resolve_symbol(library, {"hipGetDevicePropertiesR0000", "hipGetDeviceProperties"},
                      &f.get_properties) &&
       resolve_symbol(library, {"hipMalloc"}, &f.hipMalloc);
  if (!ok) {
    *why = "libamdhip64.so lacks a HIP entry point chorus needs";
    return nullptr;
  }
  if (const hipError_t e = f.hipInit(0)) {
    *why = std::string("hipInit failed: ") + f.hipGetErrorName(e) +
           " (no AMD GPU, or no access to /dev/kfd)";
    return nullptr;
  }
  int count = 0;
  if (const hipError_t e = f.hipGetDeviceCount(&count); e != hipSuccess || count == 0) {
    *why = std::string("no HIP device: hipGetDeviceCount says ") +
           (e != hipSuccess ? f.hipGetErrorName(e) : "0 devices");
    return nullptr;
  }
  int driver = 0, runtime = 0;
  (void)f.hipDriverGetVersion(&driver);
  (void)f.hipRuntimeGetVersion(&runtime);
  char text[96];
  std::snprintf(text, sizeof text, "HIP runtime %d.%d.%d, driver %d", runtime / 10000000,
                (runtime / 100000) % 100, runtime % 100000, driver);
  return std::make_unique<HipRuntime>(f, text);
}

}  // namespace chorus::gpu
