// opencl_backend.cpp — the OpenCL plugin (libchorus-opencl.so): a thin host
// driver over the portable kernels. It finds every device of every platform,
// owns contexts, queues, buffers and profiling events, builds programs from
// the embedded kernel text (memory cache per device, then the disk cache of
// backends/common, then the compiler), and runs the launches that
// backends/common/op_plan.cpp plans for each op. No op logic lives here.
//
// Failures come back as statuses with a sentence through host->set_error:
// a build failure carries the compiler's log, resource exhaustion is
// CHORUS_ERROR_OUT_OF_MEMORY, anything else the driver reports is
// CHORUS_ERROR_DEVICE. Nothing aborts.
#include <chorus/backend.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "embedded_kernels.hpp"
#include "kernel_cache.hpp"
#include "op_plan.hpp"
#include "opencl_api.hpp"
#include "opencl_device.hpp"
#include "plugin_helpers.hpp"
#include "program_cache.hpp"

namespace chorus::opencl {
namespace {

using backend_common::CacheKey;
using backend_common::DeviceTraits;
using backend_common::KernelArg;
using backend_common::KernelCache;
using backend_common::Launch;
using backend_common::Plan;
using backend_common::ProgramSpec;

const chorus_host_api* g_host = nullptr;

chorus_status report(chorus_status status, const std::string& message) {
  if (g_host && g_host->set_error) return g_host->set_error(status, ("opencl: " + message).c_str());
  return status;
}

void log(int level, const std::string& message) {
  if (g_host && g_host->log) g_host->log(level, ("opencl: " + message).c_str());
}

// The status an OpenCL error code stands for.
chorus_status status_of(cl_int code) {
  switch (code) {
    case CL_OUT_OF_RESOURCES:
    case CL_OUT_OF_HOST_MEMORY:
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
      return CHORUS_ERROR_OUT_OF_MEMORY;
    default:
      return CHORUS_ERROR_DEVICE;
  }
}

chorus_status cl_failure(const std::string& what, cl_int code) {
  return report(status_of(code), what + " failed: " + error_name(code));
}

// ------------------------------------------------------------ discovery

struct Plugin {
  const Api* api = nullptr;
  std::vector<DeviceRecord> devices;
};

chorus_status plugin_create(const chorus_host_api* host, void** out) {
  g_host = host;
  std::string why;
  const Api* api = load_api(&why);
  if (!api) return report(CHORUS_ERROR_UNAVAILABLE, why);
  auto plugin = std::make_unique<Plugin>();
  plugin->api = api;
  cl_uint platform_count = 0;
  const cl_int e = list_devices(api, &platform_count, &plugin->devices);
  constexpr cl_int kPlatformNotFound = -1001;  // CL_PLATFORM_NOT_FOUND_KHR, from the ICD loader
  if (e == kPlatformNotFound || (e == CL_SUCCESS && platform_count == 0))
    return report(CHORUS_ERROR_UNAVAILABLE,
                  "no OpenCL platform (is an ICD such as pocl-opencl-icd installed?)");
  if (e != CL_SUCCESS)
    return report(CHORUS_ERROR_UNAVAILABLE, "clGetPlatformIDs failed: " + error_name(e));
  for (const DeviceRecord& r : plugin->devices)
    log(3, std::string(r.info.description) + ": " + r.device_version +
               "; extensions: " + r.extensions);
  if (plugin->devices.empty())
    return report(CHORUS_ERROR_UNAVAILABLE,
                  "no OpenCL device on " + std::to_string(platform_count) + " platform(s)");
  *out = plugin.release();
  return CHORUS_OK;
}

// --------------------------------------------------------------- device

struct Program {
  cl_program program = nullptr;
  std::map<std::string, cl_kernel> kernels;
};

struct Device {
  const Api* api = nullptr;
  const DeviceRecord* record = nullptr;
  cl_context context = nullptr;
  DeviceTraits traits;
  std::string build_options;  // options every program gets
  KernelCache cache{""};
  std::string identity;  // the device part of every cache key
  // Guards programs, kernels (their arguments are set, then enqueued) and
  // stats: one op at a time per device reaches the kernel objects.
  std::mutex mutex;
  std::unordered_map<std::string, Program> programs;
  chorus_kernel_stats stats{};
};

struct Buffer {
  cl_mem mem = nullptr;
  uint64_t bytes = 0;
};

struct Queue {
  Device* device = nullptr;
  cl_command_queue queue = nullptr;
  // Per-queue scratch (GEMM packing, partial reductions): ops on one
  // in-order queue never overlap, ops on two queues never share it.
  cl_mem scratch[2] = {nullptr, nullptr};
  uint64_t scratch_bytes[2] = {0, 0};
};

struct Event {
  Device* device = nullptr;
  cl_event event = nullptr;
};

chorus_status device_open(void* plugin, uint32_t index, void** out) {
  auto* p = static_cast<Plugin*>(plugin);
  if (const chorus_status s = backend_common::check_device_index<report>(p->devices.size(), index);
      s != CHORUS_OK)
    return s;
  const DeviceRecord& r = p->devices[index];
  auto device = std::make_unique<Device>();
  device->api = p->api;
  device->record = &r;
  cl_int e = CL_SUCCESS;
  const cl_context_properties properties[] = {
      CL_CONTEXT_PLATFORM, reinterpret_cast<cl_context_properties>(r.platform), 0};
  device->context = p->api->clCreateContext(properties, 1, &r.id, nullptr, nullptr, &e);
  if (!device->context) return cl_failure("clCreateContext", e);
  device->traits.tuning = backend_common::tuning_for(r.identity);
  device->traits.has_fp64 = r.info.has_fp64 != 0;
  device->build_options = build_options(r);
  device->cache = backend_common::open_kernel_cache(g_host, log);
  device->identity = "platform=" + r.platform_name + " " + r.platform_version +
                     "\ndevice=" + r.info.description + " " + r.info.vendor +
                     "\ndriver=" + r.info.driver_version + "\ncompiler=" + r.opencl_c_version +
                     "\nchorus=" + backend_common::chorus_version_text() +
                     "\ntuning=" + device->traits.tuning.name;
  *out = device.release();
  return CHORUS_OK;
}

void device_close(void* handle) {
  auto* device = static_cast<Device*>(handle);
  if (!device) return;
  log(2, std::string(device->record->info.description) + ": " +
             backend_common::kernel_stats_text(device->stats));
  for (auto& [key, program] : device->programs) {
    for (auto& [name, kernel] : program.kernels) device->api->clReleaseKernel(kernel);
    device->api->clReleaseProgram(program.program);
  }
  device->api->clReleaseContext(device->context);
  delete device;
}

// ------------------------------------------------------------- programs

std::string build_log(Device& d, cl_program program) {
  size_t size = 0;
  d.api->clGetProgramBuildInfo(program, d.record->id, CL_PROGRAM_BUILD_LOG, 0, nullptr, &size);
  std::string text(size, '\0');
  if (size)
    d.api->clGetProgramBuildInfo(program, d.record->id, CL_PROGRAM_BUILD_LOG, size, text.data(),
                                 nullptr);
  text.resize(std::strlen(text.c_str()));
  const size_t limit = 6000;  // keep the message readable; the start names the first error
  if (text.size() > limit) text = text.substr(0, limit) + "\n[... build log truncated]";
  return text;
}

// Two ways to a program, chosen per device. With a linker (OpenCL 1.2
// devices normally have one) a program is compiled to an object, the object
// is what the cache keeps, and clLinkProgram finishes it: on PoCL asking for
// the binary of a *built* program makes it generate code for every kernel
// at once (0.1 to 2.5 s per program, most of a cold start), while an object
// is ready the moment it is compiled and links in milliseconds. Without a
// linker, programs are built and their executable binaries cached.
enum class BinaryKind : uint8_t { object = 1, executable = 2 };

// The program ready for clCreateKernel from a cached payload (its first
// byte says which kind of binary follows); false when the driver refuses
// it, so that the caller compiles from source instead.
bool program_from_cache(Device& d, const std::vector<uint8_t>& payload, const std::string& options,
                        cl_program* out) {
  if (payload.size() < 2) return false;
  const auto kind = static_cast<BinaryKind>(payload[0]);
  const unsigned char* bytes = payload.data() + 1;
  const size_t size = payload.size() - 1;
  cl_int status = CL_SUCCESS, e = CL_SUCCESS;
  cl_program p =
      d.api->clCreateProgramWithBinary(d.context, 1, &d.record->id, &size, &bytes, &status, &e);
  if (!p || e != CL_SUCCESS || status != CL_SUCCESS) {
    if (p) d.api->clReleaseProgram(p);
    return false;
  }
  if (kind == BinaryKind::object) {
    cl_program linked =
        d.api->clLinkProgram(d.context, 1, &d.record->id, "", 1, &p, nullptr, nullptr, &e);
    d.api->clReleaseProgram(p);
    if (!linked || e != CL_SUCCESS) {
      if (linked) d.api->clReleaseProgram(linked);
      return false;
    }
    *out = linked;
    return true;
  }
  if (kind != BinaryKind::executable ||
      d.api->clBuildProgram(p, 1, &d.record->id, options.c_str(), nullptr, nullptr) != CL_SUCCESS) {
    d.api->clReleaseProgram(p);
    return false;
  }
  *out = p;
  return true;
}

// The binary of p with its kind in front, or empty when the driver gives none.
std::vector<uint8_t> cache_payload(Device& d, cl_program p, BinaryKind kind) {
  size_t size = 0;
  if (d.api->clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, nullptr) !=
          CL_SUCCESS ||
      size == 0)
    return {};
  std::vector<uint8_t> payload(size + 1);
  payload[0] = static_cast<uint8_t>(kind);
  unsigned char* pointer = payload.data() + 1;
  if (d.api->clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof pointer, &pointer, nullptr) !=
      CL_SUCCESS)
    return {};
  return payload;
}

