/*
 * backend.h — the plugin ABI: what a chorus backend implements.
 *
 * A backend is a shared library libchorus-<name>.so exporting one C symbol,
 * chorus_backend_entry, that returns its vtable. libchorus validates every op
 * call against the op's schema and hands the backend a *normalised* op record
 * (see below), so a backend never re-checks shapes and never handles
 * broadcasting, transposes, axis permutations or axis collapsing itself: all
 * of those arrive folded into strides.
 *
 * Versions. CHORUS_BACKEND_ABI_VERSION is major << 16 | minor. A minor
 * version only adds: op kinds, enum values (unary ops, ...), trailing
 * attribute fields whose zero value means "as before", trailing vtable and
 * host-api entries. libchorus loads a plugin of any minor version of its
 * major and refuses another major with both versions in the message. A plugin
 * built for an older minor simply answers CHORUS_ERROR_UNSUPPORTED for what
 * it does not know, which chorus_backend_attrs_known() makes a one-liner.
 *
 * Ops follow a prepared-primitive lifecycle: op_create plans (and compiles)
 * once for a record of tensor *layouts*; op_execute runs that on a queue with
 * the buffers and element offsets of one call; op_destroy frees it. libchorus
 * keeps what op_create returns in its plan cache and in user plans.
 *
 * Failures: a backend returns a status and reports its sentence through
 * host->set_error (the message then reaches chorus_last_error_message()).
 * Statuses mean the same on every backend: CHORUS_ERROR_UNSUPPORTED for an op
 * kind, enum value, attribute, dtype or layout the backend does not
 * implement (libchorus may then lower the op to other ops); never
 * CHORUS_ERROR_INVALID_ARGUMENT for those, since libchorus has validated the
 * call already.
 */
#ifndef CHORUS_BACKEND_H
#define CHORUS_BACKEND_H

#include <string.h>

#include "chorus/chorus.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CHORUS_BACKEND_ABI_MAJOR 2
#define CHORUS_BACKEND_ABI_MINOR CHORUS_ABI_LEVEL
#define CHORUS_BACKEND_ABI_VERSION ((CHORUS_BACKEND_ABI_MAJOR << 16) | CHORUS_BACKEND_ABI_MINOR)
#define CHORUS_BACKEND_ABI_MAJOR_OF(v) ((uint32_t)(v) >> 16)
#define CHORUS_BACKEND_ABI_MINOR_OF(v) ((uint32_t)(v) & 0xffffu)
#define CHORUS_BACKEND_ENTRY_SYMBOL "chorus_backend_entry"

/* A tensor as a backend sees it. In the record given to op_create it is a
 * layout only: buffer is NULL and offset 0. An absent optional tensor has
 * dtype CHORUS_DTYPE_INVALID and rank 0. */
typedef struct chorus_backend_tensor {
  void* buffer;
  chorus_dtype dtype;
  uint32_t rank;
  int64_t shape[CHORUS_MAX_RANK];
  int64_t strides[CHORUS_MAX_RANK]; /* elements, >= 0 */
  int64_t offset;                   /* elements */
} chorus_backend_tensor;

/*
 * The normalised op. Guarantees libchorus gives every backend (each op's
 * schema in src/ops/<family>/schema.cpp states its normal form exactly):
 * - tensors come in the op's slot order (chorus.h's argument order);
 * - no output is empty (zero-size ops never reach a backend); only GEMM may
 *   see an empty input, when K == 0 (then c = act(beta * c + bias));
 * - axes are collapsed once, by libchorus: extent-1 axes are dropped and
 *   neighbouring axes that every operand walks as one run are merged;
 * - elementwise ops (copy, fill, unary, binary, compare, where): every tensor
 *   has the output's rank (>= 1) and shape; broadcast inputs have stride 0;
 * - row ops (reduce, argmax, softmax, norms, cumsum): the last axes are the
 *   row (reduce: the last popcount(axes_mask) axes, which axes_mask then
 *   names; the others: the last axis, which axis then names); outputs of
 *   reduce and argmax have extent 1 and stride 0 there; gamma and beta have
 *   x's shape with stride 0 on the row-picking axes;
 * - GEMM: a is [batch, M, K], b is [batch, K, N], c is [batch, M, N] (rank 3,
 *   transposes folded into strides, batch broadcasts as stride 0); bias, when
 *   present, is [batch, M, N] with stride-0 broadcast axes;
 * - attrs is the op's full, current attributes struct (attrs_size bytes) with
 *   normalised values: defaults filled in, fields an op variant does not use
 *   zeroed, and the rounding of docs/ops.md applied (clamp's bounds to the
 *   dtype, leaky_relu's alpha to the compute type);
 * - numerics holds the queue's requested chorus_numerics_flags.
 */
typedef struct chorus_op_record {
  uint32_t struct_size; /* sizeof(chorus_op_record) */
  chorus_op_kind kind;
  uint32_t numerics;
  uint32_t tensor_count;
  const chorus_backend_tensor* tensors;
  const void* attrs; /* NULL for an op without attributes */
  uint32_t attrs_size;
  uint32_t reserved;
} chorus_op_record;

