// compiled_backend.hpp — the body every run-time-compiling backend shares
// (OpenCL, CUDA, HIP, and the GPU emulator of the tests), written once:
// the per-device cache of programs and kernels (memory, then the disk cache
// of kernel_cache.hpp, then the compiler) with its statistics, per-queue
// scratch memory, the plan runner (argument marshalling with the offset
// patches of op_plan.hpp), and the vtable entries built on them: ops
// (op_supports, op_create, op_execute, op_destroy), buffers, queues, and
// buffer copies and fills as the portable kernels.
//
// A runtime derives its device from CompiledDevice and implements what
// differs between APIs: program text and options, compiling to a binary
// and loading one, finding a kernel, launching it (setting its arguments
// and enqueueing), memory, and queues. Discovery, device info and events
// stay in the runtime's own file, which assembles its vtable with
// fill_compiled_vtable().
//
// Handles: a device is the CompiledDevice* (as void*), a queue a
// CompiledQueue*, a buffer a CompiledBuffer*, whose 64-bit handle is the
// runtime's own (a cl_mem, a device address).
#pragma once

#include <chorus/backend.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernel_cache.hpp"
#include "op_plan.hpp"
#include "plugin_helpers.hpp"
#include "program_cache.hpp"

namespace chorus::backend_common {

class CompiledDevice;

struct CompiledBuffer {
  uint64_t handle = 0;  // the runtime's: a cl_mem, a device address (0 for none)
  uint64_t bytes = 0;
};

struct CompiledQueue {
  CompiledDevice* device = nullptr;
  void* native = nullptr;  // cl_command_queue, CUstream, hipStream_t
  // Per-queue scratch (GEMM packing, partial reductions): ops on one
  // in-order queue never overlap, ops on two queues never share it.
  uint64_t scratch[2] = {0, 0};
  uint64_t scratch_bytes[2] = {0, 0};
};

// One kernel argument as the runtime sets it: a buffer (its handle, 0 for a
// NULL buffer) or bytes passed by value.
struct ArgValue {
  bool memory = false;
  uint64_t handle = 0;           // memory
  const void* data = nullptr;    // bytes
  size_t size = 0;
};

// What a program is made from: its full text, the compiler options, and the
// disk cache key of both (with the device's identity).
struct ProgramText {
  std::string source;
  std::string options;
  std::string cache_key;
};

class CompiledDevice {
 public:
  CompiledDevice(ReportFn report_fn, LogFn log_fn) : report(report_fn), log(log_fn) {}
  virtual ~CompiledDevice() = default;
  CompiledDevice(const CompiledDevice&) = delete;
  CompiledDevice& operator=(const CompiledDevice&) = delete;

  // ------------------------------------------------- the runtime's part

  // Called first by every entry point that reaches the runtime (CUDA and
  // HIP bind the device's context to the calling thread here).
  virtual chorus_status enter() { return CHORUS_OK; }
  // The device's name for log lines.
  virtual std::string label() const = 0;
  // Largest single allocation (scratch larger than this is refused).
  virtual uint64_t max_allocation() const = 0;

  // The text of a program (the API's preludes, then spec.files) and its
  // compiler options, joined; *missing names a file not embedded.
  virtual std::string program_source(const ProgramSpec& spec, std::string* missing) const = 0;
  virtual std::string program_options(const ProgramSpec& spec) const = 0;
  // The disk cache key of a program (the API, the device's identity, what
  // kind of binary the cache keeps, the options and the source).
  virtual std::string cache_key(const std::string& options, const std::string& source) const = 0;
  // Compiles from source: *program ready for find_kernel, *binary what the
  // disk cache should keep (empty: nothing). Reports its own failure.
  virtual chorus_status compile(const ProgramSpec& spec, const ProgramText& text, void** program,
                                std::vector<uint8_t>* binary) = 0;
  // A program from a cached binary; false when the driver refuses it.
  virtual bool load_binary(const std::vector<uint8_t>& binary, const ProgramText& text,
                           void** program) = 0;
  virtual void release_program(void* program) = 0;
  // The kernel launch.kernel of a program. Reports its own failure.
  virtual chorus_status find_kernel(void* program, const Launch& launch, void** kernel) = 0;
  virtual void release_kernel(void* /*kernel*/) {}
  // Sets the arguments and enqueues launch's grid on the native queue.
  // args[i] is argument i; the runtime may append to args (extra
  // parameters of its own) but must not keep pointers into them.
  virtual chorus_status launch(void* queue, void* kernel, const Launch& launch,
                               std::vector<ArgValue>& args) = 0;

