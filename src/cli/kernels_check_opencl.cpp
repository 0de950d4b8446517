// kernels_check_opencl.cpp — OpenCL devices as targets of `chorus kernels
// check`: every program built (compiled and code-generated) by the device's
// own driver, with the options the OpenCL plugin uses, and each kernel's
// local and private memory as the driver reports them (OpenCL has no
// register counts).
#include <cstring>
#include <memory>

#include "kernels_check.hpp"
#include "opencl_api.hpp"
#include "opencl_device.hpp"

namespace chorus::cli {
namespace {

namespace bc = chorus::backend_common;
using chorus::opencl::Api;

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
  std::vector<opencl::DeviceRecord> devices;
  if (opencl::list_devices(api, &platform_count, &devices) != CL_SUCCESS || platform_count == 0) {
    *why = "no OpenCL platform";
    return 77;
  }
  // "opencl:N" in the plugin's numbering, or a part of the device's name.
  const std::string wanted = target.substr(std::strlen("opencl:"));
  const bool by_index =
      !wanted.empty() && wanted.find_first_not_of("0123456789") == std::string::npos;
  const opencl::DeviceRecord* record = nullptr;
  for (size_t i = 0; i < devices.size() && !record; ++i)
    if (by_index ? std::to_string(i) == wanted
                 : std::string(devices[i].info.description).find(wanted) != std::string::npos)
      record = &devices[i];
  if (!record) {
    *why = "no OpenCL device matches '" + target + "' (" + std::to_string(devices.size()) +
           " device(s) here; `chorus devices` lists them)";
    return 2;
  }
  auto session = std::make_shared<Session>();
  session->api = api;
  session->device = record->id;
  cl_int e = CL_SUCCESS;
  session->context = api->clCreateContext(nullptr, 1, &record->id, nullptr, nullptr, &e);
  if (!session->context) {
    *why = "clCreateContext failed: " + opencl::error_name(e);
    return 2;
  }
  // The plugin's view of the device, options and tuning (opencl_device.hpp).
  const std::string options = opencl::build_options(*record);
  const std::string name = record->info.description;
  out->title = name + " (" + record->opencl_c_version + ", " + record->info.driver_version + ")";
  out->registers = "-";
  out->scalar_registers = "-";
  out->shared = "local";
  for (const std::string& entry : bc::tuning_entry_names()) {
    bc::DeviceTraits traits;
    traits.tuning = bc::tuning_named(entry, record->identity);
    traits.has_fp64 = record->info.has_fp64 != 0;
    out->tunings.emplace_back(entry, traits);
  }
  out->compile = [session, options](const bc::ProgramSpec& spec, std::string* log,
                                    std::vector<gpu::KernelResources>* kernels) {
    const Api* a = session->api;
    std::string missing;
    const std::string source = opencl::program_source(spec, &missing);
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
