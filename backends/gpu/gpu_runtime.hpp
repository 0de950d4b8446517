// gpu_runtime.hpp — the part of a GPU vendor runtime the CUDA and HIP
// plugins use, behind one interface: cuda_runtime.cpp implements it on the
// CUDA driver API (libcuda.so.1), hip_runtime.cpp on the HIP runtime
// (libamdhip64.so). Both are loaded with dlopen, so a plugin loads on a
// machine without the runtime and reports why it cannot run. Everything
// else (devices, buffers, queues, programs, launches) is gpu_backend.cpp,
// written once for both APIs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace chorus::gpu {

struct GpuDeviceDesc {
  std::string name;
  std::string arch;  // compiler target: "sm_90", "gfx90a"
  std::string vendor;
  uint64_t memory_bytes = 0;
  uint64_t l2_bytes = 0;
  uint64_t shared_per_block = 0;  // static shared memory a block may use
  uint32_t max_threads_per_block = 0;
  uint32_t max_grid[3] = {0, 0, 0};  // blocks per grid dimension
  uint32_t compute_units = 0;        // SMs, CUs
  // The runtime's words for them: "SMs"/"CUs", "warp"/"wavefront".
  const char* compute_unit_name = "compute units";
  const char* lane_group_name = "warp";
  uint32_t warp_size = 0;  // 32, or 64 on most AMD GPUs: read, never assumed
  bool integrated = false;
};

// Every call returns the API's status code (0 is success); error_text
// turns a code into "CUDA_ERROR_OUT_OF_MEMORY: out of memory".
class Runtime {
 public:
  virtual ~Runtime() = default;
  virtual const std::string& driver_version() const = 0;
  virtual std::string error_text(int code) const = 0;
  virtual bool out_of_memory(int code) const = 0;

  virtual int device_count(int* count) = 0;
  virtual int describe(int index, GpuDeviceDesc* out) = 0;
  // A context for the device (CUDA: its primary context); make_current
  // binds it to the calling thread and is called before any other call.
  virtual int open(int index, void** context) = 0;
  virtual void close(void* context) = 0;
  virtual int make_current(void* context) = 0;

  virtual int alloc(uint64_t bytes, uint64_t* pointer) = 0;
  virtual int free(uint64_t pointer) = 0;
  virtual int stream_create(void** stream) = 0;
  virtual int stream_destroy(void* stream) = 0;
  virtual int stream_sync(void* stream) = 0;
  // Ordered after the stream's earlier work; return when the copy is done.
  virtual int write(void* stream, uint64_t dst, const void* src, uint64_t bytes) = 0;
  virtual int read(void* stream, void* dst, uint64_t src, uint64_t bytes) = 0;

  virtual int event_create(void** event) = 0;
  virtual int event_destroy(void* event) = 0;
  virtual int event_record(void* event, void* stream) = 0;
  virtual int event_sync(void* event) = 0;
  virtual int event_elapsed_ms(void* start, void* end, float* ms) = 0;

  virtual int module_load(const std::vector<uint8_t>& binary, void** module) = 0;
  virtual int module_unload(void* module) = 0;
  virtual int function(void* module, const char* name, void** function) = 0;
  // args[i] points at the value of kernel parameter i.
  virtual int launch(void* function, const uint32_t grid[3], const uint32_t block[3], void* stream,
                     void** args) = 0;
};

// nullptr with *why when the runtime library or a device is missing.
std::unique_ptr<Runtime> load_cuda_runtime(std::string* why);
std::unique_ptr<Runtime> load_hip_runtime(std::string* why);

}  // namespace chorus::gpu
