// plugin_helpers.hpp — vtable entries (and the text copy they need) that
// every plugin with a list of device records writes the same way. Plugin is
// the plugin's own state type with a `devices` vector whose records hold a
// chorus_device_info `info`; Device is an open device's state with a
// `mutex` and kernel `stats`; Report is the plugin's own error reporter (it
// adds the plugin's prefix).
#pragma once

#include <chorus/backend.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

namespace chorus::backend_common {

// src into a fixed field of chorus_device_info, cut to fit, NUL-terminated.
template <size_t N>
void copy_text(char (&dst)[N], const std::string& src) {
  std::snprintf(dst, N, "%s", src.c_str());
}

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

using ReportFn = chorus_status (*)(chorus_status status, const std::string& message);

// CHORUS_OK, or CHORUS_ERROR_INVALID_ARGUMENT when index is not below count
// (libchorus never asks for such a device; a direct vtable caller may).
template <ReportFn Report>
chorus_status check_device_index(size_t count, uint32_t index) {
  if (index < count) return CHORUS_OK;
  return Report(CHORUS_ERROR_INVALID_ARGUMENT,
                "device index " + std::to_string(index) + " is out of range");
}

template <typename Plugin, ReportFn Report>
chorus_status plugin_device_info(void* plugin, uint32_t index, chorus_device_info* info) {
  const auto& devices = static_cast<Plugin*>(plugin)->devices;
  if (const chorus_status s = check_device_index<Report>(devices.size(), index); s != CHORUS_OK)
    return s;
  fill_device_info(devices[index].info, info);
  return CHORUS_OK;
}

template <typename Device>
chorus_status device_kernel_stats(void* device, chorus_kernel_stats* stats) {
  auto* d = static_cast<Device*>(device);
  std::lock_guard<std::mutex> lock(d->mutex);
  *stats = d->stats;
  return CHORUS_OK;
}

}  // namespace chorus::backend_common
