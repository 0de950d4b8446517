// kernels_check_opencl.cpp — OpenCL as a target of `chorus kernels check`:
//   opencl:N   every program built (compiled and code-generated) by the
//              device's own driver, with the options the OpenCL plugin
//              uses, and each kernel's local and private memory as the
//              driver reports them (OpenCL has no register counts);
//   opencl-c   every program checked by clang as strict OpenCL C 1.2
//              (-pedantic -Werror, for a SPIR target), with no device: what
//              one vendor's compiler lets pass and another's refuses.
//              PoCL accepted variadic macros that NVIDIA's OpenCL compiler
//              refused on an H200 (2026-12-04); this target finds such text
//              on a machine with no GPU.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

extern char** environ;

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

// The clang that checks OpenCL C: $CHORUS_CLANG, else the first of clang,
// clang-14 ... clang-19 on the PATH; "" when there is none.
std::string find_clang() {
  if (const char* c = std::getenv("CHORUS_CLANG"); c && *c) return c;
  const char* path = std::getenv("PATH");
  std::vector<std::string> names = {"clang"};
  for (int v = 19; v >= 14; --v) names.push_back("clang-" + std::to_string(v));
  for (const std::string& name : names) {
    std::stringstream dirs(path ? path : "");
    for (std::string dir; std::getline(dirs, dir, ':');)
      if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  }
  return "";
}

// Runs argv, its output (stdout and stderr) into *log; the exit status, or
// -1 when it could not be started.
int run_capturing(const std::vector<std::string>& argv, const std::string& log_path,
                  std::string* log) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int e = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (e != 0) {
    *log = "could not start " + argv[0] + ": " + std::strerror(e);
    return -1;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  std::ifstream in(log_path);
  std::stringstream text;
  text << in.rdbuf();
  *log = text.str();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

int opencl_c_check_target(CheckTarget* out, std::string* why) {
  const std::string clang = find_clang();
  if (clang.empty()) {
    *why = "no clang on the PATH (set CHORUS_CLANG)";
    return 77;
  }
  out->title = "OpenCL C 1.2, strict (" + clang + " -pedantic -Werror, spir64)";
  out->registers = "-";
  out->scalar_registers = "-";
  out->shared = "-";
  // Every tuning entry as an NVIDIA GPU's OpenCL driver would get it (1024
  // work-items per group, 48 KiB of local memory, fp64).
  bc::DeviceIdentity identity;
  identity.vendor = "NVIDIA Corporation";
  identity.kind = CHORUS_DEVICE_KIND_DISCRETE_GPU;
  identity.max_work_group_size = 1024;
  identity.local_memory_bytes = 48 * 1024;
  for (const std::string& entry : bc::tuning_entry_names()) {
    bc::DeviceTraits traits;
    traits.tuning = bc::tuning_named(entry, identity);
    traits.has_fp64 = true;
    out->tunings.emplace_back(entry, traits);
  }
  out->compile = [clang](const bc::ProgramSpec& spec, std::string* log,
                         std::vector<gpu::KernelResources>*) {
    std::string missing;
    const std::string source = opencl::program_source(spec, &missing);
    if (!missing.empty()) {
      *log = "kernel file " + missing + " is not embedded";
      return false;
    }
    char dir_template[] = "/tmp/chorus-opencl-c-XXXXXX";
    if (!mkdtemp(dir_template)) {
      *log = std::string("mkdtemp failed: ") + std::strerror(errno);
      return false;
    }
    const std::string dir = dir_template;
    const std::string file = dir + "/program.cl";
    std::ofstream(file) << source;
    // The options the plugin gives a device with OpenCL C 1.2 and correctly
    // rounded division, then the program's own, split as a driver splits.
    std::vector<std::string> argv = {clang, "-x", "cl", "-cl-std=CL1.2",
                                     "-cl-fp32-correctly-rounded-divide-sqrt", "-Xclang",
                                     "-finclude-default-header", "-target", "spir64",
                                     "-fsyntax-only", "-pedantic", "-Werror"};
    std::stringstream options(spec.options());
    for (std::string o; options >> o;) argv.push_back(o);
    argv.push_back(file);
    const int status = run_capturing(argv, dir + "/log.txt", log);
    std::remove(file.c_str());
    std::remove((dir + "/log.txt").c_str());
    rmdir(dir.c_str());
    return status == 0;
  };
  return 0;
}

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
