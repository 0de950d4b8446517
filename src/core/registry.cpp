// registry.cpp — the context: finds plugins at run time, loads each with
// RTLD_LOCAL, checks its ABI version, lists devices with the reason any of
// them is unusable, and opens devices by name ("backend:index", "best").
//
// A plugin that fails in any way is recorded with its reason and affects
// nothing else; a device the user named that cannot open is an error, never a
// silent fallback to another device.
#include <dlfcn.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "backends/reference/reference.hpp"
#include "core/error.hpp"
#include "core/objects.hpp"

namespace fs = std::filesystem;
using chorus::core::fail;
using chorus::core::failf;

namespace chorus::core {

Plugin::~Plugin() {
  if (vtable && state && vtable->plugin_destroy) vtable->plugin_destroy(state);
  if (library) dlclose(library);
}

DeviceState::~DeviceState() {
  plans.clear();  // the backend ops they hold are destroyed with the device open
  if (handle && plugin && plugin->vtable->device_close) plugin->vtable->device_close(handle);
}

namespace {

chorus_status host_set_error(chorus_status status, const char* message) {
  return fail(status, message ? message : "");
}

void host_log(int level, const char* message) {
  log(level, message ? message : "");
}

chorus_status host_cache_dir(char* path, size_t size) {
  return chorus_cache_dir(path, size);
}

const chorus_host_api host = {sizeof(chorus_host_api), CHORUS_BACKEND_ABI_VERSION, host_set_error,
                              host_log, host_cache_dir};

template <size_t N>
void copy_string(char (&dst)[N], const std::string& src) {
  std::snprintf(dst, N, "%s", src.c_str());
}

// The folder libchorus.so was loaded from.
std::string library_folder() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&chorus_context_create), &info) && info.dli_fname) {
    return fs::path(info.dli_fname).parent_path().string();
  }
  return {};
}

