// cuda_runtime.cpp — Runtime on the CUDA driver API. libcuda.so.1 is opened
// with dlopen and its few entry points resolved by their versioned names,
// so the plugin needs neither the CUDA toolkit to build nor a driver to
// load. The declarations below are the driver API's own (cuda.h), reduced
// to what is used: handles are pointers, CUdeviceptr a 64-bit integer.
#include <dlfcn.h>

#include <cstdio>
#include <string>

#include "dl_symbols.hpp"
#include "gpu_runtime.hpp"

namespace chorus::gpu {
namespace {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using Handle = void*;

// CUdevice_attribute values used (cuda.h).
enum : int {
  kMaxThreadsPerBlock = 1,
  kMaxGridDimX = 5,
  kMaxSharedMemoryPerBlock = 8,
  kWarpSize = 10,
  kMultiprocessorCount = 16,
  kIntegrated = 18,
  kL2CacheSize = 38,
  kComputeCapabilityMajor = 75,
  kComputeCapabilityMinor = 76,
};
constexpr CUresult kOutOfMemory = 2;  // CUDA_ERROR_OUT_OF_MEMORY
constexpr CUresult kNoDevice = 100;   // CUDA_ERROR_NO_DEVICE
constexpr CUresult kStubLibrary = 34; // CUDA_ERROR_STUB_LIBRARY

struct Fns {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDriverGetVersion)(int*);
  CUresult (*cuDeviceGetCount)(int*);
  CUresult (*cuDeviceGet)(CUdevice*, int);
  CUresult (*cuDeviceGetName)(char*, int, CUdevice);
  CUresult (*cuDeviceTotalMem)(size_t*, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int*, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(Handle*, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
  CUresult (*cuCtxSetCurrent)(Handle);
  CUresult (*cuMemAlloc)(CUdeviceptr*, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuStreamCreate)(Handle*, unsigned);
  CUresult (*cuStreamDestroy)(Handle);
  CUresult (*cuStreamSynchronize)(Handle);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void*, size_t, Handle);
  CUresult (*cuMemcpyDtoHAsync)(void*, CUdeviceptr, size_t, Handle);
  CUresult (*cuEventCreate)(Handle*, unsigned);
  CUresult (*cuEventDestroy)(Handle);
  CUresult (*cuEventRecord)(Handle, Handle);
  CUresult (*cuEventSynchronize)(Handle);
  CUresult (*cuEventElapsedTime)(float*, Handle, Handle);
  CUresult (*cuModuleLoadData)(Handle*, const void*);
  CUresult (*cuModuleUnload)(Handle);
  CUresult (*cuModuleGetFunction)(Handle*, Handle, const char*);
  CUresult (*cuLaunchKernel)(Handle, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                             unsigned, Handle, void**, void**);
  CUresult (*cuGetErrorName)(CUresult, const char**);
  CUresult (*cuGetErrorString)(CUresult, const char**);
};

// A device's primary context, retained while chorus has the device open.
struct Context {
  CUdevice device = 0;
  Handle context = nullptr;
};

class CudaRuntime final : public Runtime {
 public:
  explicit CudaRuntime(const Fns& f, std::string driver) : f_(f), driver_(std::move(driver)) {}
  const std::string& driver_version() const override { return driver_; }
  std::string error_text(int code) const override {
    const char* name = nullptr;
    const char* text = nullptr;
    f_.cuGetErrorName(code, &name);
    f_.cuGetErrorString(code, &text);
    return std::string(name ? name : "CUDA error " + std::to_string(code)) + ": " +
           (text ? text : "unknown");
  }
  bool out_of_memory(int code) const override { return code == kOutOfMemory; }