/* One tensor of one execution: the backend's buffer handle (NULL for an
 * absent optional tensor) and the view's first element within it. */
typedef struct chorus_backend_binding {
  void* buffer;
  int64_t offset;
} chorus_backend_binding;

/* What libchorus offers a plugin. */
typedef struct chorus_host_api {
  uint32_t struct_size;
  uint32_t abi_version;
  /* Records the failure message for the calling thread; returns status. */
  chorus_status (*set_error)(chorus_status status, const char* message);
  /* level: 0 error, 1 warning, 2 info, 3 debug. Honours CHORUS_LOG. */
  void (*log)(int level, const char* message);
  /* The kernel cache folder (created on demand). */
  chorus_status (*cache_dir)(char* path, size_t size);
} chorus_host_api;

typedef struct chorus_backend_vtable {
  uint32_t abi_version; /* CHORUS_BACKEND_ABI_VERSION it was built for */
  uint32_t struct_size; /* sizeof(chorus_backend_vtable) */
  const char* name;     /* "opencl"; must match libchorus-<name>.so */

  /* Finds the runtime and devices. CHORUS_ERROR_UNAVAILABLE (with a reason
   * through host->set_error) when the vendor runtime is missing. */
  chorus_status (*plugin_create)(const chorus_host_api* host, void** plugin);
  void (*plugin_destroy)(void* plugin);
  uint32_t (*device_count)(void* plugin);
  /* Fills the backend's fields; libchorus sets name, backend and index. */
  chorus_status (*device_info)(void* plugin, uint32_t index, chorus_device_info* info);
  chorus_status (*device_open)(void* plugin, uint32_t index, void** device);
  void (*device_close)(void* device);

  chorus_status (*buffer_create)(void* device, uint64_t bytes, void** buffer);
  void (*buffer_destroy)(void* device, void* buffer);

  chorus_status (*queue_create)(void* device, uint32_t numerics, void** queue);
  void (*queue_destroy)(void* queue);
  chorus_status (*queue_sync)(void* queue);
  uint32_t (*queue_numerics)(void* queue); /* what its ops actually use */

  /* Host copies block until done; device copies and fills are enqueued.
   * Offsets and sizes are in bytes and already bounds-checked; a fill's
   * pattern_size is 1, 2, 4 or 8 and divides its offset and size. */
  chorus_status (*buffer_write)(void* queue, void* dst, uint64_t offset, const void* src,
                                uint64_t bytes);
  chorus_status (*buffer_read)(void* queue, void* src, uint64_t offset, void* dst,
                               uint64_t bytes);
  chorus_status (*buffer_copy)(void* queue, void* src, uint64_t src_offset, void* dst,
                               uint64_t dst_offset, uint64_t bytes);
  chorus_status (*buffer_fill)(void* queue, void* dst, uint64_t offset, uint64_t bytes,
                               const void* pattern, uint32_t pattern_size);

  chorus_status (*event_create)(void* device, void** event);
  void (*event_destroy)(void* event);
  chorus_status (*event_record)(void* event, void* queue);
  chorus_status (*event_wait)(void* event);
  chorus_status (*event_elapsed_ms)(void* start, void* end, double* milliseconds);

  /* CHORUS_OK, or CHORUS_ERROR_UNSUPPORTED with the reason. Must agree with
   * op_create. */
  chorus_status (*op_supports)(void* device, const chorus_op_record* op);
  /* Plans (and compiles) the op for the layouts in op; *prepared is the
   * backend's own object, used by any queue of the device, from any thread. */
  chorus_status (*op_create)(void* device, const chorus_op_record* op, void** prepared);
  /* Enqueues a prepared op: bindings[i] is tensor i's buffer and offset. */
  chorus_status (*op_execute)(void* queue, void* prepared, const chorus_backend_binding* bindings,
                              uint32_t binding_count);
  void (*op_destroy)(void* device, void* prepared);

  /* Kernel build statistics of an open device; may be NULL (all zero). */
  chorus_status (*device_kernel_stats)(void* device, chorus_kernel_stats* stats);
} chorus_backend_vtable;

/* The one symbol a plugin exports. libchorus calls it with its own
 * CHORUS_BACKEND_ABI_VERSION; a plugin returns its vtable when it serves that
 * major version (whatever the minor), and for abi_version 0 ("describe
 * yourself") always, so that a mismatch can name both versions. */
typedef const chorus_backend_vtable* (*chorus_backend_entry_fn)(uint32_t abi_version);

/* 1 when the attributes a record carries hold nothing past the first
 * known_size bytes, the size of the struct this plugin was built with: the
 * fields a newer libchorus added are all at their "as before" zero value. A
 * plugin answers CHORUS_ERROR_UNSUPPORTED otherwise. */
static inline int chorus_backend_attrs_known(const chorus_op_record* op, uint32_t known_size) {
  const unsigned char* bytes = (const unsigned char*)op->attrs;
  uint32_t i;
  for (i = known_size; i < op->attrs_size; ++i)
    if (bytes[i] != 0) return 0;
  return 1;
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CHORUS_BACKEND_H */
