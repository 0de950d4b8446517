// reference_backend.cpp — the reference backend's vtable: one device that is
// the host itself, buffers in host memory, a queue that finishes every call
// before returning, prepared ops that are a kept copy of their record, and
// execute() dispatching each op kind to the function its family registered
// (src/ops/<family>/reference.cpp). Kept deliberately boring: all the
// interest is in the ops.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "reference.hpp"

namespace chorus::ops {
void register_all_reference();  // generated: every family's register_reference()
}

namespace chorus::reference {
namespace {

OpFn g_ops[CHORUS_OP_COUNT_] = {};

void ensure_registered() {
  static std::once_flag once;
  std::call_once(once, [] { chorus::ops::register_all_reference(); });
}

// A static rather than per-plugin state so that execute(), which the test
// double calls without a plugin object, can report through it too.
std::atomic<const chorus_host_api*> g_host{nullptr};

struct Plugin {};
struct Device {};
struct Queue {};

struct Buffer {
  void* data;
};

struct Event {
  bool recorded = false;
  std::chrono::steady_clock::time_point time;
};

constexpr size_t kBufferAlignment = 64;

#if defined(__clang__)
constexpr const char* kCompiler = "clang " __clang_version__;
#elif defined(__GNUC__)
constexpr const char* kCompiler = "g++ " __VERSION__;
#else
constexpr const char* kCompiler = "unknown C++ compiler";
#endif

uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size);
}

void copy_name(char (&dst)[CHORUS_NAME_SIZE], const char* src) {
  std::snprintf(dst, sizeof dst, "%s", src);
}

chorus_status plugin_create(const chorus_host_api* host, void** plugin) {
  g_host.store(host);
  *plugin = new (std::nothrow) Plugin;
  if (*plugin == nullptr)
    return report(CHORUS_ERROR_OUT_OF_MEMORY, "reference: plugin_create ran out of memory");
  return CHORUS_OK;
}

void plugin_destroy(void* plugin) {
  delete static_cast<Plugin*>(plugin);
}

uint32_t device_count(void*) {
  return 1;
}

chorus_status check_device_index(const char* function, uint32_t index) {
  if (index == 0) return CHORUS_OK;
  return report(CHORUS_ERROR_INVALID_ARGUMENT, std::string("reference: ") + function + ": index " +
                                                   std::to_string(index) +
                                                   " is out of range; the reference has 1 device");
}

chorus_status device_info(void*, uint32_t index, chorus_device_info* info) {
  if (const chorus_status s = check_device_index("device_info", index); s != CHORUS_OK) return s;
  copy_name(info->description, "chorus reference CPU (float64 accumulation)");
  copy_name(info->vendor, "chorus");
  std::snprintf(info->driver_version, sizeof info->driver_version, "%d.%d.%d", CHORUS_VERSION_MAJOR,
                CHORUS_VERSION_MINOR, CHORUS_VERSION_PATCH);
  copy_name(info->compiler_version, kCompiler);
  info->kind = CHORUS_DEVICE_KIND_REFERENCE;
  info->usable = 1;
  info->reason[0] = '\0';
  info->score = 0;
  info->memory_bytes = physical_memory_bytes();
  info->max_allocation_bytes = info->memory_bytes;
  info->local_memory_bytes = 0;
  info->max_work_group_size = 1;
  info->compute_units = 1;
  info->dtype_mask = 0;
  for (int dtype = CHORUS_DTYPE_F32; dtype < CHORUS_DTYPE_COUNT_; ++dtype)
    info->dtype_mask |= 1u << dtype;
  info->has_fp64 = 1;
  info->has_f16_arithmetic = 0;
  info->has_subgroups = 0;
  info->numerics_supported = CHORUS_NUMERICS_DETERMINISTIC;
  info->numerics_default = CHORUS_NUMERICS_DETERMINISTIC;
  return CHORUS_OK;
}

chorus_status device_open(void*, uint32_t index, void** device) {
  if (const chorus_status s = check_device_index("device_open", index); s != CHORUS_OK) return s;
  *device = new (std::nothrow) Device;
  if (*device == nullptr)
    return report(CHORUS_ERROR_OUT_OF_MEMORY, "reference: device_open ran out of memory");
  return CHORUS_OK;
}

void device_close(void* device) {
  delete static_cast<Device*>(device);
}