// Compiles spec from source: *program is ready for clCreateKernel, *payload
// what the cache should keep (empty when nothing can be kept).
chorus_status compile_program(Device& d, const ProgramSpec& spec, const std::string& source,
                              const std::string& options, cl_program* program,
                              std::vector<uint8_t>* payload) {
  const char* text = source.c_str();
  cl_int e = CL_SUCCESS;
  cl_program p = d.api->clCreateProgramWithSource(d.context, 1, &text, nullptr, &e);
  if (!p) return cl_failure("clCreateProgramWithSource (" + spec.label + ")", e);
  const bool link = d.record->linker;
  e = link ? d.api->clCompileProgram(p, 1, &d.record->id, options.c_str(), 0, nullptr, nullptr,
                                     nullptr, nullptr)
           : d.api->clBuildProgram(p, 1, &d.record->id, options.c_str(), nullptr, nullptr);
  if (e != CL_SUCCESS) {
    const std::string log_text = build_log(d, p);
    d.api->clReleaseProgram(p);
    return report(
        e == CL_BUILD_PROGRAM_FAILURE || e == CL_COMPILE_PROGRAM_FAILURE ? CHORUS_ERROR_DEVICE
                                                                         : status_of(e),
        "building the " + spec.label + " kernels for " + d.record->info.description + " failed (" +
            error_name(e) + ", options: " + options + "). Build log:\n" + log_text);
  }
  if (!link) {
    if (d.cache.enabled()) *payload = cache_payload(d, p, BinaryKind::executable);
    *program = p;
    return CHORUS_OK;
  }
  if (d.cache.enabled()) *payload = cache_payload(d, p, BinaryKind::object);
  cl_program linked =
      d.api->clLinkProgram(d.context, 1, &d.record->id, "", 1, &p, nullptr, nullptr, &e);
  if (!linked || e != CL_SUCCESS) {
    // PoCL can fail a link, with an empty log, while another process writes
    // the same entry of PoCL's own kernel cache (seen in CI under ASan,
    // where processes are slow): one more try, then the error.
    if (linked) d.api->clReleaseProgram(linked);
    log(1, "linking the " + spec.label + " kernels failed (" + error_name(e) + "); retrying once");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    linked = d.api->clLinkProgram(d.context, 1, &d.record->id, "", 1, &p, nullptr, nullptr, &e);
  }
  if (!linked || e != CL_SUCCESS) {
    const std::string log_text = linked ? build_log(d, linked) : std::string();
    if (linked) d.api->clReleaseProgram(linked);
    d.api->clReleaseProgram(p);
    return report(status_of(e), "linking the " + spec.label + " kernels for " +
                                    d.record->info.description + " failed (" + error_name(e) +
                                    "). Link log:\n" + log_text);
  }
  d.api->clReleaseProgram(p);
  *program = linked;
  return CHORUS_OK;
}

