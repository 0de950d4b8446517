// error.cpp — thread-local failure messages, status names and logging.
#include "core/error.hpp"

#include "common/numeric.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace chorus::core {
namespace {
thread_local std::string last_message;

int log_threshold() {
  static const int threshold = [] {
    const char* v = std::getenv("CHORUS_LOG");
    if (!v) return 1;
    if (!std::strcmp(v, "error")) return 0;
    if (!std::strcmp(v, "info")) return 2;
    if (!std::strcmp(v, "debug")) return 3;
    return 1;
  }();
  return threshold;
}
}  // namespace

chorus_status fail(chorus_status status, std::string message) {
  last_message = std::move(message);
  return status;
}

chorus_status failf(chorus_status status, const char* format, ...) {
  char buffer[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  return fail(status, buffer);
}

void log(int level, const std::string& message) {
  if (level > log_threshold()) return;
  static const char* names[] = {"error", "warning", "info", "debug"};
  std::fprintf(stderr, "chorus %s: %s\n", names[level < 0 ? 0 : level > 3 ? 3 : level],
               message.c_str());
}

}  // namespace chorus::core

extern "C" {

CHORUS_API const char* chorus_last_error_message(void) {
  return chorus::core::last_message.c_str();
}

CHORUS_API const char* chorus_status_name(chorus_status status) {
  switch (status) {
    case CHORUS_OK: return "CHORUS_OK";
    case CHORUS_ERROR_INVALID_ARGUMENT: return "CHORUS_ERROR_INVALID_ARGUMENT";
    case CHORUS_ERROR_UNSUPPORTED: return "CHORUS_ERROR_UNSUPPORTED";
    case CHORUS_ERROR_UNAVAILABLE: return "CHORUS_ERROR_UNAVAILABLE";
    case CHORUS_ERROR_OUT_OF_MEMORY: return "CHORUS_ERROR_OUT_OF_MEMORY";
    case CHORUS_ERROR_DEVICE: return "CHORUS_ERROR_DEVICE";
    case CHORUS_ERROR_INTERNAL: return "CHORUS_ERROR_INTERNAL";
    case CHORUS_ERROR_NOT_FOUND: return "CHORUS_ERROR_NOT_FOUND";
    case CHORUS_ERROR_ABI_MISMATCH: return "CHORUS_ERROR_ABI_MISMATCH";
    default: return "CHORUS_STATUS_UNKNOWN";
  }
}

#define CHORUS_STR2(x) #x
#define CHORUS_STR(x) CHORUS_STR2(x)
CHORUS_API const char* chorus_version_string(void) {
  return CHORUS_STR(CHORUS_VERSION_MAJOR) "." CHORUS_STR(CHORUS_VERSION_MINOR) "." CHORUS_STR(
      CHORUS_VERSION_PATCH);
}

CHORUS_API size_t chorus_dtype_size(chorus_dtype dtype) { return chorus::numeric::dtype_size(dtype); }

CHORUS_API const char* chorus_dtype_name(chorus_dtype dtype) { return chorus::numeric::dtype_name(dtype); }

}  // extern "C"