// The non-empty items of a list separated by any of `separators`.
std::vector<std::string> split_list(const char* list, const char* separators) {
  std::vector<std::string> out;
  if (!list) return out;
  const std::string s(list);
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find_first_of(separators, start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Asks a plugin for its devices; marks it unusable if it cannot start.
void start_plugin(Plugin& plugin) {
  const chorus_backend_vtable* vt = plugin.vtable;
  chorus::core::fail(CHORUS_OK, "");
  chorus_status status = vt->plugin_create(&host, &plugin.state);
  if (status != CHORUS_OK) {
    plugin.usable = false;
    plugin.status = status;
    plugin.reason = chorus_last_error_message();
    if (plugin.reason.empty()) plugin.reason = chorus_status_name(status);
    plugin.state = nullptr;
    return;
  }
  plugin.usable = true;
  const uint32_t count = vt->device_count(plugin.state);
  for (uint32_t i = 0; i < count; ++i) {
    chorus_device_info info{};
    status = vt->device_info(plugin.state, i, &info);
    if (status != CHORUS_OK) {
      info.usable = 0;
      copy_string(info.reason, chorus_last_error_message());
    }
    copy_string(info.backend, plugin.name);
    copy_string(info.name, plugin.name + ":" + std::to_string(i));
    info.index = i;
    plugin.devices.push_back(info);
  }
}

// Loads one libchorus-<name>.so. Always returns a Plugin, usable or not.
std::shared_ptr<Plugin> load_plugin(const fs::path& file, const std::string& name) {
  auto plugin = std::make_shared<Plugin>();
  plugin->name = name;
  plugin->path = file.string();
  dlerror();
  plugin->library = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!plugin->library) {
    const char* why = dlerror();
    plugin->status = CHORUS_ERROR_UNAVAILABLE;
    plugin->reason = std::string("cannot load: ") + (why ? why : "unknown dlopen error");
    return plugin;
  }
  auto entry = reinterpret_cast<chorus_backend_entry_fn>(
      dlsym(plugin->library, CHORUS_BACKEND_ENTRY_SYMBOL));
  if (!entry) {
    plugin->status = CHORUS_ERROR_ABI_MISMATCH;
    plugin->reason = "no " CHORUS_BACKEND_ENTRY_SYMBOL " symbol: not a chorus plugin";
    return plugin;
  }
  const chorus_backend_vtable* vt = entry(CHORUS_BACKEND_ABI_VERSION);
  const auto version_text = [](uint32_t v) {
    return std::to_string(CHORUS_BACKEND_ABI_MAJOR_OF(v)) + "." +
           std::to_string(CHORUS_BACKEND_ABI_MINOR_OF(v));
  };
  const std::string ours = version_text(CHORUS_BACKEND_ABI_VERSION);
  if (!vt) {
    // Which version is it? A plugin of ABI 2 or later describes itself for
    // version 0; one of ABI 1 answered only its own number.
    const chorus_backend_vtable* self = entry(0);
    if (!self) self = entry(1);
    plugin->status = CHORUS_ERROR_ABI_MISMATCH;
    if (self && self->abi_version == 1) {
      plugin->reason = "plugin ABI version 1 but this libchorus needs version " + ours +
                       " (major " + std::to_string(CHORUS_BACKEND_ABI_MAJOR) +
                       "); rebuild the plugin";
    } else if (self) {
      plugin->reason = "plugin ABI version " + version_text(self->abi_version) +
                       " but this libchorus needs version " + ours + " (major " +
                       std::to_string(CHORUS_BACKEND_ABI_MAJOR) + "); rebuild the plugin";
    } else {
      plugin->reason = "the plugin does not serve plugin ABI version " + ours +
                       " that this libchorus needs, nor says which version it is";
    }
    return plugin;
  }
  if (CHORUS_BACKEND_ABI_MAJOR_OF(vt->abi_version) != CHORUS_BACKEND_ABI_MAJOR) {
    plugin->status = CHORUS_ERROR_ABI_MISMATCH;
    plugin->reason = "plugin ABI version " + version_text(vt->abi_version) +
                     " but this libchorus needs version " + ours + " (major " +
                     std::to_string(CHORUS_BACKEND_ABI_MAJOR) + "); rebuild the plugin";
    return plugin;
  }
  // Every entry up to op_destroy exists since 2.0; later ones are checked
  // for before use.
  if (vt->struct_size < offsetof(chorus_backend_vtable, device_kernel_stats)) {
    plugin->status = CHORUS_ERROR_ABI_MISMATCH;
    plugin->reason = "plugin vtable is " + std::to_string(vt->struct_size) +
                     " bytes, smaller than the " +
                     std::to_string(offsetof(chorus_backend_vtable, device_kernel_stats)) +
                     " every ABI " + std::to_string(CHORUS_BACKEND_ABI_MAJOR) + " plugin has";
    return plugin;
  }
  const void* const required[] = {
      reinterpret_cast<const void*>(vt->plugin_create), reinterpret_cast<const void*>(vt->plugin_destroy),
      reinterpret_cast<const void*>(vt->device_count),  reinterpret_cast<const void*>(vt->device_info),
      reinterpret_cast<const void*>(vt->device_open),   reinterpret_cast<const void*>(vt->device_close),
      reinterpret_cast<const void*>(vt->buffer_create), reinterpret_cast<const void*>(vt->buffer_destroy),
      reinterpret_cast<const void*>(vt->queue_create),  reinterpret_cast<const void*>(vt->queue_destroy),
      reinterpret_cast<const void*>(vt->queue_sync),    reinterpret_cast<const void*>(vt->queue_numerics),
      reinterpret_cast<const void*>(vt->buffer_write),  reinterpret_cast<const void*>(vt->buffer_read),
      reinterpret_cast<const void*>(vt->buffer_copy),   reinterpret_cast<const void*>(vt->buffer_fill),
      reinterpret_cast<const void*>(vt->event_create),  reinterpret_cast<const void*>(vt->event_destroy),
      reinterpret_cast<const void*>(vt->event_record),  reinterpret_cast<const void*>(vt->event_wait),
      reinterpret_cast<const void*>(vt->event_elapsed_ms), reinterpret_cast<const void*>(vt->op_supports),
      reinterpret_cast<const void*>(vt->op_create),     reinterpret_cast<const void*>(vt->op_execute),
      reinterpret_cast<const void*>(vt->op_destroy)};
  for (const void* function : required) {
    if (function) continue;
    plugin->status = CHORUS_ERROR_ABI_MISMATCH;
    plugin->reason = "plugin vtable leaves an entry every ABI " +
                     std::to_string(CHORUS_BACKEND_ABI_MAJOR) + " plugin must have NULL";
    return plugin;
  }
  if (!vt->name || name != vt->name) {
    plugin->status = CHORUS_ERROR_ABI_MISMATCH;
    plugin->reason = std::string("plugin calls itself '") + (vt->name ? vt->name : "(null)") +
                     "' but its file name says '" + name + "'";
    return plugin;
  }
  plugin->vtable = vt;
  start_plugin(*plugin);
  return plugin;
}

bool plugin_name_from_file(const fs::path& file, std::string* name) {
  const std::string base = file.filename().string();
  const std::string prefix = "libchorus-", suffix = ".so";
  if (base.size() <= prefix.size() + suffix.size()) return false;
  if (base.compare(0, prefix.size(), prefix) != 0) return false;
  if (base.compare(base.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  *name = base.substr(prefix.size(), base.size() - prefix.size() - suffix.size());
  return true;
}

// CHORUS_DISABLE_PLUGINS=opencl,hip: plugins not to load (their vendor
// libraries then never enter the process).
bool disabled(const std::string& name) {
  const auto names = split_list(std::getenv("CHORUS_DISABLE_PLUGINS"), ", :");
  return std::find(names.begin(), names.end(), name) != names.end();
}

void scan_folder(chorus_context_t* ctx, const std::string& folder) {
  std::error_code ec;
  if (folder.empty() || !fs::is_directory(folder, ec)) return;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(folder, ec)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());  // a stable, reproducible order
  for (const auto& file : files) {
    std::string name;
    if (!plugin_name_from_file(file, &name)) continue;
    const bool seen = std::any_of(ctx->plugins.begin(), ctx->plugins.end(),
                                  [&](const auto& p) { return p->name == name; });
    if (seen) {
      log(2,
          "plugin " + file.string() + " ignored: a plugin named '" + name + "' was found earlier");
      continue;
    }
    if (disabled(name)) {
      // Listed, never loaded: its libraries stay out of the process.
      auto off = std::make_shared<Plugin>();
      off->name = name;
      off->path = file.string();
      off->status = CHORUS_ERROR_UNAVAILABLE;
      off->reason = "disabled by CHORUS_DISABLE_PLUGINS; not loaded";
      ctx->plugins.push_back(off);
      continue;
    }
    ctx->plugins.push_back(load_plugin(file, name));
  }
}

}  // namespace

const chorus_host_api* host_api() {
  return &host;
}

}  // namespace chorus::core

