// reference.hpp — the reference backend, the oracle every other backend is
// checked against. libchorus registers vtable() as the built-in "reference"
// backend; the test-double plugin and the unit tests call execute() directly on
// host memory. The op semantics it implements are stated in docs/ops.md.
#pragma once

#include <chorus/backend.h>

#include <string>

namespace chorus::reference {

// The built-in backend's vtable (ABI CHORUS_BACKEND_ABI_VERSION).
const chorus_backend_vtable* vtable();

// Runs one normalised op synchronously. Unlike op_execute, every
// desc->tensors[i].buffer is a host pointer to the *start* of that buffer's
// memory (offsets and strides are applied here), or NULL when absent.
chorus_status execute(const chorus_op_desc* desc);

// Reports a failure through the host api handed to the latest plugin_create
// (only returns status when there has been none) and returns status.
chorus_status report(chorus_status status, const std::string& message);

}  // namespace chorus::reference