chorus_status buffer_create(void*, uint64_t bytes, void** buffer) {
  const uint64_t limit = physical_memory_bytes();
  const auto out_of_memory = [&] {
    return report(CHORUS_ERROR_OUT_OF_MEMORY, "reference: buffer_create cannot allocate " +
                                                  std::to_string(bytes) + " bytes (the host has " +
                                                  std::to_string(limit) + " bytes of memory)");
  };
  if (limit != 0 && bytes > limit) return out_of_memory();  // 0: sysconf could not tell
  // aligned_alloc wants a multiple of the alignment, and a 0-byte buffer still
  // needs a distinct, freeable pointer.
  const uint64_t rounded = (bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
  const size_t size = rounded == 0 ? kBufferAlignment : static_cast<size_t>(rounded);
  void* data = std::aligned_alloc(kBufferAlignment, size);
  if (data == nullptr) return out_of_memory();
  auto* b = new (std::nothrow) Buffer{data};
  if (b == nullptr) {
    std::free(data);
    return out_of_memory();
  }
  *buffer = b;
  return CHORUS_OK;
}

void buffer_destroy(void*, void* buffer) {
  auto* b = static_cast<Buffer*>(buffer);
  if (b == nullptr) return;
  std::free(b->data);
  delete b;
}

unsigned char* bytes_of(void* buffer, uint64_t offset) {
  return static_cast<unsigned char*>(static_cast<Buffer*>(buffer)->data) + offset;
}

chorus_status queue_create(void*, uint32_t, void** queue) {
  // Every request is served with the one mode the reference has: it is at
  // least as precise as any mode, and libchorus refuses the modes it does not
  // list in numerics_supported before getting here.
  *queue = new (std::nothrow) Queue;
  if (*queue == nullptr)
    return report(CHORUS_ERROR_OUT_OF_MEMORY, "reference: queue_create ran out of memory");
  return CHORUS_OK;
}

void queue_destroy(void* queue) {
  delete static_cast<Queue*>(queue);
}
chorus_status queue_sync(void*) {
  return CHORUS_OK;
}
uint32_t queue_numerics(void*) {
  return CHORUS_NUMERICS_DETERMINISTIC;
}

chorus_status buffer_write(void*, void* dst, uint64_t offset, const void* src, uint64_t bytes) {
  if (bytes != 0) std::memcpy(bytes_of(dst, offset), src, bytes);
  return CHORUS_OK;
}

chorus_status buffer_read(void*, void* src, uint64_t offset, void* dst, uint64_t bytes) {
  if (bytes != 0) std::memcpy(dst, bytes_of(src, offset), bytes);
  return CHORUS_OK;
}

chorus_status buffer_copy(void*, void* src, uint64_t src_offset, void* dst, uint64_t dst_offset,
                          uint64_t bytes) {
  // memmove: a copy within one buffer may overlap.
  if (bytes != 0) std::memmove(bytes_of(dst, dst_offset), bytes_of(src, src_offset), bytes);
  return CHORUS_OK;
}

chorus_status buffer_fill(void*, void* dst, uint64_t offset, uint64_t bytes, const void* pattern,
                          uint32_t pattern_size) {
  if (pattern_size != 1 && pattern_size != 2 && pattern_size != 4 && pattern_size != 8)
    return report(CHORUS_ERROR_INVALID_ARGUMENT, "reference: buffer_fill: pattern_size is " +
                                                     std::to_string(pattern_size) +
                                                     "; it must be 1, 2, 4 or 8");
  unsigned char* out = bytes_of(dst, offset);
  // Lay down one pattern, then keep doubling the filled prefix; a tail shorter
  // than the pattern gets the pattern's leading bytes.
  uint64_t filled = bytes < pattern_size ? bytes : pattern_size;
  std::memcpy(out, pattern, filled);
  while (filled < bytes) {
    const uint64_t chunk = filled < bytes - filled ? filled : bytes - filled;
    std::memcpy(out + filled, out, chunk);
    filled += chunk;
  }
  return CHORUS_OK;
}

chorus_status event_create(void*, void** event) {
  *event = new (std::nothrow) Event;
  if (*event == nullptr)
    return report(CHORUS_ERROR_OUT_OF_MEMORY, "reference: event_create ran out of memory");
  return CHORUS_OK;
}

void event_destroy(void* event) {
  delete static_cast<Event*>(event);
}

chorus_status event_record(void* event, void*) {
  // The queue is synchronous, so everything before this call has finished.
  auto* e = static_cast<Event*>(event);
  e->time = std::chrono::steady_clock::now();
  e->recorded = true;
  return CHORUS_OK;
}

chorus_status event_wait(void*) {
  return CHORUS_OK;
}

chorus_status event_elapsed_ms(void* start, void* end, double* milliseconds) {
  const auto* s = static_cast<const Event*>(start);
  const auto* e = static_cast<const Event*>(end);
  if (!s->recorded || !e->recorded)
    return report(CHORUS_ERROR_INVALID_ARGUMENT,
                  std::string("reference: event_elapsed_ms: the ") +
                      (s->recorded ? "end" : "start") +
                      " event was never recorded; record it on a queue first");
  *milliseconds = std::chrono::duration<double, std::milli>(e->time - s->time).count();
  return CHORUS_OK;
}

chorus_status op_supports(void*, const chorus_op_record* op) {
  ensure_registered();
  const int kind = op->kind;
  if (kind > CHORUS_OP_INVALID && kind < CHORUS_OP_COUNT_ && g_ops[kind]) return CHORUS_OK;
  return report(CHORUS_ERROR_UNSUPPORTED,
                "reference: op kind " + std::to_string(kind) + " is not one the reference knows");
}

chorus_status op_create(void* device, const chorus_op_record* op, void** prepared) {
  if (const chorus_status s = op_supports(device, op); s != CHORUS_OK) return s;
  if (op->tensor_count > kMaxOpTensors)
    return report(CHORUS_ERROR_UNSUPPORTED, "reference: more than " +
                                                std::to_string(kMaxOpTensors) + " tensors");
  *prepared = new (std::nothrow) KeptOp(*op);
  if (*prepared == nullptr)
    return report(CHORUS_ERROR_OUT_OF_MEMORY, "reference: op_create ran out of memory");
  return CHORUS_OK;
}

chorus_status op_execute(void*, void* prepared, const chorus_backend_binding* bindings,
                         uint32_t) {
  const auto* kept = static_cast<const KeptOp*>(prepared);
  return execute(kept->bind(bindings, [](void* buffer) { return static_cast<Buffer*>(buffer)->data; }));
}

void op_destroy(void*, void* prepared) {
  delete static_cast<KeptOp*>(prepared);
}

}  // namespace

