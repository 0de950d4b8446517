// opencl_api.hpp — the OpenCL entry points the plugin uses, reached through
// dlopen("libOpenCL.so.1") at run time instead of linking: the plugin then
// loads on any machine, and a machine without an ICD loader or without a
// platform is reported as such (ARCHITECTURE.md §2). Only the OpenCL
// headers are needed at build time.
#pragma once

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include <string>

namespace chorus::opencl {

struct Api {
#define CHORUS_CL_FUNCTIONS(X)   \
  X(clGetPlatformIDs)            \
  X(clGetPlatformInfo)           \
  X(clGetDeviceIDs)              \
  X(clGetDeviceInfo)             \
  X(clCreateContext)             \
  X(clReleaseContext)            \
  X(clCreateCommandQueue)        \
  X(clReleaseCommandQueue)       \
  X(clCreateBuffer)              \
  X(clReleaseMemObject)          \
  X(clEnqueueReadBuffer)         \
  X(clEnqueueWriteBuffer)        \
  X(clFinish)                    \
  X(clFlush)                     \
  X(clCreateProgramWithSource)   \
  X(clCreateProgramWithBinary)   \
  X(clBuildProgram)              \
  X(clCompileProgram)            \
  X(clLinkProgram)               \
  X(clGetProgramInfo)            \
  X(clGetProgramBuildInfo)       \
  X(clReleaseProgram)            \
  X(clCreateKernel)              \
  X(clReleaseKernel)             \
  X(clCreateKernelsInProgram)    \
  X(clGetKernelInfo)             \
  X(clGetKernelWorkGroupInfo)    \
  X(clSetKernelArg)              \
  X(clEnqueueNDRangeKernel)      \
  X(clEnqueueMarkerWithWaitList) \
  X(clWaitForEvents)             \
  X(clGetEventProfilingInfo)     \
  X(clReleaseEvent)
#define CHORUS_CL_POINTER(name) decltype(&::name) name = nullptr;
  CHORUS_CL_FUNCTIONS(CHORUS_CL_POINTER)
#undef CHORUS_CL_POINTER
  void* library = nullptr;
};

// Loads the ICD loader and every entry point once per process. Returns
// nullptr with *why set ("libOpenCL.so.1 not found: ...") when it cannot.
const Api* load_api(std::string* why);

// "CL_OUT_OF_RESOURCES (-5)" for messages.
std::string error_name(cl_int code);

}  // namespace chorus::opencl