// The built program for spec (device mutex held).
chorus_status get_program(Device& d, const ProgramSpec& spec, Program** out) {
  const std::string key = spec.key();
  auto found = d.programs.find(key);
  if (found != d.programs.end()) {
    *out = &found->second;
    return CHORUS_OK;
  }
  std::string missing;
  const std::string source = program_source(spec, &missing);
  if (!missing.empty())
    return report(CHORUS_ERROR_INTERNAL,
                  "kernel file " + missing + " is not embedded in the plugin");
  const std::string options = d.build_options + " " + spec.options();
  const std::string cache_key = CacheKey()
                                    .add("api", "opencl")
                                    .add("identity", d.identity)
                                    .add("binary", d.record->linker ? "object" : "executable")
                                    .add("options", options)
                                    .add("source", source)
                                    .hex();
  cl_program program = nullptr;
  backend_common::load_cached_program(d.cache, cache_key, spec.label, d.stats, log,
                                      [&](const std::vector<uint8_t>& payload) {
                                        return program_from_cache(d, payload, options, &program);
                                      });
  if (!program) {
    // CHORUS_OPENCL_DUMP=<folder>: the exact text and options of every
    // program compiled, to reproduce a driver problem outside chorus.
    if (const char* dump = std::getenv("CHORUS_OPENCL_DUMP"); dump && *dump) {
      const std::string path = std::string(dump) + "/" + cache_key.substr(0, 16) + ".cl";
      if (FILE* f = std::fopen(path.c_str(), "w")) {
        std::fprintf(f, "// %s\n// options: %s\n%s", spec.label.c_str(), options.c_str(),
                     source.c_str());
        std::fclose(f);
      }
    }
    const auto start = std::chrono::steady_clock::now();
    std::vector<uint8_t> built;
    const chorus_status s = compile_program(d, spec, source, options, &program, &built);
    d.stats.compile_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (s != CHORUS_OK) return s;
    ++d.stats.compiled;
    backend_common::store_compiled_program(d.cache, cache_key, spec.label, built, log);
  }
  Program& entry = d.programs[key];
  entry.program = program;
  *out = &entry;
  return CHORUS_OK;
}

