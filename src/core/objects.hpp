// objects.hpp — what the opaque handles of chorus.h are inside libchorus.
//
// Lifetimes are shared: a buffer or queue keeps its device alive, a device
// keeps its plugin (and so the dlopen'ed library) alive, so destroying a
// context or closing a device while objects remain never leaves a dangling
// vtable. The handles themselves are owned by the application.
#pragma once

#include <chorus/backend.h>
#include <chorus/chorus.h>

#include <memory>
#include <string>
#include <vector>

#include "core/dispatch.hpp"

namespace chorus::core {

// One loaded backend (built in or dlopen'ed).
struct Plugin {
  std::string name;
  std::string path;
  void* library = nullptr;  // dlopen handle, null when built in
  const chorus_backend_vtable* vtable = nullptr;
  void* state = nullptr;  // the backend's plugin object
  bool usable = false;
  chorus_status status = CHORUS_OK;
  std::string reason;
  std::vector<chorus_device_info> devices;
  ~Plugin();
};

// An opened device.
struct DeviceState {
  std::shared_ptr<Plugin> plugin;
  void* handle = nullptr;
  chorus_device_info info{};
  PlanCache plans;  // emptied before the device closes: plans hold backend ops
  // CHORUS_COMPOSITES at open: op names ("softmax", "log_softmax") or "all"
  // whose composite is tried before the backend's native op (for testing
  // composites on backends that have native kernels).
  std::vector<std::string> prefer_composite;
  bool prefers_composite(const std::string& name, const std::string& label) const;
  ~DeviceState();
};

const chorus_host_api* host_api();

}  // namespace chorus::core

struct chorus_context_t {
  std::vector<std::shared_ptr<chorus::core::Plugin>> plugins;
  // Flattened device list: (plugin index, device index within the plugin).
  std::vector<std::pair<size_t, uint32_t>> devices;
};

struct chorus_device_t {
  std::shared_ptr<chorus::core::DeviceState> state;
};

struct chorus_queue_t {
  std::shared_ptr<chorus::core::DeviceState> device;
  void* handle = nullptr;
  uint32_t numerics_requested = 0;
  // Temporaries of composites: one backend buffer, grown on demand (ops on
  // one queue run in order, so they can share it).
  void* scratch = nullptr;
  uint64_t scratch_bytes = 0;
  std::shared_ptr<const chorus::core::Plan> last;  // chorus_queue_last_op
};

struct chorus_plan_t {
  std::shared_ptr<chorus::core::DeviceState> device;
  std::shared_ptr<const chorus::core::Plan> plan;
};

struct chorus_buffer_t {
  std::shared_ptr<chorus::core::DeviceState> device;
  void* handle = nullptr;
  uint64_t bytes = 0;
};

struct chorus_event_t {
  std::shared_ptr<chorus::core::DeviceState> device;
  void* handle = nullptr;
  bool recorded = false;
};
