// gpu_backend.cpp — the CUDA and HIP plugins (and the GPU emulator of the
// tests), written once: the skeleton every run-time-compiled backend
// shares (backends/common/compiled_backend.hpp: program cache, scratch,
// the plan runner, the op entry points) over a GPU runtime. What is the
// GPU's lives here: devices and their description, contexts, streams,
// device memory, events, programs compiled by NVRTC or hiprtc (rtc.cpp)
// into binaries the runtime loads as modules, and launches cut into grid
// slices. The API differences live in gpu_runtime.hpp's implementations.
//
// Failures come back as statuses with a sentence: a compile failure
// carries the compiler's log, allocation failures are
// CHORUS_ERROR_OUT_OF_MEMORY, anything else the driver reports is
// CHORUS_ERROR_DEVICE. Nothing aborts.
#include "gpu_backend.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "compiled_backend.hpp"
#include "kernel_cache.hpp"
#include "plugin_helpers.hpp"
#include "program_cache.hpp"

namespace chorus::gpu {
namespace {

using backend_common::ArgValue;
using backend_common::CacheKey;
using backend_common::CompiledDevice;
using backend_common::Launch;
using backend_common::ProgramSpec;
using backend_common::ProgramText;

const BackendConfig* g_config = nullptr;
const chorus_host_api* g_host = nullptr;

std::string prefix() {
  return std::string(g_config ? g_config->name : "gpu") + ": ";
}

chorus_status report(chorus_status status, const std::string& message) {
  if (g_host && g_host->set_error) return g_host->set_error(status, (prefix() + message).c_str());
  return status;
}

void log(int level, const std::string& message) {
  if (g_host && g_host->log) g_host->log(level, (prefix() + message).c_str());
}

using backend_common::copy_text;

struct DeviceRecord {
  GpuDeviceDesc desc;
  chorus_device_info info{};
  backend_common::DeviceIdentity identity;
};

struct Plugin {
  std::unique_ptr<Runtime> runtime;
  std::unique_ptr<Rtc> rtc;  // null when the compiler is missing: devices unusable
  std::string rtc_why;       // and why it is missing
  std::vector<DeviceRecord> devices;
};

chorus_status runtime_failure(const Runtime& rt, const std::string& what, int code) {
  return report(rt.out_of_memory(code) ? CHORUS_ERROR_OUT_OF_MEMORY : CHORUS_ERROR_DEVICE,
                what + " failed: " + rt.error_text(code));
}

// ------------------------------------------------------------ discovery

void describe(const Plugin& p, DeviceRecord& r) {
  const GpuDeviceDesc& d = r.desc;
  chorus_device_info& info = r.info;
  char description[CHORUS_NAME_SIZE];
  std::snprintf(description, sizeof description, "%s (%s, %u %s, %llu MB L2, %s %u)",
                d.name.c_str(), d.arch.c_str(), d.compute_units, d.compute_unit_name,
                static_cast<unsigned long long>(d.l2_bytes >> 20), d.lane_group_name, d.warp_size);
  copy_text(info.description, description);
  copy_text(info.vendor, d.vendor);
  copy_text(info.driver_version, p.runtime->driver_version());
  copy_text(info.compiler_version, p.rtc
                                       ? p.rtc->version() + ", target " + p.rtc->target_for(d.arch)
                                       : std::string("none"));
  info.kind = d.integrated ? CHORUS_DEVICE_KIND_INTEGRATED_GPU : CHORUS_DEVICE_KIND_DISCRETE_GPU;
  info.score = g_config->score - (d.integrated ? 100 : 0);
  info.memory_bytes = d.memory_bytes;
  info.max_allocation_bytes = d.memory_bytes;
  // Kernels declare their local arrays statically: 48 KiB is the most a
  // block may declare that way on every CUDA GPU.
  info.local_memory_bytes = std::min<uint64_t>(d.shared_per_block, 48 * 1024);
  info.max_work_group_size = d.max_threads_per_block;
  info.compute_units = d.compute_units;
  info.has_fp64 = 1;
  info.has_f16_arithmetic = 0;  // f16 and bf16 are storage types computed in float
  info.has_subgroups = 0;       // no warp intrinsics in the portable path
  for (int t = CHORUS_DTYPE_F32; t < CHORUS_DTYPE_COUNT_; ++t) info.dtype_mask |= 1u << t;
  info.numerics_supported = CHORUS_NUMERICS_DETERMINISTIC;
  info.numerics_default = CHORUS_NUMERICS_DETERMINISTIC;
  info.usable = p.rtc ? 1 : 0;
  if (!p.rtc) copy_text(info.reason, p.rtc_why);
  r.identity.vendor = d.vendor;
  r.identity.name = d.name;
  r.identity.kind = info.kind;
  r.identity.max_work_group_size = d.max_threads_per_block;
  r.identity.local_memory_bytes = info.local_memory_bytes;
}

chorus_status plugin_create(const chorus_host_api* host, void** out) {
  g_host = host;
  std::string why;
  auto plugin = std::make_unique<Plugin>();
  plugin->runtime = g_config->load_runtime(&why);
  if (!plugin->runtime) return report(CHORUS_ERROR_UNAVAILABLE, why);
  Runtime& rt = *plugin->runtime;
  int count = 0;
  if (const int e = rt.device_count(&count); e != 0 || count <= 0)
    return report(CHORUS_ERROR_UNAVAILABLE,
                  e ? "counting devices failed: " + rt.error_text(e) : "no device");
  // The compiler is loaded only where there is a device to compile for.
  plugin->rtc = Rtc::load(g_config->compiler, &plugin->rtc_why);
  for (int i = 0; i < count; ++i) {
    DeviceRecord r;
    const int e = rt.describe(i, &r.desc);
    if (e) r.desc.name = "device " + std::to_string(i);
    describe(*plugin, r);
    if (e) {
      r.info.usable = 0;
      copy_text(r.info.reason, "reading its properties failed: " + rt.error_text(e));
    }
    plugin->devices.push_back(std::move(r));
  }
  *out = plugin.release();
  return CHORUS_OK;
}

// --------------------------------------------------------------- device

class Device final : public CompiledDevice {
 public:
  // (Qualified: inside the class, report and log name the base's members.)
  Device(Plugin* plugin, const DeviceRecord* record)
      : CompiledDevice(gpu::report, gpu::log), p_(plugin), rt_(plugin->runtime.get()), r_(record) {}
  ~Device() override {
    if (context_) rt_->close(context_);
  }