chorus_status report(chorus_status status, const std::string& message) {
  const chorus_host_api* host = g_host.load();
  if (host != nullptr && host->set_error != nullptr)
    return host->set_error(status, message.c_str());
  return status;
}

void register_op(chorus_op_kind kind, OpFn fn) {
  const int k = kind;
  if (k > CHORUS_OP_INVALID && k < CHORUS_OP_COUNT_) g_ops[k] = fn;
}

chorus_status execute(const BoundOp& op) {
  ensure_registered();
  const int kind = op.kind;
  if (kind <= CHORUS_OP_INVALID || kind >= CHORUS_OP_COUNT_ || !g_ops[kind])
    return report(CHORUS_ERROR_UNSUPPORTED,
                  "reference: op kind " + std::to_string(kind) + " is not one the reference knows");
  try {
    return g_ops[kind](op);
  } catch (const std::bad_alloc&) {
    return report(CHORUS_ERROR_OUT_OF_MEMORY, "reference: op kind " + std::to_string(kind) +
                                                  " ran out of host memory for its scratch space");
  }
}

const chorus_backend_vtable* vtable() {
  static const chorus_backend_vtable table = {
      .abi_version = CHORUS_BACKEND_ABI_VERSION,
      .struct_size = sizeof(chorus_backend_vtable),
      .name = "reference",
      .plugin_create = plugin_create,
      .plugin_destroy = plugin_destroy,
      .device_count = device_count,
      .device_info = device_info,
      .device_open = device_open,
      .device_close = device_close,
      .buffer_create = buffer_create,
      .buffer_destroy = buffer_destroy,
      .queue_create = queue_create,
      .queue_destroy = queue_destroy,
      .queue_sync = queue_sync,
      .queue_numerics = queue_numerics,
      .buffer_write = buffer_write,
      .buffer_read = buffer_read,
      .buffer_copy = buffer_copy,
      .buffer_fill = buffer_fill,
      .event_create = event_create,
      .event_destroy = event_destroy,
      .event_record = event_record,
      .event_wait = event_wait,
      .event_elapsed_ms = event_elapsed_ms,
      .op_supports = op_supports,
      .op_create = op_create,
      .op_execute = op_execute,
      .op_destroy = op_destroy,
      .device_kernel_stats = nullptr,  // nothing is compiled at run time
  };
  return &table;
}

}  // namespace chorus::reference
