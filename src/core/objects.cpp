// objects.cpp — queues, buffers, events and the kernel-cache folder: thin,
// checked forwards to the device's backend.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "core/error.hpp"
#include "core/objects.hpp"

namespace fs = std::filesystem;
using chorus::core::fail;
using chorus::core::failf;

namespace {

const chorus_backend_vtable& vt(const std::shared_ptr<chorus::core::DeviceState>& device) {
  return *device->plugin->vtable;
}

// Runs a backend call with a clean message slot, so a backend that fails
// without a message still yields a sentence naming the call.
template <typename Call>
chorus_status forward(const char* what, Call&& call) {
  fail(CHORUS_OK, "");
  const chorus_status status = call();
  if (status != CHORUS_OK && chorus_last_error_message()[0] == '\0')
    return failf(status, "%s: the backend failed with %s", what, chorus_status_name(status));
  return status;
}

chorus_status check_range(const char* what, const char* arg, chorus_buffer buffer, uint64_t offset,
                          uint64_t bytes) {
  if (offset > buffer->bytes || bytes > buffer->bytes - offset)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                 "%s: %s range [%llu, %llu) lies outside its %llu-byte buffer", what, arg,
                 static_cast<unsigned long long>(offset),
                 static_cast<unsigned long long>(offset + bytes),
                 static_cast<unsigned long long>(buffer->bytes));
  return CHORUS_OK;
}

chorus_status check_same_device(const char* what, const char* arg, chorus_queue queue,
                                chorus_buffer buffer) {
  if (queue->device != buffer->device)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s lives on %s but the queue is on %s", what,
                 arg, buffer->device->info.name, queue->device->info.name);
  return CHORUS_OK;
}

}  // namespace

extern "C" {

CHORUS_API chorus_status chorus_queue_create(chorus_device device, const chorus_queue_desc* desc,
                                             chorus_queue* out) {
  if (!out) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "queue_create: out is NULL");
  *out = nullptr;
  if (!device) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "queue_create: device is NULL");
  if (desc && desc->struct_size < sizeof(chorus_queue_desc))
    return fail(CHORUS_ERROR_INVALID_ARGUMENT,
                "queue_create: desc->struct_size is smaller than sizeof(chorus_queue_desc)");
  const uint32_t numerics = desc ? desc->numerics : 0;
  const uint32_t known = CHORUS_NUMERICS_FAST_MATH | CHORUS_NUMERICS_ALLOW_TF32 |
                         CHORUS_NUMERICS_DETERMINISTIC | CHORUS_NUMERICS_FLUSH_TO_ZERO;
  if (numerics & ~known)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "queue_create: desc->numerics has unknown bits 0x%x",
                 numerics & ~known);
  // fast_math, tf32 and flush-to-zero are permissions a backend may ignore;
  // determinism is a promise, so a device that cannot keep it refuses.
  if ((numerics & CHORUS_NUMERICS_DETERMINISTIC) &&
      !(device->state->info.numerics_supported & CHORUS_NUMERICS_DETERMINISTIC))
    return failf(CHORUS_ERROR_UNSUPPORTED,
                 "queue_create: %s cannot promise deterministic results", device->state->info.name);
  auto queue = std::make_unique<chorus_queue_t>();
  queue->device = device->state;
  queue->numerics_requested = numerics;
  const chorus_status status = forward("queue_create", [&] {
    return vt(device->state).queue_create(device->state->handle, numerics, &queue->handle);
  });
  if (status != CHORUS_OK) return status;
  *out = queue.release();
  return CHORUS_OK;
}

CHORUS_API void chorus_queue_destroy(chorus_queue queue) {
  if (!queue) return;
  if (queue->scratch) {
    // Composites' temporaries: their last users must finish first.
    if (queue->handle) vt(queue->device).queue_sync(queue->handle);
    vt(queue->device).buffer_destroy(queue->device->handle, queue->scratch);
  }
  if (queue->handle) vt(queue->device).queue_destroy(queue->handle);
  delete queue;
}

CHORUS_API chorus_status chorus_queue_sync(chorus_queue queue) {
  if (!queue) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "queue_sync: queue is NULL");
  return forward("queue_sync", [&] { return vt(queue->device).queue_sync(queue->handle); });
}

CHORUS_API chorus_status chorus_queue_numerics(chorus_queue queue, uint32_t* numerics) {
  if (!queue) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "queue_numerics: queue is NULL");
  if (!numerics) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "queue_numerics: numerics is NULL");
  *numerics = vt(queue->device).queue_numerics(queue->handle);
  return CHORUS_OK;
}