  chorus_status open(uint32_t index) {
    if (const int e = rt_->open(static_cast<int>(index), &context_)) {
      context_ = nullptr;
      return runtime_failure(*rt_, "opening " + r_->desc.name, e);
    }
    traits = gpu_traits(backend_common::tuning_for(r_->identity));
    target_ = p_->rtc->target_for(r_->desc.arch);
    if (target_ != r_->desc.arch)
      log(1, r_->desc.name + ": " + p_->rtc->version() + " has no " + r_->desc.arch +
                 "; compiling for " + target_ + " instead, which the driver finishes");
    cache = backend_common::open_kernel_cache(g_host, gpu::log);
    identity_ = "device=" + r_->desc.name + "\narch=" + r_->desc.arch + "\ntarget=" + target_ +
                "\ndriver=" + rt_->driver_version() + "\ncompiler=" + p_->rtc->version() +
                "\nchorus=" + backend_common::chorus_version_text() +
                "\ntuning=" + traits.tuning.name;
    return CHORUS_OK;
  }

  // Binds the device's context to the calling thread.
  chorus_status enter() override {
    const int e = rt_->make_current(context_);
    return e ? runtime_failure(*rt_, "binding the device to this thread", e) : CHORUS_OK;
  }
  std::string label() const override { return r_->desc.name; }
  uint64_t max_allocation() const override { return r_->info.max_allocation_bytes; }

  // ------------------------------------------------------------ programs

  std::string program_source(const ProgramSpec& spec, std::string* missing) const override {
    return p_->rtc->program_source(spec, missing);
  }
  std::string program_options(const ProgramSpec& spec) const override {
    std::string joined;
    for (const auto& o : p_->rtc->options(spec, target_, false)) joined += o + " ";
    return joined;
  }
  std::string cache_key(const std::string& options, const std::string& source) const override {
    return CacheKey()
        .add("api", g_config->name)
        .add("identity", identity_)
        .add("options", options)
        .add("source", source)
        .hex();
  }

  chorus_status compile(const ProgramSpec& spec, const ProgramText& text, void** program,
                        std::vector<uint8_t>* binary) override {
    const Rtc& rtc = *p_->rtc;
    CompileResult result;
    if (!rtc.compile(text.source, spec.label + ".cu", rtc.options(spec, target_, false), &result)) {
      std::string log_text = result.log;
      if (log_text.size() > 6000) log_text = log_text.substr(0, 6000) + "\n[... log truncated]";
      return report(CHORUS_ERROR_DEVICE, "compiling the " + spec.label + " kernels for " +
                                             target_ + " failed (options: " + text.options +
                                             "). Log:\n" + log_text);
    }
    void* module = nullptr;
    if (const int e = rt_->module_load(result.binary, &module))
      return runtime_failure(*rt_, "loading the " + spec.label + " module", e);
    *program = module;
    *binary = std::move(result.binary);
    return CHORUS_OK;
  }
  bool load_binary(const std::vector<uint8_t>& binary, const ProgramText&, void** program) override {
    void* module = nullptr;
    if (rt_->module_load(binary, &module) != 0) return false;
    *program = module;
    return true;
  }
  void release_program(void* program) override { rt_->module_unload(program); }
  chorus_status find_kernel(void* program, const Launch& launch, void** kernel) override {
    if (const int e = rt_->function(program, launch.kernel.c_str(), kernel))
      return runtime_failure(*rt_, "finding kernel " + launch.kernel + " of " + launch.program.label,
                             e);
    return CHORUS_OK;
  }