  int device_count(int* count) override { return f_.cuDeviceGetCount(count); }
  int describe(int index, GpuDeviceDesc* out) override {
    CUdevice d = 0;
    if (const int e = f_.cuDeviceGet(&d, index)) return e;
    char name[256] = {};
    if (const int e = f_.cuDeviceGetName(name, sizeof name - 1, d)) return e;
    size_t memory = 0;
    if (const int e = f_.cuDeviceTotalMem(&memory, d)) return e;
    auto attribute = [&](int which) {
      int v = 0;
      return f_.cuDeviceGetAttribute(&v, which, d) == 0 ? v : 0;
    };
    out->name = name;
    out->vendor = "NVIDIA Corporation";
    out->memory_bytes = memory;
    const int major = attribute(kComputeCapabilityMajor),
              minor = attribute(kComputeCapabilityMinor);
    out->arch = "sm_" + std::to_string(major) + std::to_string(minor);
    out->l2_bytes = static_cast<uint64_t>(attribute(kL2CacheSize));
    out->shared_per_block = static_cast<uint64_t>(attribute(kMaxSharedMemoryPerBlock));
    out->max_threads_per_block = static_cast<uint32_t>(attribute(kMaxThreadsPerBlock));
    for (int i = 0; i < 3; ++i)
      out->max_grid[i] = static_cast<uint32_t>(attribute(kMaxGridDimX + i));
    out->compute_units = static_cast<uint32_t>(attribute(kMultiprocessorCount));
    out->warp_size = static_cast<uint32_t>(attribute(kWarpSize));
    out->compute_unit_name = "SMs";
    out->lane_group_name = "warp";
    out->integrated = attribute(kIntegrated) != 0;
    return 0;
  }
  int open(int index, void** context) override {
    auto* c = new Context;
    int e = f_.cuDeviceGet(&c->device, index);
    if (e == 0) e = f_.cuDevicePrimaryCtxRetain(&c->context, c->device);
    if (e != 0) {
      delete c;
      return e;
    }
    *context = c;
    return 0;
  }
  void close(void* context) override {
    auto* c = static_cast<Context*>(context);
    f_.cuDevicePrimaryCtxRelease(c->device);
    delete c;
  }
  int make_current(void* context) override {
    return f_.cuCtxSetCurrent(static_cast<Context*>(context)->context);
  }

  int alloc(uint64_t bytes, uint64_t* pointer) override {
    CUdeviceptr p = 0;
    const int e = f_.cuMemAlloc(&p, bytes);
    *pointer = p;
    return e;
  }
  int free(uint64_t pointer) override { return f_.cuMemFree(pointer); }
  int stream_create(void** stream) override {
    return f_.cuStreamCreate(stream, 1);
  }  // non-blocking
  int stream_destroy(void* stream) override { return f_.cuStreamDestroy(stream); }
  int stream_sync(void* stream) override { return f_.cuStreamSynchronize(stream); }
  int write(void* stream, uint64_t dst, const void* src, uint64_t bytes) override {
    if (const int e = f_.cuMemcpyHtoDAsync(dst, src, bytes, stream)) return e;
    return f_.cuStreamSynchronize(stream);
  }
  int read(void* stream, void* dst, uint64_t src, uint64_t bytes) override {
    if (const int e = f_.cuMemcpyDtoHAsync(dst, src, bytes, stream)) return e;
    return f_.cuStreamSynchronize(stream);
  }
  int event_create(void** event) override { return f_.cuEventCreate(event, 0); }
  int event_destroy(void* event) override { return f_.cuEventDestroy(event); }
  int event_record(void* event, void* stream) override { return f_.cuEventRecord(event, stream); }
  int event_sync(void* event) override { return f_.cuEventSynchronize(event); }
  int event_elapsed_ms(void* start, void* end, float* ms) override {
    return f_.cuEventElapsedTime(ms, start, end);
  }
  int module_load(const std::vector<uint8_t>& binary, void** module) override {
    return f_.cuModuleLoadData(module, binary.data());
  }
  int module_unload(void* module) override { return f_.cuModuleUnload(module); }
  int function(void* module, const char* name, void** function) override {
    return f_.cuModuleGetFunction(function, module, name);
  }
  int launch(void* function, const uint32_t grid[3], const uint32_t block[3], void* stream,
             void** args) override {
    return f_.cuLaunchKernel(function, grid[0], grid[1], grid[2], block[0], block[1], block[2], 0,
                             stream, args, nullptr);
  }

