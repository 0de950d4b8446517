// launch_peer.cpp — chorus-launch-peer: the bare kernel launch that the
// host overhead of one chorus op is compared with (`chorus bench --op
// overhead`; the target is at most 2 µs more), timed the way chorus bench
// times its 1-element add: 1000 submissions in a row, host wall time per
// submission, the median of 5 rounds (chorus::host_us_per_submission, the
// function chorus bench uses). Exit 77 (skipped) where the runtime,
// compiler or device is missing.
//
//   cuda, hip  an empty kernel through the vendor API with nothing of
//              chorus in between but the thin Runtime wrapper the plugins
//              use (one virtual call onto cuLaunchKernel or
//              hipModuleLaunchKernel);
//   opencl     the very kernel chorus runs for a 1-element f32 add: planned
//              by chorus's planner, its program assembled from the embedded
//              kernel text and built with the plugin's options, its
//              arguments set once with clSetKernelArg; each submission is
//              one clEnqueueNDRangeKernel on an in-order queue.
//
//   chorus-launch-peer cuda|hip|opencl [--device N] [--json FILE]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/host_timing.hpp"

#if CHORUS_LAUNCH_PEER_CUDA
#include "gpu_runtime.hpp"
#include "rtc.hpp"
#endif
#if CHORUS_LAUNCH_PEER_OPENCL
#include "op_plan.hpp"
#include "opencl_api.hpp"
#include "opencl_device.hpp"
#endif

namespace {

int usage() {
  std::fprintf(stderr, "usage: chorus-launch-peer cuda|hip|opencl [--device N] [--json FILE]\n");
  return 2;
}

struct Result {
  std::string api, launch_call, arch;
  double us = -1;
};

bool write_json(const std::string& path, const Result& r) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) {
    std::fprintf(stderr, "chorus-launch-peer: cannot write %s\n", path.c_str());
    return false;
  }
  std::fprintf(f,
               "{\"api\": \"%s\", \"launch_call\": \"%s\", \"arch\": \"%s\", "
               "\"bare_launch_us\": %.4f}\n",
               r.api.c_str(), r.launch_call.c_str(), r.arch.c_str(), r.us);
  std::fclose(f);
  return true;
}

#if CHORUS_LAUNCH_PEER_CUDA
using chorus::gpu::Runtime;

// The runtime's call, or a message with its error text.
bool ok(const Runtime& rt, int code, const char* what) {
  if (code == 0) return true;
  std::fprintf(stderr, "chorus-launch-peer: %s failed: %s\n", what, rt.error_text(code).c_str());
  return false;
}

int gpu_peer(const std::string& api, int index, Result* out) {
  std::string why;
  std::unique_ptr<Runtime> rt;
  chorus::gpu::RtcKind kind;
  const char* launch_call;
  if (api == "cuda") {
    rt = chorus::gpu::load_cuda_runtime(&why);
    kind = chorus::gpu::RtcKind::nvrtc;
    launch_call = "cuLaunchKernel";
#if CHORUS_LAUNCH_PEER_HIP
  } else if (api == "hip") {
    rt = chorus::gpu::load_hip_runtime(&why);
    kind = chorus::gpu::RtcKind::hiprtc;
    launch_call = "hipModuleLaunchKernel";
#endif
  } else {
    std::fprintf(stderr, "chorus-launch-peer: API %s is not built in\n", api.c_str());
    return usage();
  }
  if (!rt) {
    std::fprintf(stderr, "chorus-launch-peer: %s unusable: %s\n", api.c_str(), why.c_str());
    return 77;
  }
  const auto rtc = chorus::gpu::Rtc::load(kind, &why);
  if (!rtc) {
    std::fprintf(stderr, "chorus-launch-peer: no compiler: %s\n", why.c_str());
    return 77;
  }
  int count = 0;
  if (!ok(*rt, rt->device_count(&count), "counting devices")) return 1;
  if (index < 0 || index >= count) {
    std::fprintf(stderr, "chorus-launch-peer: --device %d: there are %d %s devices\n", index, count,
                 api.c_str());
    return 77;
  }
  chorus::gpu::GpuDeviceDesc desc;
  if (!ok(*rt, rt->describe(index, &desc), "describing the device")) return 1;
  void* context = nullptr;
  if (!ok(*rt, rt->open(index, &context), "opening the device")) return 1;
  void* stream = nullptr;
  void* module = nullptr;
  void* function = nullptr;
  int status = 1;
  do {
    if (!ok(*rt, rt->make_current(context), "binding the context")) break;
    if (!ok(*rt, rt->stream_create(&stream), "creating a stream")) break;
    chorus::gpu::CompileResult compiled;
    const std::string target = rtc->target_for(desc.arch);
    if (!rtc->compile("extern \"C\" __global__ void chorus_empty() {}\n", "empty.cu",
                      rtc->options({}, target, false), &compiled)) {
      std::fprintf(stderr, "chorus-launch-peer: compiling for %s failed:\n%s\n", target.c_str(),
                   compiled.log.c_str());
      break;
    }
    if (!ok(*rt, rt->module_load(compiled.binary, &module), "loading the module")) break;
    if (!ok(*rt, rt->function(module, "chorus_empty", &function), "finding the kernel")) break;
    const uint32_t one[3] = {1, 1, 1};
    auto launch = [&] { return rt->launch(function, one, one, stream, nullptr); };
    // Warm-up: the first launches load the module onto the device.
    bool launched = true;
    for (int i = 0; i < 100 && launched; ++i) launched = ok(*rt, launch(), "launching");
    if (!launched || !ok(*rt, rt->stream_sync(stream), "synchronizing")) break;
    const double us = chorus::host_us_per_submission(
        [&] { return ok(*rt, launch(), "launching"); },
        [&] { return ok(*rt, rt->stream_sync(stream), "synchronizing"); });
    if (us < 0) break;
    std::printf("%s on %s (%s), %s, %s\n", api.c_str(), desc.name.c_str(), desc.arch.c_str(),
                rt->driver_version().c_str(), rtc->version().c_str());
    std::printf(
        "bare kernel launch (%s of an empty kernel, 1 block, one stream): %.2f us host "
        "time per launch (median of 5 rounds of 1000)\n",
        launch_call, us);
    *out = Result{api, launch_call, desc.arch, us};
    status = 0;
  } while (false);
  if (module) rt->module_unload(module);
  if (stream) rt->stream_destroy(stream);
  rt->close(context);
  return status;
}
#endif

