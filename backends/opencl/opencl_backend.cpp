// opencl_backend.cpp — the OpenCL plugin (libchorus-opencl.so): the OpenCL
// runtime under the skeleton every run-time-compiled backend shares
// (backends/common/compiled_backend.hpp: program cache, scratch, the plan
// runner, the op entry points). What is OpenCL's lives here: it finds every
// device of every platform, owns contexts, command queues, buffers and
// profiling events, compiles programs from the embedded kernel text (to an
// object that the disk cache keeps and clLinkProgram finishes where the
// device has a linker, else to an executable binary), and sets kernel
// arguments and enqueues. No op logic lives here.
//
// Failures come back as statuses with a sentence through host->set_error:
// a build failure carries the compiler's log, resource exhaustion is
// CHORUS_ERROR_OUT_OF_MEMORY, anything else the driver reports is
// CHORUS_ERROR_DEVICE. Nothing aborts.
//
// Diagnostics: CHORUS_OPENCL_DUMP=<folder> writes the exact text and
// options of every program compiled; CHORUS_OPENCL_PROFILE=1 waits for each
// kernel and logs its device time.
#include <chorus/backend.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "compiled_backend.hpp"
#include "kernel_cache.hpp"
#include "opencl_api.hpp"
#include "opencl_device.hpp"
#include "plugin_helpers.hpp"
#include "program_cache.hpp"