chorus_status get_kernel(Device& d, const Launch& launch, cl_kernel* out) {
  Program* program = nullptr;
  if (const chorus_status s = get_program(d, launch.program, &program); s != CHORUS_OK) return s;
  auto found = program->kernels.find(launch.kernel);
  if (found != program->kernels.end()) {
    *out = found->second;
    return CHORUS_OK;
  }
  cl_int e = CL_SUCCESS;
  cl_kernel k = d.api->clCreateKernel(program->program, launch.kernel.c_str(), &e);
  if (!k)
    return report(CHORUS_ERROR_INTERNAL, "kernel " + launch.kernel + " of " + launch.program.label +
                                             ": clCreateKernel failed: " + error_name(e));
  program->kernels[launch.kernel] = k;
  *out = k;
  return CHORUS_OK;
}

// ----------------------------------------------------------------- runs

chorus_status ensure_scratch(Queue& q, const Plan& plan) {
  for (int i = 0; i < 2; ++i) {
    const uint64_t wanted = std::max<uint64_t>(plan.scratch_bytes[i], 64);
    if (q.scratch[i] && q.scratch_bytes[i] >= wanted) continue;
    // The old buffer is released only when the commands using it are done.
    if (q.scratch[i]) q.device->api->clReleaseMemObject(q.scratch[i]);
    q.scratch[i] = nullptr;
    q.scratch_bytes[i] = 0;
    if (wanted > q.device->record->info.max_allocation_bytes)
      return report(CHORUS_ERROR_OUT_OF_MEMORY,
                    "the op needs " + std::to_string(wanted) + " bytes of scratch, more than the " +
                        std::to_string(q.device->record->info.max_allocation_bytes) +
                        " bytes the device allows in one allocation");
    cl_int e = CL_SUCCESS;
    q.scratch[i] =
        q.device->api->clCreateBuffer(q.device->context, CL_MEM_READ_WRITE, wanted, nullptr, &e);
    if (!q.scratch[i])
      return cl_failure("allocating " + std::to_string(wanted) + " bytes of scratch", e);
    q.scratch_bytes[i] = wanted;
  }
  return CHORUS_OK;
}

