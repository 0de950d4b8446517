// kernels_check_opencl.cpp — OpenCL devices as targets of `chorus kernels
// check`: every program built (compiled and code-generated) by the device's
// own driver, with the options the OpenCL plugin uses, and each kernel's
// local and private memory as the driver reports them (OpenCL has no
// register counts).
#include <cstring>
#include <memory>

#include "embedded_kernels.hpp"
#include "kernels_check.hpp"
#include "opencl_api.hpp"

namespace chorus::cli {
namespace {

namespace bc = chorus::backend_common;
using chorus::opencl::Api;

std::string device_string(const Api* api, cl_device_id d, cl_device_info what) {
  size_t size = 0;
  if (api->clGetDeviceInfo(d, what, 0, nullptr, &size) != CL_SUCCESS || size == 0) return {};
  std::string s(size, '\0');
  api->clGetDeviceInfo(d, what, size, s.data(), nullptr);
  s.resize(std::strlen(s.c_str()));
  return s;
}

template <typename T>
T device_value(const Api* api, cl_device_id d, cl_device_info what) {
  T v{};
  api->clGetDeviceInfo(d, what, sizeof v, &v, nullptr);
  return v;
}

// The device and a context on it, released when the last user is done.
struct Session {
  const Api* api = nullptr;
  cl_device_id device = nullptr;
  cl_context context = nullptr;
  ~Session() {
    if (context) api->clReleaseContext(context);
  }
};

}  // namespace

int opencl_check_target(const std::string& target, CheckTarget* out, std::string* why) {
  const Api* api = opencl::load_api(why);
  if (!api) return 77;
  cl_uint platform_count = 0;
  if (api->clGetPlatformIDs(0, nullptr, &platform_count) != CL_SUCCESS || platform_count == 0) {
    *why = "no OpenCL platform";
    return 77;
  }
  std::vector<cl_platform_id> platforms(platform_count);
  api->clGetPlatformIDs(platform_count, platforms.data(), nullptr);
  // Devices in the plugin's order: platforms, then their devices.
  std::vector<cl_device_id> devices;
  for (cl_platform_id p : platforms) {
    cl_uint count = 0;
    if (api->clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &count) != CL_SUCCESS) continue;
    std::vector<cl_device_id> ids(count);
    api->clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, count, ids.data(), nullptr);
    devices.insert(devices.end(), ids.begin(), ids.end());
  }
  const std::string wanted = target.substr(std::strlen("opencl:"));
  auto session = std::make_shared<Session>();
  session->api = api;
  const bool by_index =
      !wanted.empty() && wanted.find_first_not_of("0123456789") == std::string::npos;
  for (size_t i = 0; i < devices.size() && !session->device; ++i) {
    const std::string name = device_string(api, devices[i], CL_DEVICE_NAME);
    if (by_index ? std::to_string(i) == wanted : name.find(wanted) != std::string::npos)
      session->device = devices[i];
  }
  if (!session->device) {
    *why = "no OpenCL device matches '" + target + "' (" + std::to_string(devices.size()) +
           " device(s) here; `chorus devices` lists them)";
    return 2;
  }
  const cl_device_id device = session->device;
  cl_int e = CL_SUCCESS;
  session->context = api->clCreateContext(nullptr, 1, &device, nullptr, nullptr, &e);
  if (!session->context) {
    *why = "clCreateContext failed: " + opencl::error_name(e);
    return 2;
  }

  // The plugin's view of the device (backends/opencl/opencl_backend.cpp).
  const std::string name = device_string(api, device, CL_DEVICE_NAME);
  const std::string c_version = device_string(api, device, CL_DEVICE_OPENCL_C_VERSION);
  const std::string extensions = " " + device_string(api, device, CL_DEVICE_EXTENSIONS) + " ";
  int c_major = 1, c_minor = 0;
  std::sscanf(c_version.c_str(), "OpenCL C %d.%d", &c_major, &c_minor);
  bc::DeviceIdentity identity;
  identity.vendor = device_string(api, device, CL_DEVICE_VENDOR);
  identity.name = name;
  const auto type = device_value<cl_device_type>(api, device, CL_DEVICE_TYPE);
  identity.kind = type & CL_DEVICE_TYPE_GPU
                      ? (device_value<cl_bool>(api, device, CL_DEVICE_HOST_UNIFIED_MEMORY)
                             ? CHORUS_DEVICE_KIND_INTEGRATED_GPU
                             : CHORUS_DEVICE_KIND_DISCRETE_GPU)
                  : type & CL_DEVICE_TYPE_CPU ? CHORUS_DEVICE_KIND_CPU
                                              : CHORUS_DEVICE_KIND_ACCELERATOR;
  identity.max_work_group_size =
      static_cast<uint32_t>(device_value<size_t>(api, device, CL_DEVICE_MAX_WORK_GROUP_SIZE));
  identity.local_memory_bytes = device_value<cl_ulong>(api, device, CL_DEVICE_LOCAL_MEM_SIZE);
  const bool fp64 = extensions.find(" cl_khr_fp64 ") != std::string::npos ||
                    device_value<cl_device_fp_config>(api, device, CL_DEVICE_DOUBLE_FP_CONFIG);
  std::string options = c_major > 1 || c_minor >= 2 ? "-cl-std=CL1.2" : "";
  if (device_value<cl_device_fp_config>(api, device, CL_DEVICE_SINGLE_FP_CONFIG) &
      CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT)
    options += " -cl-fp32-correctly-rounded-divide-sqrt";

  out->title = name + " (" + c_version + ", " + device_string(api, device, CL_DRIVER_VERSION) + ")";
  out->registers = "-";
  out->scalar_registers = "-";
  out->shared = "local";
  for (const std::string& entry : bc::tuning_entry_names()) {
    bc::DeviceTraits traits;
    traits.tuning = bc::tuning_named(entry, identity);
    traits.has_fp64 = fp64;
    out->tunings.emplace_back(entry, traits);
  }
  out->compile = [session, options](const bc::ProgramSpec& spec, std::string* log,
                                    std::vector<gpu::KernelResources>* kernels) {
    const Api* a = session->api;
    std::vector<std::string> files = {"prelude_opencl.h"};
    files.insert(files.end(), spec.files.begin(), spec.files.end());
    std::string missing;
    const std::string source = kernels::assemble_program(files, &missing);
    if (!missing.empty()) {
      *log = "kernel file " + missing + " is not embedded";
      return false;
    }
    const char* text = source.c_str();
    cl_int err = CL_SUCCESS;
    cl_program program = a->clCreateProgramWithSource(session->context, 1, &text, nullptr, &err);
    if (!program) {
      *log = "clCreateProgramWithSource failed: " + opencl::error_name(err);
      return false;
    }
    const std::string all = options + " " + spec.options();
    err = a->clBuildProgram(program, 1, &session->device, all.c_str(), nullptr, nullptr);
    size_t size = 0;
    a->clGetProgramBuildInfo(program, session->device, CL_PROGRAM_BUILD_LOG, 0, nullptr, &size);
    log->assign(size, '\0');
    if (size)
      a->clGetProgramBuildInfo(program, session->device, CL_PROGRAM_BUILD_LOG, size, log->data(),
                               nullptr);
    log->resize(std::strlen(log->c_str()));
    if (err != CL_SUCCESS) {
      *log = opencl::error_name(err) + "\n" + *log;
      a->clReleaseProgram(program);
      return false;
    }
    cl_uint count = 0;
    a->clCreateKernelsInProgram(program, 0, nullptr, &count);
    std::vector<cl_kernel> list(count);
    if (count) a->clCreateKernelsInProgram(program, count, list.data(), nullptr);
    for (cl_kernel k : list) {
      gpu::KernelResources r;
      size_t name_size = 0;
      a->clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, 0, nullptr, &name_size);
      r.kernel.assign(name_size, '\0');
      a->clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, name_size, r.kernel.data(), nullptr);
      r.kernel.resize(std::strlen(r.kernel.c_str()));
      cl_ulong local = 0, priv = 0;
      if (a->clGetKernelWorkGroupInfo(k, session->device, CL_KERNEL_LOCAL_MEM_SIZE, sizeof local,
                                      &local, nullptr) == CL_SUCCESS)
        r.shared_bytes = static_cast<int64_t>(local);
      if (a->clGetKernelWorkGroupInfo(k, session->device, CL_KERNEL_PRIVATE_MEM_SIZE, sizeof priv,
                                      &priv, nullptr) == CL_SUCCESS)
        r.stack_bytes = static_cast<int64_t>(priv);
      kernels->push_back(r);
      a->clReleaseKernel(k);
    }
    a->clReleaseProgram(program);
    return true;
  };
  return 0;
}

}  // namespace chorus::cli