using namespace chorus::core;

extern "C" {

CHORUS_API chorus_status chorus_context_create(const chorus_context_desc* desc,
                                               chorus_context* out) {
  if (!out) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "chorus_context_create: out is NULL");
  *out = nullptr;
  if (desc && desc->struct_size < sizeof(chorus_context_desc))
    return fail(CHORUS_ERROR_INVALID_ARGUMENT,
                "chorus_context_create: desc->struct_size is smaller than "
                "sizeof(chorus_context_desc)");
  auto ctx = std::make_unique<chorus_context_t>();

  auto reference = std::make_shared<Plugin>();
  reference->name = "reference";
  reference->path = "(built in)";
  reference->vtable = chorus::reference::vtable();
  start_plugin(*reference);
  ctx->plugins.push_back(reference);

  const std::string own = library_folder();
  scan_folder(ctx.get(), own);
  if (!own.empty()) scan_folder(ctx.get(), own + "/chorus");
  for (const auto& folder : split_list(std::getenv("CHORUS_PLUGIN_PATH"), ":"))
    scan_folder(ctx.get(), folder);
  if (desc)
    for (const auto& folder : split_list(desc->plugin_path, ":")) scan_folder(ctx.get(), folder);

  for (size_t p = 0; p < ctx->plugins.size(); ++p)
    for (uint32_t d = 0; d < ctx->plugins[p]->devices.size(); ++d) ctx->devices.push_back({p, d});
  *out = ctx.release();
  return CHORUS_OK;
}

CHORUS_API void chorus_context_destroy(chorus_context context) {
  delete context;
}

CHORUS_API chorus_status chorus_context_plugin_count(chorus_context context, uint32_t* count) {
  if (!context) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "plugin_count: context is NULL");
  if (!count) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "plugin_count: count is NULL");
  *count = static_cast<uint32_t>(context->plugins.size());
  return CHORUS_OK;
}

CHORUS_API chorus_status chorus_context_plugin_info(chorus_context context, uint32_t index,
                                                    chorus_plugin_info* info) {
  if (!context) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "plugin_info: context is NULL");
  if (!info) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "plugin_info: info is NULL");
  if (index >= context->plugins.size())
    return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                 "plugin_info: index %u is out of range (%zu plugins)", index,
                 context->plugins.size());
  const Plugin& p = *context->plugins[index];
  *info = chorus_plugin_info{};
  copy_string(info->name, p.name);
  copy_string(info->path, p.path);
  info->usable = p.usable ? 1 : 0;
  info->status = p.status;
  copy_string(info->reason, p.reason);
  info->device_count = static_cast<uint32_t>(p.devices.size());
  return CHORUS_OK;
}

CHORUS_API chorus_status chorus_context_device_count(chorus_context context, uint32_t* count) {
  if (!context) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "device_count: context is NULL");
  if (!count) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "device_count: count is NULL");
  *count = static_cast<uint32_t>(context->devices.size());
  return CHORUS_OK;
}