#if CHORUS_LAUNCH_PEER_OPENCL
namespace bc = chorus::backend_common;
using chorus::opencl::Api;

bool cl_ok(cl_int code, const char* what) {
  if (code == CL_SUCCESS) return true;
  std::fprintf(stderr, "chorus-launch-peer: %s failed: %s\n", what,
               chorus::opencl::error_name(code).c_str());
  return false;
}

int opencl_peer(int index, Result* out) {
  std::string why;
  const Api* api = chorus::opencl::load_api(&why);
  if (!api) {
    std::fprintf(stderr, "chorus-launch-peer: opencl unusable: %s\n", why.c_str());
    return 77;
  }
  cl_uint platforms = 0;
  std::vector<chorus::opencl::DeviceRecord> devices;
  if (chorus::opencl::list_devices(api, &platforms, &devices) != CL_SUCCESS || devices.empty()) {
    std::fprintf(stderr, "chorus-launch-peer: no OpenCL device here\n");
    return 77;
  }
  if (index < 0 || index >= static_cast<int>(devices.size())) {
    std::fprintf(stderr, "chorus-launch-peer: --device %d: there are %zu OpenCL devices\n", index,
                 devices.size());
    return 77;
  }
  const chorus::opencl::DeviceRecord& r = devices[static_cast<size_t>(index)];
  if (!r.info.usable) {
    std::fprintf(stderr, "chorus-launch-peer: opencl:%d is not usable: %s\n", index, r.info.reason);
    return 77;
  }

  // What chorus runs for a 1-element f32 add: the normal form libchorus
  // hands the plugin (rank 1, extent 1, stride 0), planned by the planner
  // under the device's tuning.
  chorus_backend_tensor t{};
  t.dtype = CHORUS_DTYPE_F32;
  t.rank = 1;
  t.shape[0] = 1;
  const chorus_backend_tensor tensors[3] = {t, t, t};
  chorus_binary_attrs attrs{};
  attrs.struct_size = sizeof attrs;
  attrs.op = CHORUS_BINARY_ADD;
  chorus_op_record record{};
  record.struct_size = sizeof record;
  record.kind = CHORUS_OP_BINARY;
  record.tensor_count = 3;
  record.tensors = tensors;
  record.attrs = &attrs;
  record.attrs_size = sizeof attrs;
  bc::DeviceTraits traits;
  traits.tuning = bc::tuning_for(r.identity);
  traits.has_fp64 = r.info.has_fp64 != 0;
  bc::Plan plan;
  if (bc::plan_op(record, traits, &plan, &why) != CHORUS_OK || plan.launches.size() != 1) {
    std::fprintf(stderr, "chorus-launch-peer: planning the add failed: %s\n", why.c_str());
    return 1;
  }
  const bc::Launch& launch = plan.launches[0];
  std::string missing;
  const std::string source = chorus::opencl::program_source(launch.program, &missing);
  if (!missing.empty()) {
    std::fprintf(stderr, "chorus-launch-peer: kernel file %s is not embedded\n", missing.c_str());
    return 1;
  }
  const std::string options = chorus::opencl::build_options(r) + " " + launch.program.options();

  cl_int e = CL_SUCCESS;
  cl_context context = api->clCreateContext(nullptr, 1, &r.id, nullptr, nullptr, &e);
  if (!context) {
    cl_ok(e, "clCreateContext");
    return 1;
  }
  // The plugin's queues: in order, with profiling enabled.
  cl_command_queue queue =
      api->clCreateCommandQueue(context, r.id, CL_QUEUE_PROFILING_ENABLE, &e);
  cl_program program = nullptr;
  cl_kernel kernel = nullptr;
  cl_mem buffers[3] = {nullptr, nullptr, nullptr};
  int status = 1;
  do {
    if (!queue && !cl_ok(e, "clCreateCommandQueue")) break;
    const char* text = source.c_str();
    program = api->clCreateProgramWithSource(context, 1, &text, nullptr, &e);
    if (!program && !cl_ok(e, "clCreateProgramWithSource")) break;
    // Built the way the plugin builds it on this device (compiled, then
    // linked, where the device has a linker): on PoCL a kernel of a linked
    // program launches in about a fifth of the host time of a built one's, so
    // anything else would compare two different kernels.
    if (r.linker) {
      e = api->clCompileProgram(program, 1, &r.id, options.c_str(), 0, nullptr, nullptr, nullptr,
                                nullptr);
      if (!cl_ok(e, ("compiling " + launch.program.label).c_str())) break;
      cl_program linked =
          api->clLinkProgram(context, 1, &r.id, "", 1, &program, nullptr, nullptr, &e);
      if (!linked && !cl_ok(e, ("linking " + launch.program.label).c_str())) break;
      api->clReleaseProgram(program);
      program = linked;
    } else {
      e = api->clBuildProgram(program, 1, &r.id, options.c_str(), nullptr, nullptr);
      if (!cl_ok(e, ("building " + launch.program.label).c_str())) break;
    }
    kernel = api->clCreateKernel(program, launch.kernel.c_str(), &e);
    if (!kernel && !cl_ok(e, ("clCreateKernel " + launch.kernel).c_str())) break;
    bool set = true;
    for (cl_mem& b : buffers) {
      b = api->clCreateBuffer(context, CL_MEM_READ_WRITE, sizeof(float), nullptr, &e);
      set = set && b && cl_ok(e, "clCreateBuffer");
    }
    // The arguments, once: the tensors' buffers, then the argument block
    // as planned (every offset 0, as the plan has them).
    for (size_t i = 0; i < launch.args.size() && set; ++i) {
      const bc::KernelArg& a = launch.args[i];
      if (a.kind == bc::KernelArg::Kind::buffer)
        e = api->clSetKernelArg(kernel, static_cast<cl_uint>(i), sizeof(cl_mem), &buffers[a.index]);
      else if (a.kind == bc::KernelArg::Kind::bytes)
        e = api->clSetKernelArg(kernel, static_cast<cl_uint>(i), a.bytes.size(), a.bytes.data());
      else
        e = CL_INVALID_ARG_VALUE;  // an add has no scratch
      set = cl_ok(e, "clSetKernelArg");
    }
    if (!set) break;
    size_t global[3], local[3];
    for (int k = 0; k < 3; ++k) {
      global[k] = static_cast<size_t>(launch.global[k]);
      local[k] = static_cast<size_t>(launch.local[k]);
    }
    auto submit = [&] {
      return cl_ok(api->clEnqueueNDRangeKernel(queue, kernel, launch.dims, nullptr, global, local,
                                               0, nullptr, nullptr),
                   "clEnqueueNDRangeKernel");
    };
    auto drain = [&] { return cl_ok(api->clFinish(queue), "clFinish"); };
    bool launched = true;
    for (int i = 0; i < 100 && launched; ++i) launched = submit();
    if (!launched || !drain()) break;
    const double us = chorus::host_us_per_submission(submit, drain);
    if (us < 0) break;
    std::printf("opencl on %s (%s, %s), %s\n", r.info.description, r.platform_name.c_str(),
                r.opencl_c_version.c_str(), r.info.driver_version);
    std::printf(
        "bare kernel launch (clEnqueueNDRangeKernel of %s, chorus's 1-element f32 add, "
        "arguments set once, one in-order queue): %.2f us host time per launch (median of 5 "
        "rounds of 1000)\n",
        launch.kernel.c_str(), us);
    *out = Result{"opencl", "clEnqueueNDRangeKernel", r.info.description, us};
    status = 0;
  } while (false);
  for (cl_mem b : buffers)
    if (b) api->clReleaseMemObject(b);
  if (kernel) api->clReleaseKernel(kernel);
  if (program) api->clReleaseProgram(program);
  if (queue) api->clReleaseCommandQueue(queue);
  api->clReleaseContext(context);
  return status;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string api = argv[1];
  int index = 0;
  std::string json;
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--device") && i + 1 < argc) {
      index = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--json") && i + 1 < argc) {
      json = argv[++i];
    } else {
      return usage();
    }
  }
  Result result;
  int status = -1;
#if CHORUS_LAUNCH_PEER_OPENCL
  if (api == "opencl") status = opencl_peer(index, &result);
#endif
#if CHORUS_LAUNCH_PEER_CUDA
  if (status < 0 && api != "opencl") status = gpu_peer(api, index, &result);
#endif
  if (status < 0) {
    std::fprintf(stderr, "chorus-launch-peer: API %s is not built in\n", api.c_str());
    return usage();
  }
  if (status == 0 && !json.empty() && !write_json(json, result)) return 1;
  return status;
}