  // Launches as one or more grids: CUDA allows 65535 blocks in y and z, so
  // taller grids go in slices, each told its first block (GRID_PARAMS in
  // prelude_gpu.h).
  chorus_status launch(void* stream, void* function, const Launch& launch,
                       std::vector<ArgValue>& values) override {
    const GpuDeviceDesc& desc = r_->desc;
    uint64_t groups[3];
    uint32_t block[3];
    for (int k = 0; k < 3; ++k) {
      const uint64_t global = k < static_cast<int>(launch.dims) ? launch.global[k] : 1;
      const uint64_t local = k < static_cast<int>(launch.dims) ? launch.local[k] : 1;
      groups[k] = (global + local - 1) / local;
      block[k] = static_cast<uint32_t>(local);
    }
    if (uint64_t{block[0]} * block[1] * block[2] > desc.max_threads_per_block)
      return report(CHORUS_ERROR_INTERNAL, launch.kernel + ": a block of " +
                                               std::to_string(block[0] * block[1] * block[2]) +
                                               " threads is more than the device allows");
    if (groups[0] == 0 || groups[1] == 0 || groups[2] == 0) return CHORUS_OK;  // nothing to run
    uint64_t max_grid[3];
    for (int k = 0; k < 3; ++k) max_grid[k] = desc.max_grid[k] ? desc.max_grid[k] : 65535;
    const std::vector<GridSlice> slices = slice_grid(groups, max_grid);
    if (slices.empty())
      return report(CHORUS_ERROR_UNSUPPORTED, launch.kernel + ": " + std::to_string(groups[0]) +
                                                  " blocks along x, more than the device's " +
                                                  std::to_string(max_grid[0]));
    // kernelParams: a pointer to each value; buffers are their addresses.
    thread_local std::vector<void*> args;
    args.clear();
    for (ArgValue& v : values) args.push_back(v.memory ? static_cast<void*>(&v.handle)
                                                       : const_cast<void*>(v.data));
    int64_t first_y = 0, first_z = 0;
    args.push_back(&first_y);
    args.push_back(&first_z);
    for (const GridSlice& slice : slices) {
      first_y = slice.first_y;
      first_z = slice.first_z;
      // The runtime copies the parameter values at launch.
      if (const int e = rt_->launch(function, slice.grid, block, stream, args.data()))
        return runtime_failure(*rt_, "launching " + launch.kernel + " (" + launch.program.label + ")",
                               e);
    }
    return CHORUS_OK;
  }

  // -------------------------------------------------------------- memory

  chorus_status alloc(uint64_t bytes, uint64_t* handle) override {
    *handle = 0;
    if (bytes > r_->info.max_allocation_bytes)
      return report(CHORUS_ERROR_OUT_OF_MEMORY,
                    "a buffer of " + std::to_string(bytes) + " bytes is larger than the device's " +
                        std::to_string(r_->info.max_allocation_bytes) + " bytes of memory");
    if (bytes == 0) return CHORUS_OK;  // an empty buffer has no address
    if (const int e = rt_->alloc(bytes, handle)) {
      *handle = 0;
      return runtime_failure(*rt_, "allocating " + std::to_string(bytes) + " bytes", e);
    }
    return CHORUS_OK;
  }
  void free(uint64_t handle) override {
    if (handle) rt_->free(handle);
  }
  // Earlier launches on the stream may still use the memory.
  chorus_status free_after(void* stream, uint64_t handle) override {
    if (const int e = rt_->stream_sync(stream)) return runtime_failure(*rt_, "sync", e);
    free(handle);
    return CHORUS_OK;
  }

  // ------------------------------------------------------------- streams

  chorus_status queue_create(void** stream) override {
    if (const int e = rt_->stream_create(stream)) return runtime_failure(*rt_, "creating a stream", e);
    return CHORUS_OK;
  }
  void queue_destroy(void* stream) override {
    rt_->stream_sync(stream);
    rt_->stream_destroy(stream);
  }
  chorus_status queue_sync(void* stream) override {
    const int e = rt_->stream_sync(stream);
    return e ? runtime_failure(*rt_, "synchronising the stream", e) : CHORUS_OK;
  }
  chorus_status write(void* stream, uint64_t handle, uint64_t offset, const void* src,
                      uint64_t bytes) override {
    const int e = rt_->write(stream, handle + offset, src, bytes);
    return e ? runtime_failure(*rt_, "copying to the device", e) : CHORUS_OK;
  }
  chorus_status read(void* stream, uint64_t handle, uint64_t offset, void* dst,
                     uint64_t bytes) override {
    const int e = rt_->read(stream, dst, handle + offset, bytes);
    return e ? runtime_failure(*rt_, "copying from the device", e) : CHORUS_OK;
  }