// Runs a plan on q; buffers[i] is the cl_mem of buffer slot i. When
// `enqueue` is false only the programs and kernels are prepared.
chorus_status run_plan(Device& d, Queue* q, const Plan& plan, const cl_mem* buffers, bool enqueue) {
  std::lock_guard<std::mutex> lock(d.mutex);
  if (enqueue)
    if (const chorus_status s = ensure_scratch(*q, plan); s != CHORUS_OK) return s;
  for (const Launch& launch : plan.launches) {
    cl_kernel kernel = nullptr;
    if (const chorus_status s = get_kernel(d, launch, &kernel); s != CHORUS_OK) return s;
    if (!enqueue) continue;
    for (size_t i = 0; i < launch.args.size(); ++i) {
      const KernelArg& a = launch.args[i];
      cl_int e = CL_SUCCESS;
      switch (a.kind) {
        case KernelArg::Kind::buffer:
          e = d.api->clSetKernelArg(kernel, static_cast<cl_uint>(i), sizeof(cl_mem),
                                    &buffers[a.index]);
          break;
        case KernelArg::Kind::scratch:
          e = d.api->clSetKernelArg(kernel, static_cast<cl_uint>(i), sizeof(cl_mem),
                                    &q->scratch[a.index]);
          break;
        case KernelArg::Kind::null_buffer:
          e = d.api->clSetKernelArg(kernel, static_cast<cl_uint>(i), sizeof(cl_mem), nullptr);
          break;
        case KernelArg::Kind::bytes:
          e = d.api->clSetKernelArg(kernel, static_cast<cl_uint>(i), a.bytes.size(),
                                    a.bytes.data());
          break;
      }
      if (e != CL_SUCCESS)
        return report(CHORUS_ERROR_INTERNAL, "argument " + std::to_string(i) + " of " +
                                                 launch.kernel +
                                                 ": clSetKernelArg failed: " + error_name(e));
    }
    size_t global[3], local[3];
    for (int k = 0; k < 3; ++k) {
      global[k] = static_cast<size_t>(launch.global[k]);
      local[k] = static_cast<size_t>(launch.local[k]);
    }
    // CHORUS_OPENCL_PROFILE=1: wait for each kernel and log its device time
    // (a diagnostic: it serialises the queue).
    static const bool profile = std::getenv("CHORUS_OPENCL_PROFILE") != nullptr;
    cl_event done = nullptr;
    const cl_int e = d.api->clEnqueueNDRangeKernel(q->queue, kernel, launch.dims, nullptr, global,
                                                   local, 0, nullptr, profile ? &done : nullptr);
    if (e != CL_SUCCESS)
      return cl_failure("running " + launch.kernel + " (" + launch.program.label + ")", e);
    if (done) {
      cl_ulong t0 = 0, t1 = 0;
      d.api->clWaitForEvents(1, &done);
      d.api->clGetEventProfilingInfo(done, CL_PROFILING_COMMAND_START, sizeof t0, &t0, nullptr);
      d.api->clGetEventProfilingInfo(done, CL_PROFILING_COMMAND_END, sizeof t1, &t1, nullptr);
      d.api->clReleaseEvent(done);
      char line[256];
      std::snprintf(line, sizeof line,
                    "profile: %s (%s) %.3f ms, global %zux%zux%zu, local %zux%zux%zu",
                    launch.kernel.c_str(), launch.program.label.c_str(), (t1 - t0) * 1e-6,
                    global[0], global[1], global[2], local[0], local[1], local[2]);
      log(2, line);
    }
  }
  return CHORUS_OK;
}

