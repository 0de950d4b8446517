// plugin_helpers.hpp — vtable entries that every plugin with a list of
// device records writes the same way. Plugin is the plugin's own state type
// with a `devices` vector whose records hold a chorus_device_info `info`.
#pragma once

#include <chorus/backend.h>

#include <cstdint>
#include <cstring>

namespace chorus::backend_common {

template <typename Plugin>
void destroy_plugin(void* plugin) {
  delete static_cast<Plugin*>(plugin);
}

template <typename Plugin>
uint32_t plugin_device_count(void* plugin) {
  return static_cast<uint32_t>(static_cast<Plugin*>(plugin)->devices.size());
}

// Copies a device's record into *info, keeping what libchorus owns there
// (name, backend and index).
inline void fill_device_info(const chorus_device_info& mine, chorus_device_info* info) {
  chorus_device_info out = mine;
  std::memcpy(out.name, info->name, sizeof out.name);
  std::memcpy(out.backend, info->backend, sizeof out.backend);
  out.index = info->index;
  *info = out;
}

}  // namespace chorus::backend_common
