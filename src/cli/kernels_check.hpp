// kernels_check.hpp — what `chorus kernels check` needs of a compiler
// target: the tunings whose programs it compiles and a function compiling
// one program. kernels_check.cpp makes NVRTC and hiprtc targets;
// kernels_check_opencl.cpp makes targets of OpenCL devices.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "op_plan.hpp"
#include "rtc.hpp"

namespace chorus::cli {

struct CheckTarget {
  std::string title;  // "NVRTC 13.0 (...), sm_90"
  // Column names of the resource table.
  std::string registers = "regs", scalar_registers = "-", shared = "smem";
  // (entry name, traits) for every tuning entry the target can get.
  std::vector<std::pair<std::string, backend_common::DeviceTraits>> tunings;
  // Compiles one program; false with the compiler's log on failure.
  std::function<bool(const backend_common::ProgramSpec&, std::string* log,
                     std::vector<gpu::KernelResources>* kernels)>
      compile;
  // The compiler takes one program at a time (hiprtc): one thread.
  bool serial = false;
};

// An OpenCL device as a target: "opencl:N" (the plugin's numbering) or
// "opencl:<part of the device name>". 0 on success; 77 when there is no
// OpenCL runtime here; 2 (with *why) when no device matches.
int opencl_check_target(const std::string& target, CheckTarget* out, std::string* why);

// "opencl-c": every program's text checked by clang as strict OpenCL C 1.2,
// no device needed. 0 on success; 77 when there is no clang.
int opencl_c_check_target(CheckTarget* out, std::string* why);

}  // namespace chorus::cli