 private:
  Fns f_;
  std::string driver_;
};

}  // namespace

std::unique_ptr<Runtime> load_cuda_runtime(std::string* why) {
  void* library = nullptr;
  for (const char* name : {"libcuda.so.1", "libcuda.so"})
    if ((library = dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
  if (!library) {
    *why = "libcuda.so.1 not found: no NVIDIA driver on this machine";
    return nullptr;
  }
  Fns f{};
  const bool ok =
      resolve_symbol(library, {"cuInit"}, &f.cuInit) &&
      resolve_symbol(library, {"cuDriverGetVersion"}, &f.cuDriverGetVersion) &&
      resolve_symbol(library, {"cuDeviceGetCount"}, &f.cuDeviceGetCount) &&
      resolve_symbol(library, {"cuDeviceGet"}, &f.cuDeviceGet) &&
      resolve_symbol(library, {"cuDeviceGetName"}, &f.cuDeviceGetName) &&
      resolve_symbol(library, {"cuDeviceTotalMem_v2"}, &f.cuDeviceTotalMem) &&
      resolve_symbol(library, {"cuDeviceGetAttribute"}, &f.cuDeviceGetAttribute) &&
      resolve_symbol(library, {"cuDevicePrimaryCtxRetain"}, &f.cuDevicePrimaryCtxRetain) &&
      resolve_symbol(library, {"cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"},
              &f.cuDevicePrimaryCtxRelease) &&
      resolve_symbol(library, {"cuCtxSetCurrent"}, &f.cuCtxSetCurrent) &&
      resolve_symbol(library, {"cuMemAlloc_v2"}, &f.cuMemAlloc) &&
      resolve_symbol(library, {"cuMemFree_v2"}, &f.cuMemFree) &&
      resolve_symbol(library, {"cuStreamCreate"}, &f.cuStreamCreate) &&
      resolve_symbol(library, {"cuStreamDestroy_v2", "cuStreamDestroy"}, &f.cuStreamDestroy) &&
      resolve_symbol(library, {"cuStreamSynchronize"}, &f.cuStreamSynchronize) &&
      resolve_symbol(library, {"cuMemcpyHtoDAsync_v2"}, &f.cuMemcpyHtoDAsync) &&
      resolve_symbol(library, {"cuMemcpyDtoHAsync_v2"}, &f.cuMemcpyDtoHAsync) &&
      resolve_symbol(library, {"cuEventCreate"}, &f.cuEventCreate) &&
      resolve_symbol(library, {"cuEventDestroy_v2", "cuEventDestroy"}, &f.cuEventDestroy) &&
      resolve_symbol(library, {"cuEventRecord"}, &f.cuEventRecord) &&
      resolve_symbol(library, {"cuEventSynchronize"}, &f.cuEventSynchronize) &&
      resolve_symbol(library, {"cuEventElapsedTime_v2", "cuEventElapsedTime"}, &f.cuEventElapsedTime) &&
      resolve_symbol(library, {"cuModuleLoadData"}, &f.cuModuleLoadData) &&
      resolve_symbol(library, {"cuModuleUnload"}, &f.cuModuleUnload) &&
      resolve_symbol(library, {"cuModuleGetFunction"}, &f.cuModuleGetFunction) &&
      resolve_symbol(library, {"cuLaunchKernel"}, &f.cuLaunchKernel) &&
      resolve_symbol(library, {"cuGetErrorName"}, &f.cuGetErrorName) &&
      resolve_symbol(library, {"cuGetErrorString"}, &f.cuGetErrorString);
  if (!ok) {
    *why = "libcuda.so.1 lacks a driver API entry point chorus needs (driver too old?)";
    return nullptr;
  }
  if (const CUresult e = f.cuInit(0)) {
    const char* name = nullptr;
    f.cuGetErrorName(e, &name);
    *why = std::string("cuInit failed: ") + (name ? name : "CUDA error " + std::to_string(e)) +
           (e == kNoDevice       ? " (no CUDA-capable device)"
            : e == kStubLibrary ? " (the libcuda.so.1 found is the CUDA toolkit's stub, not a "
                                  "driver: is a stubs folder on LD_LIBRARY_PATH?)"
                                : "");
    return nullptr;
  }
  int version = 0;
  f.cuDriverGetVersion(&version);
  char text[64];
  std::snprintf(text, sizeof text, "CUDA driver %d.%d", version / 1000, (version % 1000) / 10);
  // The library stays loaded for the process: contexts outlive plugins.
  return std::make_unique<CudaRuntime>(f, text);
}

}  // namespace chorus::gpu
