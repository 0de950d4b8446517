// opencl_device.hpp — what chorus reads of each OpenCL device, written once
// for the OpenCL plugin and for `chorus kernels check --target opencl:N`
// (src/cli/kernels_check_opencl.cpp), so that the check builds programs
// for the same device view, tuning entry and compiler options as the
// plugin that will run them.
#pragma once

#include <chorus/chorus.h>

#include <string>
#include <vector>

#include "op_plan.hpp"
#include "opencl_api.hpp"
#include "tuning.hpp"

namespace chorus::opencl {

struct DeviceRecord {
  cl_platform_id platform = nullptr;
  cl_device_id id = nullptr;
  chorus_device_info info{};  // the backend's fields; libchorus adds name and index
  std::string platform_name, platform_version, device_version, opencl_c_version, extensions;
  bool correctly_rounded_divide_sqrt = false;
  bool linker = false;  // clCompileProgram / clLinkProgram usable
  int opencl_c_major = 1, opencl_c_minor = 0;
  backend_common::DeviceIdentity identity;
};

// Every device of every platform, platforms in order, then their devices:
// the plugin's numbering (opencl:0, opencl:1, ...). The status is
// clGetPlatformIDs's; *platform_count says how many platforms there are.
cl_int list_devices(const Api* api, cl_uint* platform_count, std::vector<DeviceRecord>* devices);

// The options every program for the device is built with: OpenCL C 1.2
// where the device has it, correctly rounded f32 division and square root
// where it offers them; never relaxed math.
std::string build_options(const DeviceRecord& r);

// A program's text: the OpenCL prelude, then the program's kernel files
// (empty, with *missing set, when a file is not embedded).
std::string program_source(const backend_common::ProgramSpec& spec, std::string* missing);

}  // namespace chorus::opencl