CHORUS_API chorus_status chorus_buffer_create(chorus_device device, uint64_t bytes,
                                              chorus_buffer* out) {
  if (!out) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "buffer_create: out is NULL");
  *out = nullptr;
  if (!device) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "buffer_create: device is NULL");
  const chorus_device_info& info = device->state->info;
  const uint64_t limit = info.max_allocation_bytes ? info.max_allocation_bytes : info.memory_bytes;
  if (limit && bytes > limit)
    return failf(CHORUS_ERROR_OUT_OF_MEMORY,
                 "buffer_create: %llu bytes exceed the largest allocation %s allows (%llu bytes)",
                 static_cast<unsigned long long>(bytes), info.name,
                 static_cast<unsigned long long>(limit));
  auto buffer = std::make_unique<chorus_buffer_t>();
  buffer->device = device->state;
  buffer->bytes = bytes;
  const chorus_status status = forward("buffer_create", [&] {
    return vt(device->state).buffer_create(device->state->handle, bytes, &buffer->handle);
  });
  if (status != CHORUS_OK) return status;
  *out = buffer.release();
  return CHORUS_OK;
}

CHORUS_API void chorus_buffer_destroy(chorus_buffer buffer) {
  if (!buffer) return;
  if (buffer->handle) vt(buffer->device).buffer_destroy(buffer->device->handle, buffer->handle);
  delete buffer;
}

CHORUS_API uint64_t chorus_buffer_size(chorus_buffer buffer) { return buffer ? buffer->bytes : 0; }

CHORUS_API chorus_status chorus_buffer_write(chorus_queue queue, chorus_buffer dst, uint64_t offset,
                                             const void* src, uint64_t bytes) {
  if (!queue) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "buffer_write: queue is NULL");
  if (!dst) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "buffer_write: dst is NULL");
  if (!src && bytes) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "buffer_write: src is NULL");
  if (auto s = check_same_device("buffer_write", "dst", queue, dst)) return s;
  if (auto s = check_range("buffer_write", "dst", dst, offset, bytes)) return s;
  if (!bytes) return CHORUS_OK;
  return forward("buffer_write", [&] {
    return vt(queue->device).buffer_write(queue->handle, dst->handle, offset, src, bytes);
  });
}

CHORUS_API chorus_status chorus_buffer_read(chorus_queue queue, chorus_buffer src, uint64_t offset,
                                            void* dst, uint64_t bytes) {
  if (!queue) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "buffer_read: queue is NULL");
  if (!src) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "buffer_read: src is NULL");
  if (!dst && bytes) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "buffer_read: dst is NULL");
  if (auto s = check_same_device("buffer_read", "src", queue, src)) return s;
  if (auto s = check_range("buffer_read", "src", src, offset, bytes)) return s;
  if (!bytes) return CHORUS_OK;
  return forward("buffer_read", [&] {
    return vt(queue->device).buffer_read(queue->handle, src->handle, offset, dst, bytes);
  });
}

CHORUS_API chorus_status chorus_buffer_copy(chorus_queue queue, chorus_buffer src,
                                            uint64_t src_offset, chorus_buffer dst,
                                            uint64_t dst_offset, uint64_t bytes) {
  if (!queue) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "buffer_copy: queue is NULL");
  if (!src) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "buffer_copy: src is NULL");
  if (!dst) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "buffer_copy: dst is NULL");
  if (auto s = check_same_device("buffer_copy", "src", queue, src)) return s;
  if (auto s = check_same_device("buffer_copy", "dst", queue, dst)) return s;
  if (auto s = check_range("buffer_copy", "src", src, src_offset, bytes)) return s;
  if (auto s = check_range("buffer_copy", "dst", dst, dst_offset, bytes)) return s;
  if (src == dst && src_offset < dst_offset + bytes && dst_offset < src_offset + bytes &&
      src_offset != dst_offset)
    return fail(CHORUS_ERROR_INVALID_ARGUMENT,
                "buffer_copy: src and dst ranges overlap within one buffer");
  if (!bytes || (src == dst && src_offset == dst_offset)) return CHORUS_OK;
  return forward("buffer_copy", [&] {
    return vt(queue->device).buffer_copy(queue->handle, src->handle, src_offset, dst->handle,
                                         dst_offset, bytes);
  });
}

CHORUS_API chorus_status chorus_buffer_fill(chorus_queue queue, chorus_buffer dst, uint64_t offset,
                                            uint64_t bytes, const void* pattern,
                                            uint32_t pattern_size) {
  if (!queue) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "buffer_fill: queue is NULL");
  if (!dst) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "buffer_fill: dst is NULL");
  if (!pattern) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "buffer_fill: pattern is NULL");
  if (pattern_size != 1 && pattern_size != 2 && pattern_size != 4 && pattern_size != 8)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                 "buffer_fill: pattern_size is %u; it must be 1, 2, 4 or 8", pattern_size);
  if (offset % pattern_size || bytes % pattern_size)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                 "buffer_fill: offset and bytes must be multiples of pattern_size %u", pattern_size);
  if (auto s = check_same_device("buffer_fill", "dst", queue, dst)) return s;
  if (auto s = check_range("buffer_fill", "dst", dst, offset, bytes)) return s;
  if (!bytes) return CHORUS_OK;
  return forward("buffer_fill", [&] {
    return vt(queue->device).buffer_fill(queue->handle, dst->handle, offset, bytes, pattern,
                                         pattern_size);
  });
}