CHORUS_API chorus_status chorus_context_device_info(chorus_context context, uint32_t index,
                                                    chorus_device_info* info) {
  if (!context) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "device_info: context is NULL");
  if (!info) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "device_info: info is NULL");
  if (index >= context->devices.size())
    return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                 "device_info: index %u is out of range (%zu devices)", index,
                 context->devices.size());
  const auto [p, d] = context->devices[index];
  *info = context->plugins[p]->devices[d];
  return CHORUS_OK;
}

CHORUS_API chorus_status chorus_device_open(chorus_context context, const char* name,
                                            chorus_device* out) {
  if (!context) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "device_open: context is NULL");
  if (!out) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "device_open: out is NULL");
  *out = nullptr;
  std::string wanted = name ? name : "";
  if (wanted.empty()) {
    const char* env = std::getenv("CHORUS_DEVICE");
    wanted = env && *env ? env : "best";
  }

  const chorus_device_info* chosen = nullptr;
  std::shared_ptr<Plugin> plugin;
  if (wanted == "best") {
    for (const auto& [p, d] : context->devices) {
      const chorus_device_info& info = context->plugins[p]->devices[d];
      if (info.usable && (!chosen || info.score > chosen->score)) {
        chosen = &info;
        plugin = context->plugins[p];
      }
    }
    if (!chosen) return fail(CHORUS_ERROR_UNAVAILABLE, "device_open: no usable device for 'best'");
  } else {
    // "backend:index"; a bare backend name means its device 0.
    std::string backend = wanted;
    uint32_t index = 0;
    const size_t colon = wanted.rfind(':');
    if (colon != std::string::npos) {
      backend = wanted.substr(0, colon);
      const std::string digits = wanted.substr(colon + 1);
      char* end = nullptr;
      const unsigned long v = std::strtoul(digits.c_str(), &end, 10);
      if (digits.empty() || *end != '\0' || v > 0xffffffffUL)
        return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                     "device_open: name '%s' is not of the form backend:index", wanted.c_str());
      index = static_cast<uint32_t>(v);
    }
    for (const auto& candidate : context->plugins) {
      if (candidate->name != backend) continue;
      if (!candidate->usable)
        return failf(candidate->status == CHORUS_OK ? CHORUS_ERROR_UNAVAILABLE : candidate->status,
                     "device_open: backend '%s' is unusable: %s", backend.c_str(),
                     candidate->reason.c_str());
      if (index >= candidate->devices.size())
        return failf(CHORUS_ERROR_NOT_FOUND,
                     "device_open: backend '%s' has %zu device(s), no index %u", backend.c_str(),
                     candidate->devices.size(), index);
      chosen = &candidate->devices[index];
      plugin = candidate;
      break;
    }
    if (!chosen) {
      std::string known;
      for (const auto& p : context->plugins) known += (known.empty() ? "" : ", ") + p->name;
      return failf(CHORUS_ERROR_NOT_FOUND, "device_open: no backend named '%s' (found: %s)",
                   backend.c_str(), known.c_str());
    }
    if (!chosen->usable)
      return failf(CHORUS_ERROR_UNAVAILABLE, "device_open: %s is unusable: %s", chosen->name,
                   chosen->reason);
  }

  auto state = std::make_shared<DeviceState>();
  state->plugin = plugin;
  state->info = *chosen;
  state->prefer_composite = split_list(std::getenv("CHORUS_COMPOSITES"), ", :");
  fail(CHORUS_OK, "");
  const chorus_status status =
      plugin->vtable->device_open(plugin->state, chosen->index, &state->handle);
  if (status != CHORUS_OK) {
    state->handle = nullptr;
    const std::string why = chorus_last_error_message();
    return failf(status, "device_open: %s failed to open: %s", chosen->name, why.c_str());
  }
  *out = new chorus_device_t{std::move(state)};
  return CHORUS_OK;
}

CHORUS_API void chorus_device_close(chorus_device device) {
  delete device;
}

CHORUS_API chorus_status chorus_device_info_get(chorus_device device, chorus_device_info* info) {
  if (!device) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "device_info_get: device is NULL");
  if (!info) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "device_info_get: info is NULL");
  *info = device->state->info;
  return CHORUS_OK;
}

CHORUS_API chorus_status chorus_device_kernel_stats(chorus_device device,
                                                    chorus_kernel_stats* stats) {
  if (!device) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "device_kernel_stats: device is NULL");
  if (!stats) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "device_kernel_stats: stats is NULL");
  *stats = chorus_kernel_stats{};
  const auto* vt = device->state->plugin->vtable;
  if (vt->struct_size < offsetof(chorus_backend_vtable, device_kernel_stats) + sizeof(void*) ||
      !vt->device_kernel_stats)
    return CHORUS_OK;
  return vt->device_kernel_stats(device->state->handle, stats);
}

}  // extern "C"
