// badabi.cpp — a plugin built only for tests: it was "built" for a future
// major version of the plugin ABI, so libchorus must list it as unusable with
// both version numbers in the reason, and carry on with every other backend.
#include <chorus/backend.h>

namespace {
const chorus_backend_vtable future_vtable = [] {
  chorus_backend_vtable v{};
  v.abi_version = (CHORUS_BACKEND_ABI_MAJOR + 1u) << 16;  // "3.0"
  v.struct_size = sizeof(chorus_backend_vtable);
  v.name = "badabi";
  return v;
}();
}  // namespace

// Answers any request with its own (wrong) version, as a careless plugin might.
extern "C" __attribute__((visibility("default"))) const chorus_backend_vtable* chorus_backend_entry(
    uint32_t /*abi_version*/) {
  return &future_vtable;
}
