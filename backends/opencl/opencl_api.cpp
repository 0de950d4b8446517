// opencl_api.cpp — see opencl_api.hpp. The library handle is kept for the
// life of the process: OpenCL drivers register exit handlers and do not
// survive being unloaded.
#include "opencl_api.hpp"

#include <dlfcn.h>

#include <mutex>

namespace chorus::opencl {

const Api* load_api(std::string* why) {
  static Api api;
  static std::string failure;
  static std::once_flag once;
  std::call_once(once, [] {
    void* library = nullptr;
    std::string errors;
    for (const char* name : {"libOpenCL.so.1", "libOpenCL.so"}) {
      library = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (library) break;
      const char* e = dlerror();
      errors += std::string(errors.empty() ? "" : "; ") + (e ? e : name);
    }
    if (!library) {
      failure = "libOpenCL.so.1 not found (" + errors + ")";
      return;
    }
#define CHORUS_CL_RESOLVE(name)                                                          \
  api.name = reinterpret_cast<decltype(api.name)>(dlsym(library, #name));                \
  if (!api.name) {                                                                       \
    failure = std::string("the OpenCL loader has no ") + #name + " (OpenCL 1.2 needed)"; \
    return;                                                                              \
  }
    CHORUS_CL_FUNCTIONS(CHORUS_CL_RESOLVE)
#undef CHORUS_CL_RESOLVE
    api.library = library;
  });
  if (!api.library) {
    *why = failure;
    return nullptr;
  }
  return &api;
}

std::string error_name(cl_int code) {
  const char* name = "an OpenCL error";
  switch (code) {
#define CHORUS_CL_CASE(c) \
  case c:                 \
    name = #c;            \
    break;
    CHORUS_CL_CASE(CL_DEVICE_NOT_FOUND)
    CHORUS_CL_CASE(CL_DEVICE_NOT_AVAILABLE)
    CHORUS_CL_CASE(CL_COMPILER_NOT_AVAILABLE)
    CHORUS_CL_CASE(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    CHORUS_CL_CASE(CL_OUT_OF_RESOURCES)
    CHORUS_CL_CASE(CL_OUT_OF_HOST_MEMORY)
    CHORUS_CL_CASE(CL_PROFILING_INFO_NOT_AVAILABLE)
    CHORUS_CL_CASE(CL_BUILD_PROGRAM_FAILURE)
    CHORUS_CL_CASE(CL_COMPILE_PROGRAM_FAILURE)
    CHORUS_CL_CASE(CL_LINKER_NOT_AVAILABLE)
    CHORUS_CL_CASE(CL_LINK_PROGRAM_FAILURE)
    CHORUS_CL_CASE(CL_INVALID_COMPILER_OPTIONS)
    CHORUS_CL_CASE(CL_INVALID_LINKER_OPTIONS)
    CHORUS_CL_CASE(CL_INVALID_VALUE)
    CHORUS_CL_CASE(CL_INVALID_DEVICE)
    CHORUS_CL_CASE(CL_INVALID_CONTEXT)
    CHORUS_CL_CASE(CL_INVALID_COMMAND_QUEUE)
    CHORUS_CL_CASE(CL_INVALID_MEM_OBJECT)
    CHORUS_CL_CASE(CL_INVALID_BINARY)
    CHORUS_CL_CASE(CL_INVALID_BUILD_OPTIONS)
    CHORUS_CL_CASE(CL_INVALID_PROGRAM)
    CHORUS_CL_CASE(CL_INVALID_PROGRAM_EXECUTABLE)
    CHORUS_CL_CASE(CL_INVALID_KERNEL_NAME)
    CHORUS_CL_CASE(CL_INVALID_KERNEL)
    CHORUS_CL_CASE(CL_INVALID_ARG_INDEX)
    CHORUS_CL_CASE(CL_INVALID_ARG_VALUE)
    CHORUS_CL_CASE(CL_INVALID_ARG_SIZE)
    CHORUS_CL_CASE(CL_INVALID_KERNEL_ARGS)
    CHORUS_CL_CASE(CL_INVALID_WORK_DIMENSION)
    CHORUS_CL_CASE(CL_INVALID_WORK_GROUP_SIZE)
    CHORUS_CL_CASE(CL_INVALID_WORK_ITEM_SIZE)
    CHORUS_CL_CASE(CL_INVALID_GLOBAL_OFFSET)
    CHORUS_CL_CASE(CL_INVALID_EVENT_WAIT_LIST)
    CHORUS_CL_CASE(CL_INVALID_EVENT)
    CHORUS_CL_CASE(CL_INVALID_BUFFER_SIZE)
    CHORUS_CL_CASE(CL_INVALID_GLOBAL_WORK_SIZE)
    CHORUS_CL_CASE(CL_INVALID_PLATFORM)
#undef CHORUS_CL_CASE
    default:
      break;
  }
  return std::string(name) + " (" + std::to_string(code) + ")";
}

}  // namespace chorus::opencl
