// opencl_device.cpp — see opencl_device.hpp.
#include "opencl_device.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "embedded_kernels.hpp"
#include "plugin_helpers.hpp"

namespace chorus::opencl {
namespace {

using backend_common::copy_text;

// A string property of a device or platform: query is clGetDeviceInfo or
// clGetPlatformInfo. Empty when the driver does not answer.
template <typename Query, typename Object, typename Info>
std::string info_string(Query query, Object object, Info what) {
  size_t size = 0;
  if (query(object, what, 0, nullptr, &size) != CL_SUCCESS || size == 0) return {};
  std::string s(size, '\0');
  if (query(object, what, size, s.data(), nullptr) != CL_SUCCESS) return {};
  s.resize(std::strlen(s.c_str()));
  return s;
}

std::string device_string(const Api* api, cl_device_id d, cl_device_info what) {
  return info_string(api->clGetDeviceInfo, d, what);
}

std::string platform_string(const Api* api, cl_platform_id p, cl_platform_info what) {
  return info_string(api->clGetPlatformInfo, p, what);
}

template <typename T>
T device_value(const Api* api, cl_device_id d, cl_device_info what, T fallback = T{}) {
  T v{};
  return api->clGetDeviceInfo(d, what, sizeof v, &v, nullptr) == CL_SUCCESS ? v : fallback;
}

bool has_extension(const std::string& list, const char* name) {
  const std::string padded = " " + list + " ";
  return padded.find(std::string(" ") + name + " ") != std::string::npos;
}

void describe(const Api* api, DeviceRecord& r) {
  chorus_device_info& info = r.info;
  r.platform_name = platform_string(api, r.platform, CL_PLATFORM_NAME);
  r.platform_version = platform_string(api, r.platform, CL_PLATFORM_VERSION);
  r.device_version = device_string(api, r.id, CL_DEVICE_VERSION);
  r.opencl_c_version = device_string(api, r.id, CL_DEVICE_OPENCL_C_VERSION);
  r.extensions = device_string(api, r.id, CL_DEVICE_EXTENSIONS);
  std::sscanf(r.opencl_c_version.c_str(), "OpenCL C %d.%d", &r.opencl_c_major, &r.opencl_c_minor);
  const std::string name = device_string(api, r.id, CL_DEVICE_NAME);
  const std::string vendor = device_string(api, r.id, CL_DEVICE_VENDOR);
  copy_text(info.description, name);
  copy_text(info.vendor, vendor);
  copy_text(info.driver_version,
            device_string(api, r.id, CL_DRIVER_VERSION) + " (" + r.device_version + ")");
  copy_text(info.compiler_version, r.opencl_c_version + " (" + r.platform_name + ")");

  const auto type = device_value<cl_device_type>(api, r.id, CL_DEVICE_TYPE);
  if (type & CL_DEVICE_TYPE_GPU) {
    const auto unified = device_value<cl_bool>(api, r.id, CL_DEVICE_HOST_UNIFIED_MEMORY);
    info.kind = unified ? CHORUS_DEVICE_KIND_INTEGRATED_GPU : CHORUS_DEVICE_KIND_DISCRETE_GPU;
    info.score = unified ? 200 : 300;
  } else if (type & CL_DEVICE_TYPE_CPU) {
    info.kind = CHORUS_DEVICE_KIND_CPU;
    info.score = 100;
  } else {
    info.kind = CHORUS_DEVICE_KIND_ACCELERATOR;
    info.score = 150;
  }
  info.memory_bytes = device_value<cl_ulong>(api, r.id, CL_DEVICE_GLOBAL_MEM_SIZE);
  info.max_allocation_bytes = device_value<cl_ulong>(api, r.id, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
  info.local_memory_bytes = device_value<cl_ulong>(api, r.id, CL_DEVICE_LOCAL_MEM_SIZE);
  info.max_work_group_size =
      static_cast<uint32_t>(device_value<size_t>(api, r.id, CL_DEVICE_MAX_WORK_GROUP_SIZE, 1));
  info.compute_units = device_value<cl_uint>(api, r.id, CL_DEVICE_MAX_COMPUTE_UNITS, 1);
  const auto double_config =
      device_value<cl_device_fp_config>(api, r.id, CL_DEVICE_DOUBLE_FP_CONFIG);
  info.has_fp64 = has_extension(r.extensions, "cl_khr_fp64") || double_config != 0;
  info.has_f16_arithmetic = has_extension(r.extensions, "cl_khr_fp16");
  info.has_subgroups = has_extension(r.extensions, "cl_khr_subgroups") ||
                       has_extension(r.extensions, "cl_intel_subgroups");
  const auto single_config =
      device_value<cl_device_fp_config>(api, r.id, CL_DEVICE_SINGLE_FP_CONFIG);
  r.correctly_rounded_divide_sqrt = (single_config & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
  r.linker = device_value<cl_bool>(api, r.id, CL_DEVICE_LINKER_AVAILABLE, CL_FALSE) != CL_FALSE &&
             std::getenv("CHORUS_OPENCL_NO_LINKER") == nullptr;
  for (int d = CHORUS_DTYPE_F32; d < CHORUS_DTYPE_COUNT_; ++d)
    if (d != CHORUS_DTYPE_F64 || info.has_fp64) info.dtype_mask |= 1u << d;
  // No float atomics and fixed reduction orders in any kernel: every run of
  // an op on one device gives the same bits.
  info.numerics_supported = CHORUS_NUMERICS_DETERMINISTIC;
  info.numerics_default = CHORUS_NUMERICS_DETERMINISTIC;
  info.usable = 1;
  if (!device_value<cl_bool>(api, r.id, CL_DEVICE_AVAILABLE, CL_TRUE)) {
    info.usable = 0;
    copy_text(info.reason, "the driver reports the device as not available");
  } else if (!device_value<cl_bool>(api, r.id, CL_DEVICE_COMPILER_AVAILABLE, CL_TRUE)) {
    info.usable = 0;
    copy_text(info.reason, "the driver has no OpenCL C compiler for this device");
  }
  r.identity.vendor = vendor;
  r.identity.name = name;
  r.identity.kind = info.kind;
  r.identity.max_work_group_size = info.max_work_group_size;
  r.identity.local_memory_bytes = info.local_memory_bytes;
}

}  // namespace

cl_int list_devices(const Api* api, cl_uint* platform_count, std::vector<DeviceRecord>* devices) {
  *platform_count = 0;
  cl_int e = api->clGetPlatformIDs(0, nullptr, platform_count);
  if (e != CL_SUCCESS || *platform_count == 0) return e;
  std::vector<cl_platform_id> platforms(*platform_count);
  api->clGetPlatformIDs(*platform_count, platforms.data(), nullptr);
  for (cl_platform_id p : platforms) {
    cl_uint count = 0;
    if (api->clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &count) != CL_SUCCESS || count == 0)
      continue;
    std::vector<cl_device_id> ids(count);
    api->clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, count, ids.data(), nullptr);
    for (cl_device_id id : ids) {
      DeviceRecord r;
      r.platform = p;
      r.id = id;
      describe(api, r);
      devices->push_back(std::move(r));
    }
  }
  return CL_SUCCESS;
}

std::string build_options(const DeviceRecord& r) {
  std::string options = r.opencl_c_major > 1 || r.opencl_c_minor >= 2 ? "-cl-std=CL1.2" : "";
  if (r.correctly_rounded_divide_sqrt) options += " -cl-fp32-correctly-rounded-divide-sqrt";
  return options;
}

std::string program_source(const backend_common::ProgramSpec& spec, std::string* missing) {
  std::vector<std::string> files = {"prelude_opencl.h"};
  files.insert(files.end(), spec.files.begin(), spec.files.end());
  return kernels::assemble_program(files, missing);
}

}  // namespace chorus::opencl
