// gpu_backend.cpp — the CUDA and HIP plugins, written once: devices,
// buffers, streams, events, programs compiled by NVRTC or hiprtc from the
// embedded portable kernels (memory cache per device, then the shared disk
// cache of backends/common, then the compiler), and the launches that
// backends/common/op_plan.cpp plans for each op. The API differences live
// in gpu_runtime.hpp's two implementations and in rtc.cpp.
//
// Failures come back as statuses with a sentence: a compile failure
// carries the compiler's log, allocation failures are
// CHORUS_ERROR_OUT_OF_MEMORY, anything else the driver reports is
// CHORUS_ERROR_DEVICE. Nothing aborts.
#include "gpu_backend.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "kernel_cache.hpp"
#include "op_plan.hpp"
#include "plugin_helpers.hpp"
#include "program_cache.hpp"

namespace chorus::gpu {
namespace {

using backend_common::CacheKey;
using backend_common::DeviceTraits;
using backend_common::KernelArg;
using backend_common::KernelCache;
using backend_common::Launch;
using backend_common::Plan;
using backend_common::ProgramSpec;

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

struct Program {
  void* module = nullptr;
  std::map<std::string, void*> functions;
};

struct Device {
  Plugin* plugin = nullptr;
  Runtime* rt = nullptr;
  const DeviceRecord* record = nullptr;
  void* context = nullptr;
  DeviceTraits traits;
  std::string target;  // what the compiler builds for: sm_90, compute_90 (PTX), gfx90a
  KernelCache cache{""};
  std::string identity;  // the device part of every cache key
  std::mutex mutex;      // guards programs and stats
  std::unordered_map<std::string, Program> programs;
  chorus_kernel_stats stats{};
};

struct Buffer {
  uint64_t pointer = 0;  // 0 for an empty buffer
  uint64_t bytes = 0;
};

struct Queue {
  Device* device = nullptr;
  void* stream = nullptr;
  // Per-queue scratch (GEMM packing, partial reductions).
  uint64_t scratch[2] = {0, 0};
  uint64_t scratch_bytes[2] = {0, 0};
};

struct Event {
  Device* device = nullptr;
  void* event = nullptr;
  bool recorded = false;
};

// Binds the device's context to the calling thread; every entry point that
// reaches the runtime starts here.
chorus_status bind(Device& d) {
  const int e = d.rt->make_current(d.context);
  return e ? runtime_failure(*d.rt, "binding the device to this thread", e) : CHORUS_OK;
}

chorus_status device_open(void* plugin, uint32_t index, void** out) {
  auto* p = static_cast<Plugin*>(plugin);
  if (const chorus_status s = backend_common::check_device_index<report>(p->devices.size(), index);
      s != CHORUS_OK)
    return s;
  const DeviceRecord& r = p->devices[index];
  if (!r.info.usable) return report(CHORUS_ERROR_UNAVAILABLE, r.info.reason);
  auto device = std::make_unique<Device>();
  device->plugin = p;
  device->rt = p->runtime.get();
  device->record = &r;
  if (const int e = p->runtime->open(static_cast<int>(index), &device->context))
    return runtime_failure(*p->runtime, "opening " + r.desc.name, e);
  device->traits = gpu_traits(backend_common::tuning_for(r.identity));
  device->target = p->rtc->target_for(r.desc.arch);
  if (device->target != r.desc.arch)
    log(1, r.desc.name + ": " + p->rtc->version() + " has no " + r.desc.arch +
               "; compiling for " + device->target + " instead, which the driver finishes");
  device->cache = backend_common::open_kernel_cache(g_host, log);
  device->identity = "device=" + r.desc.name + "\narch=" + r.desc.arch +
                     "\ntarget=" + device->target + "\ndriver=" + p->runtime->driver_version() +
                     "\ncompiler=" + p->rtc->version() +
                     "\nchorus=" + backend_common::chorus_version_text() +
                     "\ntuning=" + device->traits.tuning.name;
  *out = device.release();
  return CHORUS_OK;
}

void device_close(void* handle) {
  auto* d = static_cast<Device*>(handle);
  if (!d) return;
  log(2, d->record->desc.name + ": " + backend_common::kernel_stats_text(d->stats));
  if (bind(*d) == CHORUS_OK)
    for (auto& [key, program] : d->programs) d->rt->module_unload(program.module);
  d->rt->close(d->context);
  delete d;
}

// ------------------------------------------------------------- programs

// The loaded module for spec (device mutex held, context bound).
chorus_status get_program(Device& d, const ProgramSpec& spec, Program** out) {
  const std::string key = spec.key();
  if (auto found = d.programs.find(key); found != d.programs.end()) {
    *out = &found->second;
    return CHORUS_OK;
  }
  const Rtc& rtc = *d.plugin->rtc;
  std::string missing;
  const std::string source = rtc.program_source(spec, &missing);
  if (!missing.empty())
    return report(CHORUS_ERROR_INTERNAL,
                  "kernel file " + missing + " is not embedded in the plugin");
  const std::vector<std::string> options = rtc.options(spec, d.target, false);
  std::string joined;
  for (const auto& o : options) joined += o + " ";
  const std::string cache_key = CacheKey()
                                    .add("api", g_config->name)
                                    .add("identity", d.identity)
                                    .add("options", joined)
                                    .add("source", source)
                                    .hex();
  void* module = nullptr;
  backend_common::load_cached_program(d.cache, cache_key, spec.label, d.stats, log,
                                      [&](const std::vector<uint8_t>& binary) {
                                        if (d.rt->module_load(binary, &module) == 0) return true;
                                        module = nullptr;
                                        return false;
                                      });
  if (!module) {
    const auto start = std::chrono::steady_clock::now();
    CompileResult result;
    const bool ok = rtc.compile(source, spec.label + ".cu", options, &result);
    d.stats.compile_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!ok) {
      std::string text = result.log;
      if (text.size() > 6000) text = text.substr(0, 6000) + "\n[... log truncated]";
      return report(CHORUS_ERROR_DEVICE, "compiling the " + spec.label + " kernels for " +
                                             d.target + " failed (options: " + joined +
                                             "). Log:\n" + text);
    }
    ++d.stats.compiled;
    if (const int e = d.rt->module_load(result.binary, &module))
      return runtime_failure(*d.rt, "loading the " + spec.label + " module", e);
    backend_common::store_compiled_program(d.cache, cache_key, spec.label, result.binary, log);
  }
  Program& entry = d.programs[key];
  entry.module = module;
  *out = &entry;
  return CHORUS_OK;
}

chorus_status get_function(Device& d, const Launch& launch, void** out) {
  Program* program = nullptr;
  if (const chorus_status s = get_program(d, launch.program, &program); s != CHORUS_OK) return s;
  if (auto found = program->functions.find(launch.kernel); found != program->functions.end()) {
    *out = found->second;
    return CHORUS_OK;
  }
  void* f = nullptr;
  if (const int e = d.rt->function(program->module, launch.kernel.c_str(), &f))
    return runtime_failure(*d.rt, "finding kernel " + launch.kernel + " of " + launch.program.label,
                           e);
  program->functions[launch.kernel] = f;
  *out = f;
  return CHORUS_OK;
}

// ----------------------------------------------------------------- runs

chorus_status ensure_scratch(Queue& q, const Plan& plan) {
  Device& d = *q.device;
  for (int i = 0; i < 2; ++i) {
    const uint64_t wanted = std::max<uint64_t>(plan.scratch_bytes[i], 64);
    if (q.scratch[i] && q.scratch_bytes[i] >= wanted) continue;
    if (q.scratch[i]) {
      // Earlier launches on this stream may still read the old scratch.
      if (const int e = d.rt->stream_sync(q.stream)) return runtime_failure(*d.rt, "sync", e);
      d.rt->free(q.scratch[i]);
    }
    q.scratch[i] = 0;
    q.scratch_bytes[i] = 0;
    if (const int e = d.rt->alloc(wanted, &q.scratch[i]))
      return runtime_failure(*d.rt, "allocating " + std::to_string(wanted) + " bytes of scratch",
                             e);
    q.scratch_bytes[i] = wanted;
  }
  return CHORUS_OK;
}

// Launches `launch` as one or more grids: CUDA allows 65535 blocks in y
// and z, so taller grids go in slices, each told its first block
// (GRID_PARAMS in prelude_gpu.h).
chorus_status launch_sliced(Device& d, Queue& q, void* function, const Launch& launch,
                            std::vector<void*>& args) {
  const GpuDeviceDesc& desc = d.record->desc;
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
  int64_t first_y = 0, first_z = 0;
  args.push_back(&first_y);
  args.push_back(&first_z);
  for (const GridSlice& slice : slices) {
    first_y = slice.first_y;
    first_z = slice.first_z;
    // The runtime copies the parameter values at launch.
    if (const int e = d.rt->launch(function, slice.grid, block, q.stream, args.data()))
      return runtime_failure(*d.rt,
                             "launching " + launch.kernel + " (" + launch.program.label + ")", e);
  }
  return CHORUS_OK;
}

// Runs a plan on q; pointers[i] is the device address of buffer slot i.
// Without a queue only the programs are prepared.
chorus_status run_plan(Device& d, Queue* q, const Plan& plan, const uint64_t* pointers) {
  if (const chorus_status s = bind(d); s != CHORUS_OK) return s;
  std::vector<void*> functions(plan.launches.size());
  {
    std::lock_guard<std::mutex> lock(d.mutex);
    for (size_t i = 0; i < plan.launches.size(); ++i)
      if (const chorus_status s = get_function(d, plan.launches[i], &functions[i]); s != CHORUS_OK)
        return s;
  }
  if (!q) return CHORUS_OK;
  if (const chorus_status s = ensure_scratch(*q, plan); s != CHORUS_OK) return s;
  static const uint64_t null_pointer = 0;
  for (size_t i = 0; i < plan.launches.size(); ++i) {
    const Launch& launch = plan.launches[i];
    std::vector<void*> args;
    args.reserve(launch.args.size() + 2);
    for (const KernelArg& a : launch.args) {
      switch (a.kind) {
        case KernelArg::Kind::buffer:
          args.push_back(const_cast<uint64_t*>(&pointers[a.index]));
          break;
        case KernelArg::Kind::scratch:
          args.push_back(&q->scratch[a.index]);
          break;
        case KernelArg::Kind::null_buffer:
          args.push_back(const_cast<uint64_t*>(&null_pointer));
          break;
        case KernelArg::Kind::bytes:
          args.push_back(const_cast<uint8_t*>(a.bytes.data()));
          break;
      }
    }
    if (const chorus_status s = launch_sliced(d, *q, functions[i], launch, args); s != CHORUS_OK)
      return s;
  }
  return CHORUS_OK;
}

chorus_status plan_for(Device& d, const chorus_op_desc* desc, Plan* plan) {
  std::string why;
  const chorus_status s = backend_common::plan_op(*desc, d.traits, plan, &why);
  return s == CHORUS_OK ? CHORUS_OK : report(s, why);
}

chorus_status op_supports(void* device, const chorus_op_desc* desc) {
  Plan plan;
  return plan_for(*static_cast<Device*>(device), desc, &plan);
}

chorus_status op_prepare(void* device, const chorus_op_desc* desc) {
  auto& d = *static_cast<Device*>(device);
  Plan plan;
  if (const chorus_status s = plan_for(d, desc, &plan); s != CHORUS_OK) return s;
  return run_plan(d, nullptr, plan, nullptr);
}

chorus_status op_execute(void* queue, const chorus_op_desc* desc) {
  auto& q = *static_cast<Queue*>(queue);
  Plan plan;
  if (const chorus_status s = plan_for(*q.device, desc, &plan); s != CHORUS_OK) return s;
  uint64_t pointers[CHORUS_OP_MAX_TENSORS] = {};
  for (uint32_t i = 0; i < desc->tensor_count && i < CHORUS_OP_MAX_TENSORS; ++i)
    if (desc->tensors[i].buffer)
      pointers[i] = static_cast<Buffer*>(desc->tensors[i].buffer)->pointer;
  return run_plan(*q.device, &q, plan, pointers);
}

// ---------------------------------------------------- buffers and queues

chorus_status buffer_create(void* device, uint64_t bytes, void** out) {
  auto& d = *static_cast<Device*>(device);
  if (bytes > d.record->info.max_allocation_bytes)
    return report(CHORUS_ERROR_OUT_OF_MEMORY,
                  "a buffer of " + std::to_string(bytes) + " bytes is larger than the device's " +
                      std::to_string(d.record->info.max_allocation_bytes) + " bytes of memory");
  auto* b = new (std::nothrow) Buffer{0, bytes};
  if (!b) return report(CHORUS_ERROR_OUT_OF_MEMORY, "out of host memory");
  if (bytes) {
    chorus_status s = bind(d);
    if (s == CHORUS_OK)
      if (const int e = d.rt->alloc(bytes, &b->pointer))
        s = runtime_failure(*d.rt, "allocating a buffer of " + std::to_string(bytes) + " bytes", e);
    if (s != CHORUS_OK) {
      delete b;
      return s;
    }
  }
  *out = b;
  return CHORUS_OK;
}

void buffer_destroy(void* device, void* buffer) {
  auto* b = static_cast<Buffer*>(buffer);
  if (!b) return;
  auto& d = *static_cast<Device*>(device);
  if (b->pointer && bind(d) == CHORUS_OK) d.rt->free(b->pointer);
  delete b;
}

chorus_status queue_create(void* device, uint32_t, void** out) {
  auto& d = *static_cast<Device*>(device);
  if (const chorus_status s = bind(d); s != CHORUS_OK) return s;
  auto* q = new (std::nothrow) Queue;
  if (!q) return report(CHORUS_ERROR_OUT_OF_MEMORY, "out of host memory");
  q->device = &d;
  if (const int e = d.rt->stream_create(&q->stream)) {
    delete q;
    return runtime_failure(*d.rt, "creating a stream", e);
  }
  *out = q;
  return CHORUS_OK;
}

void queue_destroy(void* queue) {
  auto* q = static_cast<Queue*>(queue);
  if (!q) return;
  Device& d = *q->device;
  if (bind(d) == CHORUS_OK) {
    d.rt->stream_sync(q->stream);
    for (uint64_t p : q->scratch)
      if (p) d.rt->free(p);
    d.rt->stream_destroy(q->stream);
  }
  delete q;
}

chorus_status queue_sync(void* queue) {
  auto* q = static_cast<Queue*>(queue);
  if (const chorus_status s = bind(*q->device); s != CHORUS_OK) return s;
  const int e = q->device->rt->stream_sync(q->stream);
  return e ? runtime_failure(*q->device->rt, "synchronising the stream", e) : CHORUS_OK;
}

uint32_t queue_numerics(void*) {
  return CHORUS_NUMERICS_DETERMINISTIC;
}

chorus_status buffer_write(void* queue, void* dst, uint64_t offset, const void* src,
                           uint64_t bytes) {
  if (bytes == 0) return CHORUS_OK;
  auto* q = static_cast<Queue*>(queue);
  if (const chorus_status s = bind(*q->device); s != CHORUS_OK) return s;
  const int e =
      q->device->rt->write(q->stream, static_cast<Buffer*>(dst)->pointer + offset, src, bytes);
  return e ? runtime_failure(*q->device->rt, "copying to the device", e) : CHORUS_OK;
}

chorus_status buffer_read(void* queue, void* src, uint64_t offset, void* dst, uint64_t bytes) {
  if (bytes == 0) return CHORUS_OK;
  auto* q = static_cast<Queue*>(queue);
  if (const chorus_status s = bind(*q->device); s != CHORUS_OK) return s;
  const int e =
      q->device->rt->read(q->stream, dst, static_cast<Buffer*>(src)->pointer + offset, bytes);
  return e ? runtime_failure(*q->device->rt, "copying from the device", e) : CHORUS_OK;
}

// Device copies and fills run as the portable kernels, as on OpenCL: one
// code path for every backend (byte offsets of any alignment included).
chorus_status buffer_copy(void* queue, void* src, uint64_t src_offset, void* dst,
                          uint64_t dst_offset, uint64_t bytes) {
  if (bytes == 0) return CHORUS_OK;
  auto* q = static_cast<Queue*>(queue);
  const Plan plan =
      backend_common::plan_buffer_copy(q->device->traits, src_offset, dst_offset, bytes);
  const uint64_t pointers[2] = {static_cast<Buffer*>(src)->pointer,
                                static_cast<Buffer*>(dst)->pointer};
  return run_plan(*q->device, q, plan, pointers);
}

chorus_status buffer_fill(void* queue, void* dst, uint64_t offset, uint64_t bytes,
                          const void* pattern, uint32_t pattern_size) {
  if (bytes == 0) return CHORUS_OK;
  auto* q = static_cast<Queue*>(queue);
  const Plan plan =
      backend_common::plan_buffer_fill(q->device->traits, offset, bytes, pattern, pattern_size);
  const uint64_t pointers[1] = {static_cast<Buffer*>(dst)->pointer};
  return run_plan(*q->device, q, plan, pointers);
}

// --------------------------------------------------------------- events

chorus_status event_create(void* device, void** out) {
  auto& d = *static_cast<Device*>(device);
  if (const chorus_status s = bind(d); s != CHORUS_OK) return s;
  auto* e = new (std::nothrow) Event;
  if (!e) return report(CHORUS_ERROR_OUT_OF_MEMORY, "out of host memory");
  e->device = &d;
  if (const int code = d.rt->event_create(&e->event)) {
    delete e;
    return runtime_failure(*d.rt, "creating an event", code);
  }
  *out = e;
  return CHORUS_OK;
}

void event_destroy(void* event) {
  auto* e = static_cast<Event*>(event);
  if (!e) return;
  if (bind(*e->device) == CHORUS_OK) e->device->rt->event_destroy(e->event);
  delete e;
}

chorus_status event_record(void* event, void* queue) {
  auto* e = static_cast<Event*>(event);
  auto* q = static_cast<Queue*>(queue);
  if (const chorus_status s = bind(*q->device); s != CHORUS_OK) return s;
  if (const int code = q->device->rt->event_record(e->event, q->stream))
    return runtime_failure(*q->device->rt, "recording an event", code);
  e->recorded = true;
  return CHORUS_OK;
}

chorus_status event_wait(void* event) {
  auto* e = static_cast<Event*>(event);
  if (!e->recorded) return report(CHORUS_ERROR_INVALID_ARGUMENT, "the event was never recorded");
  if (const chorus_status s = bind(*e->device); s != CHORUS_OK) return s;
  const int code = e->device->rt->event_sync(e->event);
  return code ? runtime_failure(*e->device->rt, "waiting for an event", code) : CHORUS_OK;
}

chorus_status event_elapsed_ms(void* start, void* end, double* milliseconds) {
  auto* s = static_cast<Event*>(start);
  auto* e = static_cast<Event*>(end);
  if (!s->recorded || !e->recorded)
    return report(CHORUS_ERROR_INVALID_ARGUMENT, "both events must be recorded before timing them");
  if (const chorus_status st = event_wait(start); st != CHORUS_OK) return st;
  if (const chorus_status st = event_wait(end); st != CHORUS_OK) return st;
  float ms = 0;
  if (const int code = s->device->rt->event_elapsed_ms(s->event, e->event, &ms))
    return runtime_failure(*s->device->rt, "timing two events", code);
  *milliseconds = ms;
  return CHORUS_OK;
}

chorus_backend_vtable make_vtable(const char* name) {
  chorus_backend_vtable v{};
  v.abi_version = CHORUS_BACKEND_ABI_VERSION;
  v.struct_size = sizeof(chorus_backend_vtable);
  v.name = name;
  v.plugin_create = plugin_create;
  v.plugin_destroy = backend_common::destroy_plugin<Plugin>;
  v.device_count = backend_common::plugin_device_count<Plugin>;
  v.device_info = backend_common::plugin_device_info<Plugin, report>;
  v.device_open = device_open;
  v.device_close = device_close;
  v.buffer_create = buffer_create;
  v.buffer_destroy = buffer_destroy;
  v.queue_create = queue_create;
  v.queue_destroy = queue_destroy;
  v.queue_sync = queue_sync;
  v.queue_numerics = queue_numerics;
  v.buffer_write = buffer_write;
  v.buffer_read = buffer_read;
  v.buffer_copy = buffer_copy;
  v.buffer_fill = buffer_fill;
  v.event_create = event_create;
  v.event_destroy = event_destroy;
  v.event_record = event_record;
  v.event_wait = event_wait;
  v.event_elapsed_ms = event_elapsed_ms;
  v.op_supports = op_supports;
  v.op_prepare = op_prepare;
  v.op_execute = op_execute;
  v.device_kernel_stats = backend_common::device_kernel_stats<Device>;
  return v;
}

}  // namespace

const chorus_backend_vtable* backend_vtable(uint32_t abi_version, const BackendConfig& config) {
  if (abi_version != CHORUS_BACKEND_ABI_VERSION) return nullptr;
  g_config = &config;
  static const chorus_backend_vtable table = make_vtable(config.name);
  return &table;
}

}  // namespace chorus::gpu