  // Memory. alloc reports its own failures (and refuses what is too large).
  virtual chorus_status alloc(uint64_t bytes, uint64_t* handle) = 0;
  virtual void free(uint64_t handle) = 0;
  // Frees memory that commands already enqueued on the queue may still use.
  virtual chorus_status free_after(void* queue, uint64_t handle) = 0;

  // Queues. queue_destroy waits for the queue's work first.
  virtual chorus_status queue_create(void** queue) = 0;
  virtual void queue_destroy(void* queue) = 0;
  virtual chorus_status queue_sync(void* queue) = 0;
  // Blocking host copies, ordered after the queue's earlier work.
  virtual chorus_status write(void* queue, uint64_t handle, uint64_t offset, const void* src,
                              uint64_t bytes) = 0;
  virtual chorus_status read(void* queue, uint64_t handle, uint64_t offset, void* dst,
                             uint64_t bytes) = 0;

  // ---------------------------------------------------- the shared part

  ReportFn report;
  LogFn log;
  DeviceTraits traits;
  KernelCache cache{""};
  // Kernel objects hold their arguments (OpenCL): setting them and
  // enqueueing happen under `mutex`, one launch at a time per device.
  bool kernels_hold_arguments = false;
  // Guards the programs, their kernels and stats.
  std::mutex mutex;
  chorus_kernel_stats stats{};

  // The kernel of a launch, from the memory cache, the disk cache or the
  // compiler (mutex held, enter() called).
  chorus_status get_kernel(const Launch& launch, void** kernel);
  // Runs a plan on q: kernels[i] is launch i's kernel, bindings the op's
  // tensors (their offsets go where the launches' patches say).
  chorus_status run(CompiledQueue& q, const Plan& plan, void* const* kernels,
                    const chorus_backend_binding* bindings, uint32_t binding_count);
  // Releases every program and kernel (enter() called); before the
  // runtime's destructor releases its context.
  void release_programs();

 private:
  chorus_status get_program(const ProgramSpec& spec, void** program);
  chorus_status ensure_scratch(CompiledQueue& q, const Plan& plan);
  struct Program {
    void* handle = nullptr;
    std::map<std::string, void*> kernels;
  };
  std::unordered_map<std::string, Program> programs_;
};

// Sets the vtable entries the skeleton implements: device_close, buffers,
// queues, host and device copies and fills, ops and kernel statistics. The
// runtime sets the rest (name, versions, plugin, devices, events).
void fill_compiled_vtable(chorus_backend_vtable* vtable);

// What a runtime brings to its vtable; compiled_vtable() adds the rest.
struct RuntimeEntries {
  decltype(chorus_backend_vtable::plugin_create) plugin_create;
  decltype(chorus_backend_vtable::device_open) device_open;
  decltype(chorus_backend_vtable::event_create) event_create;
  decltype(chorus_backend_vtable::event_destroy) event_destroy;
  decltype(chorus_backend_vtable::event_record) event_record;
  decltype(chorus_backend_vtable::event_wait) event_wait;
  decltype(chorus_backend_vtable::event_elapsed_ms) event_elapsed_ms;
};

// A compiled backend's whole vtable: the runtime's entries, the device-list
// helpers of plugin_helpers.hpp over Plugin's records, and the skeleton.
template <typename Plugin, ReportFn Report>
chorus_backend_vtable compiled_vtable(const char* name, const RuntimeEntries& e) {
  chorus_backend_vtable v{};
  v.abi_version = CHORUS_BACKEND_ABI_VERSION;
  v.struct_size = sizeof(chorus_backend_vtable);
  v.name = name;
  v.plugin_create = e.plugin_create;
  v.plugin_destroy = destroy_plugin<Plugin>;
  v.device_count = plugin_device_count<Plugin>;
  v.device_info = plugin_device_info<Plugin, Report>;
  v.device_open = e.device_open;
  v.event_create = e.event_create;
  v.event_destroy = e.event_destroy;
  v.event_record = e.event_record;
  v.event_wait = e.event_wait;
  v.event_elapsed_ms = e.event_elapsed_ms;
  fill_compiled_vtable(&v);
  return v;
}

// The answer of a plugin's chorus_backend_entry(): its table for any minor
// version of our major and for 0 ("describe yourself"); NULL otherwise.
inline const chorus_backend_vtable* entry_for(uint32_t abi_version,
                                              const chorus_backend_vtable* table) {
  if (abi_version != 0 && CHORUS_BACKEND_ABI_MAJOR_OF(abi_version) != CHORUS_BACKEND_ABI_MAJOR)
    return nullptr;
  return table;
}

// The native queue of a queue handle, for the runtime's event entries.
inline CompiledQueue& compiled_queue(void* queue) {
  return *static_cast<CompiledQueue*>(queue);
}

}  // namespace chorus::backend_common