  Runtime* runtime() const { return rt_; }

 private:
  Plugin* p_;
  Runtime* rt_;
  const DeviceRecord* r_;
  void* context_ = nullptr;
  std::string target_;    // what the compiler builds for: sm_90, compute_90 (PTX), gfx90a
  std::string identity_;  // the device part of every cache key
};

chorus_status device_open(void* plugin, uint32_t index, void** out) {
  auto* p = static_cast<Plugin*>(plugin);
  if (const chorus_status s = backend_common::check_device_index<report>(p->devices.size(), index);
      s != CHORUS_OK)
    return s;
  const DeviceRecord& r = p->devices[index];
  if (!r.info.usable) return report(CHORUS_ERROR_UNAVAILABLE, r.info.reason);
  auto device = std::unique_ptr<Device>(new (std::nothrow) Device(p, &r));
  if (!device) return report(CHORUS_ERROR_OUT_OF_MEMORY, "out of host memory");
  if (const chorus_status s = device->open(index); s != CHORUS_OK) return s;
  *out = static_cast<CompiledDevice*>(device.release());
  return CHORUS_OK;
}

Device& device_of(void* device) {
  return *static_cast<Device*>(static_cast<CompiledDevice*>(device));
}

// --------------------------------------------------------------- events

struct Event {
  Device* device = nullptr;
  void* event = nullptr;
  bool recorded = false;
};

chorus_status event_create(void* device, void** out) {
  Device& d = device_of(device);
  if (const chorus_status s = d.enter(); s != CHORUS_OK) return s;
  auto* e = new (std::nothrow) Event;
  if (!e) return report(CHORUS_ERROR_OUT_OF_MEMORY, "out of host memory");
  e->device = &d;
  if (const int code = d.runtime()->event_create(&e->event)) {
    delete e;
    return runtime_failure(*d.runtime(), "creating an event", code);
  }
  *out = e;
  return CHORUS_OK;
}

void event_destroy(void* event) {
  auto* e = static_cast<Event*>(event);
  if (!e) return;
  if (e->device->enter() == CHORUS_OK) e->device->runtime()->event_destroy(e->event);
  delete e;
}

chorus_status event_record(void* event, void* queue) {
  auto* e = static_cast<Event*>(event);
  backend_common::CompiledQueue& q = backend_common::compiled_queue(queue);
  Device& d = device_of(q.device);
  if (const chorus_status s = d.enter(); s != CHORUS_OK) return s;
  if (const int code = d.runtime()->event_record(e->event, q.native))
    return runtime_failure(*d.runtime(), "recording an event", code);
  e->recorded = true;
  return CHORUS_OK;
}

chorus_status event_wait(void* event) {
  auto* e = static_cast<Event*>(event);
  if (!e->recorded) return report(CHORUS_ERROR_INVALID_ARGUMENT, "the event was never recorded");
  if (const chorus_status s = e->device->enter(); s != CHORUS_OK) return s;
  const int code = e->device->runtime()->event_sync(e->event);
  return code ? runtime_failure(*e->device->runtime(), "waiting for an event", code) : CHORUS_OK;
}

chorus_status event_elapsed_ms(void* start, void* end, double* milliseconds) {
  auto* s = static_cast<Event*>(start);
  auto* e = static_cast<Event*>(end);
  if (!s->recorded || !e->recorded)
    return report(CHORUS_ERROR_INVALID_ARGUMENT, "both events must be recorded before timing them");
  if (const chorus_status st = event_wait(start); st != CHORUS_OK) return st;
  if (const chorus_status st = event_wait(end); st != CHORUS_OK) return st;
  float ms = 0;
  if (const int code = s->device->runtime()->event_elapsed_ms(s->event, e->event, &ms))
    return runtime_failure(*s->device->runtime(), "timing two events", code);
  *milliseconds = ms;
  return CHORUS_OK;
}

chorus_backend_vtable make_vtable(const char* name) {
  return backend_common::compiled_vtable<Plugin, report>(
      name, {plugin_create, device_open, event_create, event_destroy, event_record, event_wait,
             event_elapsed_ms});
}

}  // namespace

const chorus_backend_vtable* backend_vtable(uint32_t abi_version, const BackendConfig& config) {
  g_config = &config;  // one per plugin file (cuda_plugin.cpp, hip_plugin.cpp)
  static const chorus_backend_vtable table = make_vtable(config.name);
  return backend_common::entry_for(abi_version, &table);
}

}  // namespace chorus::gpu