chorus_status plan_for(Device& d, const chorus_op_desc* desc, Plan* plan) {
  std::string why;
  const chorus_status s = backend_common::plan_op(*desc, d.traits, plan, &why);
  if (s != CHORUS_OK) return report(s, why);
  return CHORUS_OK;
}

chorus_status op_supports(void* device, const chorus_op_desc* desc) {
  Plan plan;
  return plan_for(*static_cast<Device*>(device), desc, &plan);
}

chorus_status op_prepare(void* device, const chorus_op_desc* desc) {
  auto& d = *static_cast<Device*>(device);
  Plan plan;
  if (const chorus_status s = plan_for(d, desc, &plan); s != CHORUS_OK) return s;
  return run_plan(d, nullptr, plan, nullptr, false);
}

chorus_status op_execute(void* queue, const chorus_op_desc* desc) {
  auto& q = *static_cast<Queue*>(queue);
  Plan plan;
  if (const chorus_status s = plan_for(*q.device, desc, &plan); s != CHORUS_OK) return s;
  cl_mem buffers[CHORUS_OP_MAX_TENSORS] = {};
  for (uint32_t i = 0; i < desc->tensor_count && i < CHORUS_OP_MAX_TENSORS; ++i)
    if (desc->tensors[i].buffer) buffers[i] = static_cast<Buffer*>(desc->tensors[i].buffer)->mem;
  return run_plan(*q.device, &q, plan, buffers, true);
}

// ---------------------------------------------------- buffers and queues

chorus_status buffer_create(void* device, uint64_t bytes, void** out) {
  auto& d = *static_cast<Device*>(device);
  if (bytes > d.record->info.max_allocation_bytes)
    return report(CHORUS_ERROR_OUT_OF_MEMORY,
                  "a buffer of " + std::to_string(bytes) +
                      " bytes is larger than the device's largest allocation (" +
                      std::to_string(d.record->info.max_allocation_bytes) + " bytes)");
  cl_int e = CL_SUCCESS;
  // OpenCL has no empty buffers; a 0-byte one still needs a handle.
  cl_mem mem = d.api->clCreateBuffer(d.context, CL_MEM_READ_WRITE, bytes ? bytes : 1, nullptr, &e);
  if (!mem) return cl_failure("allocating a buffer of " + std::to_string(bytes) + " bytes", e);
  auto* b = new (std::nothrow) Buffer{mem, bytes};
  if (!b) {
    d.api->clReleaseMemObject(mem);
    return report(CHORUS_ERROR_OUT_OF_MEMORY, "out of host memory");
  }
  *out = b;
  return CHORUS_OK;
}

void buffer_destroy(void* device, void* buffer) {
  auto* b = static_cast<Buffer*>(buffer);
  if (!b) return;
  static_cast<Device*>(device)->api->clReleaseMemObject(b->mem);
  delete b;
}

