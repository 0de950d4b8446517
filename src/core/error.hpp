// error.hpp — the failure messages behind chorus_last_error_message(): one
// per thread, set by libchorus and by plugins (through the host api).
#pragma once

#include <chorus/chorus.h>

#include <string>

namespace chorus::core {

// Records message for this thread and returns status, so a failing check
// reads `return fail(CHORUS_ERROR_INVALID_ARGUMENT, "gemm: a is NULL");`.
chorus_status fail(chorus_status status, std::string message);

// printf-style variant.
chorus_status failf(chorus_status status, const char* format, ...)
    __attribute__((format(printf, 2, 3)));

// Log through CHORUS_LOG (error|warning|info|debug; default warning).
void log(int level, const std::string& message);

}  // namespace chorus::core