CHORUS_API chorus_status chorus_event_create(chorus_device device, chorus_event* out) {
  if (!out) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "event_create: out is NULL");
  *out = nullptr;
  if (!device) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "event_create: device is NULL");
  auto event = std::make_unique<chorus_event_t>();
  event->device = device->state;
  const chorus_status status = forward("event_create", [&] {
    return vt(device->state).event_create(device->state->handle, &event->handle);
  });
  if (status != CHORUS_OK) return status;
  *out = event.release();
  return CHORUS_OK;
}

CHORUS_API void chorus_event_destroy(chorus_event event) {
  if (!event) return;
  if (event->handle) vt(event->device).event_destroy(event->handle);
  delete event;
}

CHORUS_API chorus_status chorus_event_record(chorus_event event, chorus_queue queue) {
  if (!event) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "event_record: event is NULL");
  if (!queue) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "event_record: queue is NULL");
  if (event->device != queue->device)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "event_record: the event belongs to %s but the queue to %s",
                 event->device->info.name, queue->device->info.name);
  const chorus_status status = forward(
      "event_record", [&] { return vt(queue->device).event_record(event->handle, queue->handle); });
  if (status == CHORUS_OK) event->recorded = true;
  return status;
}

CHORUS_API chorus_status chorus_event_wait(chorus_event event) {
  if (!event) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "event_wait: event is NULL");
  if (!event->recorded)
    return fail(CHORUS_ERROR_INVALID_ARGUMENT, "event_wait: the event was never recorded");
  return forward("event_wait", [&] { return vt(event->device).event_wait(event->handle); });
}

CHORUS_API chorus_status chorus_event_elapsed_ms(chorus_event start, chorus_event end,
                                                 double* milliseconds) {
  if (!start) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "event_elapsed_ms: start is NULL");
  if (!end) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "event_elapsed_ms: end is NULL");
  if (!milliseconds)
    return fail(CHORUS_ERROR_INVALID_ARGUMENT, "event_elapsed_ms: milliseconds is NULL");
  if (start->device != end->device)
    return fail(CHORUS_ERROR_INVALID_ARGUMENT,
                "event_elapsed_ms: start and end belong to different devices");
  if (!start->recorded || !end->recorded)
    return fail(CHORUS_ERROR_INVALID_ARGUMENT,
                "event_elapsed_ms: both events must have been recorded");
  return forward("event_elapsed_ms", [&] {
    return vt(start->device).event_elapsed_ms(start->handle, end->handle, milliseconds);
  });
}

CHORUS_API chorus_status chorus_cache_dir(char* path, size_t size) {
  if (!path || !size) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "cache_dir: path is NULL or size 0");
  std::string folder;
  if (const char* env = std::getenv("CHORUS_CACHE_DIR"); env && *env) {
    folder = env;
  } else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    folder = std::string(xdg) + "/chorus";
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    folder = std::string(home) + "/.cache/chorus";
  } else {
    folder = "/tmp/chorus-cache-" + std::to_string(getuid());
  }
  if (folder.size() + 1 > size)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "cache_dir: the path needs %zu bytes, size is %zu",
                 folder.size() + 1, size);
  std::memcpy(path, folder.c_str(), folder.size() + 1);
  return CHORUS_OK;
}

CHORUS_API chorus_status chorus_cache_clear(uint64_t* removed) {
  char path[4096];
  if (auto s = chorus_cache_dir(path, sizeof path)) return s;
  uint64_t count = 0;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    // Only the cache's own entries are removed, never an unrelated folder a
    // user pointed CHORUS_CACHE_DIR at by mistake.
    for (const auto& entry : fs::recursive_directory_iterator(path, ec)) {
      if (entry.is_regular_file(ec) && entry.path().extension() == ".chorusbin") ++count;
    }
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      const auto name = entry.path().filename().string();
      if (entry.is_directory(ec) && name.rfind("kernels-", 0) == 0) fs::remove_all(entry.path(), ec);
      if (entry.is_regular_file(ec) && entry.path().extension() == ".chorusbin")
        fs::remove(entry.path(), ec);
    }
    if (ec)
      return failf(CHORUS_ERROR_DEVICE, "cache_clear: cannot empty %s: %s", path,
                   ec.message().c_str());
  }
  if (removed) *removed = count;
  return CHORUS_OK;
}

}  // extern "C"