chorus_status queue_create(void* device, uint32_t, void** out) {
  auto& d = *static_cast<Device*>(device);
  cl_int e = CL_SUCCESS;
  cl_command_queue queue =
      d.api->clCreateCommandQueue(d.context, d.record->id, CL_QUEUE_PROFILING_ENABLE, &e);
  if (!queue) return cl_failure("clCreateCommandQueue", e);
  auto* q = new (std::nothrow) Queue;
  if (!q) {
    d.api->clReleaseCommandQueue(queue);
    return report(CHORUS_ERROR_OUT_OF_MEMORY, "out of host memory");
  }
  q->device = &d;
  q->queue = queue;
  *out = q;
  return CHORUS_OK;
}

void queue_destroy(void* queue) {
  auto* q = static_cast<Queue*>(queue);
  if (!q) return;
  const Api* api = q->device->api;
  api->clFinish(q->queue);
  for (cl_mem m : q->scratch)
    if (m) api->clReleaseMemObject(m);
  api->clReleaseCommandQueue(q->queue);
  delete q;
}

chorus_status queue_sync(void* queue) {
  auto* q = static_cast<Queue*>(queue);
  const cl_int e = q->device->api->clFinish(q->queue);
  return e == CL_SUCCESS ? CHORUS_OK : cl_failure("clFinish", e);
}

uint32_t queue_numerics(void*) {
  return CHORUS_NUMERICS_DETERMINISTIC;
}

chorus_status buffer_write(void* queue, void* dst, uint64_t offset, const void* src,
                           uint64_t bytes) {
  if (bytes == 0) return CHORUS_OK;
  auto* q = static_cast<Queue*>(queue);
  const cl_int e = q->device->api->clEnqueueWriteBuffer(
      q->queue, static_cast<Buffer*>(dst)->mem, CL_TRUE, offset, bytes, src, 0, nullptr, nullptr);
  return e == CL_SUCCESS ? CHORUS_OK : cl_failure("clEnqueueWriteBuffer", e);
}

chorus_status buffer_read(void* queue, void* src, uint64_t offset, void* dst, uint64_t bytes) {
  if (bytes == 0) return CHORUS_OK;
  auto* q = static_cast<Queue*>(queue);
  const cl_int e = q->device->api->clEnqueueReadBuffer(
      q->queue, static_cast<Buffer*>(src)->mem, CL_TRUE, offset, bytes, dst, 0, nullptr, nullptr);
  return e == CL_SUCCESS ? CHORUS_OK : cl_failure("clEnqueueReadBuffer", e);
}

// Copies and fills run as kernels rather than clEnqueueCopyBuffer /
// clEnqueueFillBuffer: on PoCL those are a single-threaded memcpy at about
// half the bandwidth the kernels reach (docs/perf/pocl.md).
chorus_status buffer_copy(void* queue, void* src, uint64_t src_offset, void* dst,
                          uint64_t dst_offset, uint64_t bytes) {
  if (bytes == 0) return CHORUS_OK;
  auto* q = static_cast<Queue*>(queue);
  const Plan plan =
      backend_common::plan_buffer_copy(q->device->traits, src_offset, dst_offset, bytes);
  const cl_mem buffers[2] = {static_cast<Buffer*>(src)->mem, static_cast<Buffer*>(dst)->mem};
  return run_plan(*q->device, q, plan, buffers, true);
}

chorus_status buffer_fill(void* queue, void* dst, uint64_t offset, uint64_t bytes,
                          const void* pattern, uint32_t pattern_size) {
  if (bytes == 0) return CHORUS_OK;
  auto* q = static_cast<Queue*>(queue);
  const Plan plan =
      backend_common::plan_buffer_fill(q->device->traits, offset, bytes, pattern, pattern_size);
  const cl_mem buffers[1] = {static_cast<Buffer*>(dst)->mem};
  return run_plan(*q->device, q, plan, buffers, true);
}

// --------------------------------------------------------------- events