namespace chorus::opencl {
namespace {

using backend_common::ArgValue;
using backend_common::CacheKey;
using backend_common::CompiledDevice;
using backend_common::Launch;
using backend_common::ProgramSpec;
using backend_common::ProgramText;

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

cl_mem mem_of(uint64_t handle) {
  return reinterpret_cast<cl_mem>(static_cast<uintptr_t>(handle));
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

// A kernel object and the arguments last set on it.
struct Kernel {
  cl_kernel kernel = nullptr;
  std::vector<std::vector<unsigned char>> args;  // per argument: tag, value (empty: unknown)
};

// Two ways to a program, chosen per device. With a linker (OpenCL 1.2
// devices normally have one) a program is compiled to an object, the object
// is what the cache keeps, and clLinkProgram finishes it: on PoCL asking for
// the binary of a *built* program makes it generate code for every kernel
// at once (0.1 to 2.5 s per program, most of a cold start), while an object
// is ready the moment it is compiled and links in milliseconds. Without a
// linker, programs are built and their executable binaries cached.
enum class BinaryKind : uint8_t { object = 1, executable = 2 };

class Device final : public CompiledDevice {
 public:
  // (Qualified: inside the class, report and log name the base's members.)
  Device(const Api* api, const DeviceRecord* record)
      : CompiledDevice(opencl::report, opencl::log), api_(api), r_(record) {
    kernels_hold_arguments = true;  // clSetKernelArg, then enqueue: one op at a time per device
  }
  ~Device() override {
    if (context_) api_->clReleaseContext(context_);
  }

  chorus_status open() {
    cl_int e = CL_SUCCESS;
    const cl_context_properties properties[] = {
        CL_CONTEXT_PLATFORM, reinterpret_cast<cl_context_properties>(r_->platform), 0};
    context_ = api_->clCreateContext(properties, 1, &r_->id, nullptr, nullptr, &e);
    if (!context_) return cl_failure("clCreateContext", e);
    traits.tuning = backend_common::tuning_for(r_->identity);
    traits.has_fp64 = r_->info.has_fp64 != 0;
    build_options_ = build_options(*r_);
    cache = backend_common::open_kernel_cache(g_host, log);
    identity_ = "platform=" + r_->platform_name + " " + r_->platform_version +
                "\ndevice=" + r_->info.description + " " + r_->info.vendor +
                "\ndriver=" + r_->info.driver_version + "\ncompiler=" + r_->opencl_c_version +
                "\nchorus=" + backend_common::chorus_version_text() +
                "\ntuning=" + traits.tuning.name;
    return CHORUS_OK;
  }

  std::string label() const override { return r_->info.description; }
  uint64_t max_allocation() const override { return r_->info.max_allocation_bytes; }

  // ------------------------------------------------------------ programs

  std::string program_source(const ProgramSpec& spec, std::string* missing) const override {
    return opencl::program_source(spec, missing);
  }
  std::string program_options(const ProgramSpec& spec) const override {
    return build_options_ + " " + spec.options();
  }
  std::string cache_key(const std::string& options, const std::string& source) const override {
    return CacheKey()
        .add("api", "opencl")
        .add("identity", identity_)
        .add("binary", r_->linker ? "object" : "executable")
        .add("options", options)
        .add("source", source)
        .hex();
  }

  chorus_status compile(const ProgramSpec& spec, const ProgramText& text, void** program,
                        std::vector<uint8_t>* binary) override {
    // CHORUS_OPENCL_DUMP=<folder>: the exact text and options of every
    // program compiled, to reproduce a driver problem outside chorus.
    if (const char* dump = std::getenv("CHORUS_OPENCL_DUMP"); dump && *dump) {
      const std::string path = std::string(dump) + "/" + text.cache_key.substr(0, 16) + ".cl";
      if (FILE* f = std::fopen(path.c_str(), "w")) {
        std::fprintf(f, "// %s\n// options: %s\n%s", spec.label.c_str(), text.options.c_str(),
                     text.source.c_str());
        std::fclose(f);
      }
    }
    cl_program p = nullptr;
    const chorus_status s = compile_program(spec, text, &p, binary);
    *program = p;
    return s;
  }

  // The program ready for clCreateKernel from a cached payload (its first
  // byte says which kind of binary follows); false when the driver refuses
  // it, so that the caller compiles from source instead.
  bool load_binary(const std::vector<uint8_t>& payload, const ProgramText& text,
                   void** out) override {
    if (payload.size() < 2) return false;
    const auto kind = static_cast<BinaryKind>(payload[0]);
    const unsigned char* bytes = payload.data() + 1;
    const size_t size = payload.size() - 1;
    cl_int status = CL_SUCCESS, e = CL_SUCCESS;
    cl_program p =
        api_->clCreateProgramWithBinary(context_, 1, &r_->id, &size, &bytes, &status, &e);
    if (!p || e != CL_SUCCESS || status != CL_SUCCESS) {
      if (p) api_->clReleaseProgram(p);
      return false;
    }
    if (kind == BinaryKind::object) {
      cl_program linked = api_->clLinkProgram(context_, 1, &r_->id, "", 1, &p, nullptr, nullptr, &e);
      api_->clReleaseProgram(p);
      if (!linked || e != CL_SUCCESS) {
        if (linked) api_->clReleaseProgram(linked);
        return false;
      }
      *out = linked;
      return true;
    }
    if (kind != BinaryKind::executable ||
        api_->clBuildProgram(p, 1, &r_->id, text.options.c_str(), nullptr, nullptr) != CL_SUCCESS) {
      api_->clReleaseProgram(p);
      return false;
    }
    *out = p;
    return true;
  }

  void release_program(void* program) override {
    api_->clReleaseProgram(static_cast<cl_program>(program));
  }

  chorus_status find_kernel(void* program, const Launch& launch, void** kernel) override {
    cl_int e = CL_SUCCESS;
    cl_kernel k = api_->clCreateKernel(static_cast<cl_program>(program), launch.kernel.c_str(), &e);
    if (!k)
      return report(CHORUS_ERROR_INTERNAL, "kernel " + launch.kernel + " of " +
                                               launch.program.label +
                                               ": clCreateKernel failed: " + error_name(e));
    auto* entry = new (std::nothrow) Kernel{k, {}};
    if (!entry) {
      api_->clReleaseKernel(k);
      return report(CHORUS_ERROR_OUT_OF_MEMORY, "out of host memory");
    }
    *kernel = entry;
    return CHORUS_OK;
  }

  void release_kernel(void* kernel) override {
    auto* entry = static_cast<Kernel*>(kernel);
    api_->clReleaseKernel(entry->kernel);
    delete entry;
  }

  // ------------------------------------------------------------ launches

  // Sets the arguments that differ from the kernel's current ones (an
  // OpenCL kernel keeps its arguments between launches, and clSetKernelArg
  // costs microseconds on PoCL: an op run again with the same buffers sets
  // nothing), then enqueues. The device mutex is held.
  chorus_status launch(void* queue, void* handle, const Launch& launch,
                       std::vector<ArgValue>& args) override {
    Kernel& entry = *static_cast<Kernel*>(handle);
    if (entry.args.size() < args.size()) entry.args.resize(args.size());
    for (size_t i = 0; i < args.size(); ++i) {
      const ArgValue& a = args[i];
      const cl_mem m = mem_of(a.handle);
      // What the argument is: the cl_mem's value behind a 1 (0: NULL), or
      // the bytes behind a 2.
      const unsigned char tag = a.memory ? (m ? 1 : 0) : 2;
      const void* value = a.memory ? static_cast<const void*>(&m) : a.data;
      const size_t size = a.memory ? sizeof(cl_mem) : a.size;
      std::vector<unsigned char>& current = entry.args[i];
      if (!current.empty() && current[0] == tag && current.size() == size + 1 &&
          std::memcmp(current.data() + 1, value, size) == 0)
        continue;
      const cl_int e = api_->clSetKernelArg(entry.kernel, static_cast<cl_uint>(i), size,
                                            tag == 0 ? nullptr : value);
      if (e != CL_SUCCESS) {
        current.clear();
        return report(CHORUS_ERROR_INTERNAL, "argument " + std::to_string(i) + " of " +
                                                 launch.kernel +
                                                 ": clSetKernelArg failed: " + error_name(e));
      }
      current.resize(size + 1);
      current[0] = tag;
      std::memcpy(current.data() + 1, value, size);
    }
    cl_kernel kernel = entry.kernel;
    size_t global[3], local[3];
    for (int k = 0; k < 3; ++k) {
      global[k] = static_cast<size_t>(launch.global[k]);
      local[k] = static_cast<size_t>(launch.local[k]);
    }
    // CHORUS_OPENCL_PROFILE=1: wait for each kernel and log its device time
    // (a diagnostic: it serialises the queue).
    static const bool profile = std::getenv("CHORUS_OPENCL_PROFILE") != nullptr;
    cl_event done = nullptr;
    const cl_int e =
        api_->clEnqueueNDRangeKernel(static_cast<cl_command_queue>(queue), kernel, launch.dims,
                                     nullptr, global, local, 0, nullptr, profile ? &done : nullptr);
    if (e != CL_SUCCESS)
      return cl_failure("running " + launch.kernel + " (" + launch.program.label + ")", e);
    if (done) {
      cl_ulong t0 = 0, t1 = 0;
      api_->clWaitForEvents(1, &done);
      api_->clGetEventProfilingInfo(done, CL_PROFILING_COMMAND_START, sizeof t0, &t0, nullptr);
      api_->clGetEventProfilingInfo(done, CL_PROFILING_COMMAND_END, sizeof t1, &t1, nullptr);
      api_->clReleaseEvent(done);
      char line[256];
      std::snprintf(line, sizeof line,
                    "profile: %s (%s) %.3f ms, global %zux%zux%zu, local %zux%zux%zu",
                    launch.kernel.c_str(), launch.program.label.c_str(), (t1 - t0) * 1e-6,
                    global[0], global[1], global[2], local[0], local[1], local[2]);
      log(2, line);
    }
    return CHORUS_OK;
  }

  // -------------------------------------------------------------- memory

  chorus_status alloc(uint64_t bytes, uint64_t* handle) override {
    if (bytes > r_->info.max_allocation_bytes)
      return report(CHORUS_ERROR_OUT_OF_MEMORY,
                    "a buffer of " + std::to_string(bytes) +
                        " bytes is larger than the device's largest allocation (" +
                        std::to_string(r_->info.max_allocation_bytes) + " bytes)");
    cl_int e = CL_SUCCESS;
    // OpenCL has no empty buffers; a 0-byte one still needs a handle.
    cl_mem mem = api_->clCreateBuffer(context_, CL_MEM_READ_WRITE, bytes ? bytes : 1, nullptr, &e);
    if (!mem) return cl_failure("allocating a buffer of " + std::to_string(bytes) + " bytes", e);
    *handle = reinterpret_cast<uintptr_t>(mem);
    return CHORUS_OK;
  }
  void free(uint64_t handle) override {
    if (handle) api_->clReleaseMemObject(mem_of(handle));
  }
  // A released buffer lives on until the commands using it are done.
  chorus_status free_after(void*, uint64_t handle) override {
    free(handle);
    return CHORUS_OK;
  }

  // -------------------------------------------------------------- queues

  chorus_status queue_create(void** queue) override {
    cl_int e = CL_SUCCESS;
    cl_command_queue q =
        api_->clCreateCommandQueue(context_, r_->id, CL_QUEUE_PROFILING_ENABLE, &e);
    if (!q) return cl_failure("clCreateCommandQueue", e);
    *queue = q;
    return CHORUS_OK;
  }
  void queue_destroy(void* queue) override {
    api_->clFinish(static_cast<cl_command_queue>(queue));
    api_->clReleaseCommandQueue(static_cast<cl_command_queue>(queue));
  }
  chorus_status queue_sync(void* queue) override {
    const cl_int e = api_->clFinish(static_cast<cl_command_queue>(queue));
    return e == CL_SUCCESS ? CHORUS_OK : cl_failure("clFinish", e);
  }
  chorus_status write(void* queue, uint64_t handle, uint64_t offset, const void* src,
                      uint64_t bytes) override {
    const cl_int e = api_->clEnqueueWriteBuffer(static_cast<cl_command_queue>(queue),
                                                mem_of(handle), CL_TRUE, offset, bytes, src, 0,
                                                nullptr, nullptr);
    return e == CL_SUCCESS ? CHORUS_OK : cl_failure("clEnqueueWriteBuffer", e);
  }
  chorus_status read(void* queue, uint64_t handle, uint64_t offset, void* dst,
                     uint64_t bytes) override {
    const cl_int e = api_->clEnqueueReadBuffer(static_cast<cl_command_queue>(queue),
                                               mem_of(handle), CL_TRUE, offset, bytes, dst, 0,
                                               nullptr, nullptr);
    return e == CL_SUCCESS ? CHORUS_OK : cl_failure("clEnqueueReadBuffer", e);
  }

  const Api* api() const { return api_; }

 private:
  std::string build_log(cl_program program) const {
    size_t size = 0;
    api_->clGetProgramBuildInfo(program, r_->id, CL_PROGRAM_BUILD_LOG, 0, nullptr, &size);
    std::string text(size, '\0');
    if (size)
      api_->clGetProgramBuildInfo(program, r_->id, CL_PROGRAM_BUILD_LOG, size, text.data(),
                                  nullptr);
    text.resize(std::strlen(text.c_str()));
    const size_t limit = 6000;  // keep the message readable; the start names the first error
    if (text.size() > limit) text = text.substr(0, limit) + "\n[... build log truncated]";
    return text;
  }

  // The binary of p with its kind in front, or empty when the driver gives none.
  std::vector<uint8_t> cache_payload(cl_program p, BinaryKind kind) const {
    size_t size = 0;
    if (api_->clGetProgramInfo(p, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, nullptr) !=
            CL_SUCCESS ||
        size == 0)
      return {};
    std::vector<uint8_t> payload(size + 1);
    payload[0] = static_cast<uint8_t>(kind);
    unsigned char* pointer = payload.data() + 1;
    if (api_->clGetProgramInfo(p, CL_PROGRAM_BINARIES, sizeof pointer, &pointer, nullptr) !=
        CL_SUCCESS)
      return {};
    return payload;
  }

  // Compiles spec from source: *program is ready for clCreateKernel,
  // *payload what the cache should keep (empty when nothing can be kept).
  chorus_status compile_program(const ProgramSpec& spec, const ProgramText& text,
                                cl_program* program, std::vector<uint8_t>* payload) {
    const char* source = text.source.c_str();
    const std::string& options = text.options;
    cl_int e = CL_SUCCESS;
    cl_program p = api_->clCreateProgramWithSource(context_, 1, &source, nullptr, &e);
    if (!p) return cl_failure("clCreateProgramWithSource (" + spec.label + ")", e);
    const bool link = r_->linker;
    e = link ? api_->clCompileProgram(p, 1, &r_->id, options.c_str(), 0, nullptr, nullptr, nullptr,
                                      nullptr)
             : api_->clBuildProgram(p, 1, &r_->id, options.c_str(), nullptr, nullptr);
    if (e != CL_SUCCESS) {
      const std::string log_text = build_log(p);
      api_->clReleaseProgram(p);
      return report(
          e == CL_BUILD_PROGRAM_FAILURE || e == CL_COMPILE_PROGRAM_FAILURE ? CHORUS_ERROR_DEVICE
                                                                           : status_of(e),
          "building the " + spec.label + " kernels for " + r_->info.description + " failed (" +
              error_name(e) + ", options: " + options + "). Build log:\n" + log_text);
    }
    if (!link) {
      if (cache.enabled()) *payload = cache_payload(p, BinaryKind::executable);
      *program = p;
      return CHORUS_OK;
    }
    if (cache.enabled()) *payload = cache_payload(p, BinaryKind::object);
    cl_program linked = api_->clLinkProgram(context_, 1, &r_->id, "", 1, &p, nullptr, nullptr, &e);
    if (!linked || e != CL_SUCCESS) {
      // PoCL can fail a link, with an empty log, while another process
      // writes the same entry of PoCL's own kernel cache (seen in CI under
      // ASan, where processes are slow): one more try, then the error.
      if (linked) api_->clReleaseProgram(linked);
      log(1, "linking the " + spec.label + " kernels failed (" + error_name(e) + "); retrying once");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      linked = api_->clLinkProgram(context_, 1, &r_->id, "", 1, &p, nullptr, nullptr, &e);
    }
    if (!linked || e != CL_SUCCESS) {
      const std::string log_text = linked ? build_log(linked) : std::string();
      if (linked) api_->clReleaseProgram(linked);
      api_->clReleaseProgram(p);
      return report(status_of(e), "linking the " + spec.label + " kernels for " +
                                      r_->info.description + " failed (" + error_name(e) +
                                      "). Link log:\n" + log_text);
    }
    api_->clReleaseProgram(p);
    *program = linked;
    return CHORUS_OK;
  }

  const Api* api_;
  const DeviceRecord* r_;
  cl_context context_ = nullptr;
  std::string build_options_;  // options every program gets
  std::string identity_;       // the device part of every cache key
};

chorus_status device_open(void* plugin, uint32_t index, void** out) {
  auto* p = static_cast<Plugin*>(plugin);
  if (const chorus_status s = backend_common::check_device_index<report>(p->devices.size(), index);
      s != CHORUS_OK)
    return s;
  auto device = std::unique_ptr<Device>(new (std::nothrow) Device(p->api, &p->devices[index]));
  if (!device) return report(CHORUS_ERROR_OUT_OF_MEMORY, "out of host memory");
  if (const chorus_status s = device->open(); s != CHORUS_OK) return s;
  *out = static_cast<CompiledDevice*>(device.release());
  return CHORUS_OK;
}

const Api* api_of(void* device) {
  return static_cast<const Device*>(static_cast<CompiledDevice*>(device))->api();
}

// --------------------------------------------------------------- events

struct Event {
  const Api* api = nullptr;
  cl_event event = nullptr;
};

chorus_status event_create(void* device, void** out) {
  auto* e = new (std::nothrow) Event;
  if (!e) return report(CHORUS_ERROR_OUT_OF_MEMORY, "out of host memory");
  e->api = api_of(device);
  *out = e;
  return CHORUS_OK;
}

void event_destroy(void* event) {
  auto* e = static_cast<Event*>(event);
  if (!e) return;
  if (e->event) e->api->clReleaseEvent(e->event);
  delete e;
}

chorus_status event_record(void* event, void* queue) {
  auto* e = static_cast<Event*>(event);
  auto q = static_cast<cl_command_queue>(backend_common::compiled_queue(queue).native);
  cl_event marker = nullptr;
  const cl_int code = e->api->clEnqueueMarkerWithWaitList(q, 0, nullptr, &marker);
  if (code != CL_SUCCESS) return cl_failure("clEnqueueMarkerWithWaitList", code);
  if (e->event) e->api->clReleaseEvent(e->event);
  e->event = marker;
  // Markers are not submitted until something flushes the queue.
  e->api->clFlush(q);
  return CHORUS_OK;
}

chorus_status event_wait(void* event) {
  auto* e = static_cast<Event*>(event);
  if (!e->event) return report(CHORUS_ERROR_INVALID_ARGUMENT, "the event was never recorded");
  const cl_int code = e->api->clWaitForEvents(1, &e->event);
  return code == CL_SUCCESS ? CHORUS_OK : cl_failure("clWaitForEvents", code);
}

chorus_status event_elapsed_ms(void* start, void* end, double* milliseconds) {
  auto* s = static_cast<Event*>(start);
  auto* e = static_cast<Event*>(end);
  if (!s->event || !e->event)
    return report(CHORUS_ERROR_INVALID_ARGUMENT, "both events must be recorded before timing them");
  const Api* api = s->api;
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

chorus_backend_vtable make_vtable() {
  return backend_common::compiled_vtable<Plugin, report>(
      "opencl", {plugin_create, device_open, event_create, event_destroy, event_record, event_wait,
                 event_elapsed_ms});
}

}  // namespace
}  // namespace chorus::opencl

extern "C" CHORUS_API const chorus_backend_vtable* chorus_backend_entry(uint32_t abi_version) {
  static const chorus_backend_vtable table = chorus::opencl::make_vtable();
  return chorus::backend_common::entry_for(abi_version, &table);
}
