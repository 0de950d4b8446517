// reference.hpp — the reference backend, the oracle every other backend is
// checked against. libchorus registers vtable() as the built-in "reference"
// backend; the test-double plugin and the unit tests call execute() directly
// on host memory. Each op family's arithmetic lives with the family
// (src/ops/<family>/reference.cpp) and registers itself here; the semantics it
// implements are stated in docs/ops.md.
#pragma once

#include <chorus/backend.h>

#include <string>

#include "common/op_view.hpp"

namespace chorus::reference {

// The built-in backend's vtable (ABI CHORUS_BACKEND_ABI_VERSION).
const chorus_backend_vtable* vtable();

// One op kind's arithmetic, on a normalised op whose tensors' buffers are
// host pointers to the *start* of their memory (offsets and strides are
// applied by the function).
using OpFn = chorus_status (*)(const BoundOp& op);
// Called by the families' register_reference() (once per kind).
void register_op(chorus_op_kind kind, OpFn fn);

// Runs one normalised op synchronously: CHORUS_ERROR_UNSUPPORTED for a kind
// no family registered.
chorus_status execute(const BoundOp& op);

// Reports a failure through the host api handed to the latest plugin_create
// (only returns status when there has been none) and returns status.
chorus_status report(chorus_status status, const std::string& message);

}  // namespace chorus::reference