chorus_status event_create(void* device, void** out) {
  auto* e = new (std::nothrow) Event;
  if (!e) return report(CHORUS_ERROR_OUT_OF_MEMORY, "out of host memory");
  e->device = static_cast<Device*>(device);
  *out = e;
  return CHORUS_OK;
}

void event_destroy(void* event) {
  auto* e = static_cast<Event*>(event);
  if (!e) return;
  if (e->event) e->device->api->clReleaseEvent(e->event);
  delete e;
}

chorus_status event_record(void* event, void* queue) {
  auto* e = static_cast<Event*>(event);
  auto* q = static_cast<Queue*>(queue);
  cl_event marker = nullptr;
  const cl_int code = q->device->api->clEnqueueMarkerWithWaitList(q->queue, 0, nullptr, &marker);
  if (code != CL_SUCCESS) return cl_failure("clEnqueueMarkerWithWaitList", code);
  if (e->event) e->device->api->clReleaseEvent(e->event);
  e->event = marker;
  // Markers are not submitted until something flushes the queue.
  q->device->api->clFlush(q->queue);
  return CHORUS_OK;
}

chorus_status event_wait(void* event) {
  auto* e = static_cast<Event*>(event);
  if (!e->event) return report(CHORUS_ERROR_INVALID_ARGUMENT, "the event was never recorded");
  const cl_int code = e->device->api->clWaitForEvents(1, &e->event);
  return code == CL_SUCCESS ? CHORUS_OK : cl_failure("clWaitForEvents", code);
}

chorus_status event_elapsed_ms(void* start, void* end, double* milliseconds) {
  auto* s = static_cast<Event*>(start);
  auto* e = static_cast<Event*>(end);
  if (!s->event || !e->event)
    return report(CHORUS_ERROR_INVALID_ARGUMENT, "both events must be recorded before timing them");
  const Api* api = s->device->api;
  cl_ulong t0 = 0, t1 = 0;
  cl_int code =
      api->clGetEventProfilingInfo(s->event, CL_PROFILING_COMMAND_END, sizeof t0, &t0, nullptr);
  if (code == CL_SUCCESS)
    code =
        api->clGetEventProfilingInfo(e->event, CL_PROFILING_COMMAND_END, sizeof t1, &t1, nullptr);
  if (code != CL_SUCCESS) return cl_failure("clGetEventProfilingInfo", code);
  *milliseconds = (static_cast<double>(t1) - static_cast<double>(t0)) * 1e-6;
  return CHORUS_OK;
}

const chorus_backend_vtable kVtable = {
    .abi_version = CHORUS_BACKEND_ABI_VERSION,
    .struct_size = sizeof(chorus_backend_vtable),
    .name = "opencl",
    .plugin_create = plugin_create,
    .plugin_destroy = backend_common::destroy_plugin<Plugin>,
    .device_count = backend_common::plugin_device_count<Plugin>,
    .device_info = backend_common::plugin_device_info<Plugin, report>,
    .device_open = device_open,
    .device_close = device_close,
    .buffer_create = buffer_create,
    .buffer_destroy = buffer_destroy,
    .queue_create = queue_create,
    .queue_destroy = queue_destroy,
    .queue_sync = queue_sync,
    .queue_numerics = queue_numerics,
    .buffer_write = buffer_write,
    .buffer_read = buffer_read,
    .buffer_copy = buffer_copy,
    .buffer_fill = buffer_fill,
    .event_create = event_create,
    .event_destroy = event_destroy,
    .event_record = event_record,
    .event_wait = event_wait,
    .event_elapsed_ms = event_elapsed_ms,
    .op_supports = op_supports,
    .op_prepare = op_prepare,
    .op_execute = op_execute,
    .device_kernel_stats = backend_common::device_kernel_stats<Device>,
};

}  // namespace
}  // namespace chorus::opencl

extern "C" CHORUS_API const chorus_backend_vtable* chorus_backend_entry(uint32_t abi_version) {
  return abi_version == CHORUS_BACKEND_ABI_VERSION ? &chorus::opencl::kVtable : nullptr;
}
