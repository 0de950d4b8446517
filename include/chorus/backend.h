/*
 * backend.h — the plugin ABI: what a chorus backend implements.
 *
 * A backend is a shared library libchorus-<name>.so exporting one C symbol,
 * chorus_backend_entry, that returns its vtable for the ABI version libchorus
 * asks for (NULL when it cannot serve that version). libchorus validates every
 * op call and hands the backend a *normalised* op descriptor (see below), so a
 * backend never re-checks shapes and never handles broadcasting, transposes
 * or axis permutations itself: all of those arrive folded into strides.
 *
 * Failures: a backend returns a status and reports its sentence through
 * host->set_error (the message then reaches chorus_last_error_message()).
 */
#ifndef CHORUS_BACKEND_H
#define CHORUS_BACKEND_H

#include "chorus/chorus.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CHORUS_BACKEND_ABI_VERSION 1
#define CHORUS_BACKEND_ENTRY_SYMBOL "chorus_backend_entry"
#define CHORUS_OP_MAX_TENSORS 6

typedef enum chorus_op_kind {
  CHORUS_OP_INVALID = 0,
  CHORUS_OP_COPY = 1,       /* tensors: src, dst */
  CHORUS_OP_FILL = 2,       /* tensors: dst; value */
  CHORUS_OP_UNARY = 3,      /* tensors: x, y; subop = chorus_unary_op */
  CHORUS_OP_BINARY = 4,     /* tensors: a, b, out; subop = chorus_binary_op */
  CHORUS_OP_COMPARE = 5,    /* tensors: a, b, out(u8); subop = chorus_compare_op */
  CHORUS_OP_WHERE = 6,      /* tensors: condition(u8), a, b, out */
  CHORUS_OP_REDUCE = 7,     /* tensors: x, out; subop = chorus_reduce_op; axes_mask */
  CHORUS_OP_ARGMAX = 8,     /* tensors: x, out(i64); axis */
  CHORUS_OP_GEMM = 9,       /* tensors: a, b, c, bias; alpha, beta, activation */
  CHORUS_OP_SOFTMAX = 10,   /* tensors: x, y; subop = 1 for log-softmax; axis */
  CHORUS_OP_LAYER_NORM = 11, /* tensors: x, y, gamma, beta; eps */
  CHORUS_OP_RMS_NORM = 12,  /* tensors: x, y, gamma; eps */
  CHORUS_OP_COUNT_ = 13,
  CHORUS_OP_FORCE32 = 0x7fffffff
} chorus_op_kind;

/* A tensor view as a backend sees it: buffer is the backend's own handle. */
typedef struct chorus_backend_tensor {
  void* buffer; /* NULL for an absent optional tensor */
  chorus_dtype dtype;
  uint32_t rank;
  int64_t shape[CHORUS_MAX_RANK];
  int64_t strides[CHORUS_MAX_RANK]; /* elements, >= 0 */
  int64_t offset;                   /* elements */
} chorus_backend_tensor;

/*
 * The normalised op. Guarantees libchorus gives every backend:
 * - no output is empty (zero-size ops never reach a backend); only GEMM may
 *   see an empty input, when K == 0 (then c = act(beta * c + bias));
 * - COPY/UNARY/BINARY/COMPARE/WHERE: every tensor has the output's rank and
 *   shape; broadcast inputs have stride 0 on broadcast axes;
 * - REDUCE: the reduced axes are the last popcount(axes_mask) axes of x
 *   (axes_mask has exactly those bits); out has x's rank with extent 1 on
 *   them;
 * - ARGMAX and SOFTMAX: axis == rank - 1; ARGMAX's out has extent 1 there;
 * - GEMM: a is [batch, M, K], b is [batch, K, N], c is [batch, M, N] (rank 3,
 *   transposes folded into strides, batch broadcasts as stride 0); bias, when
 *   has_bias, is [batch, M, N] with stride-0 broadcast axes;
 * - LAYER_NORM/RMS_NORM: normalised over the last axis; gamma and beta, when
 *   present, have x's rank and shape (stride 0 except on the last axis);
 * - numerics holds the queue's requested chorus_numerics_flags.
 */
typedef struct chorus_op_desc {
  uint32_t struct_size; /* sizeof(chorus_op_desc) */
  chorus_op_kind kind;
  int32_t subop;
  uint32_t numerics;
  uint32_t axes_mask;
  int32_t axis;
  chorus_activation activation;
  int32_t has_bias;
  int32_t has_gamma;
  int32_t has_beta;
  double alpha;
  double beta;
  double eps;
  double value;
  uint32_t tensor_count;
  chorus_backend_tensor tensors[CHORUS_OP_MAX_TENSORS];
} chorus_op_desc;

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

  /* CHORUS_OK, or CHORUS_ERROR_UNSUPPORTED with the reason. */
  chorus_status (*op_supports)(void* device, const chorus_op_desc* desc);
  /* Compiles what desc needs ahead of use (may be a no-op). */
  chorus_status (*op_prepare)(void* device, const chorus_op_desc* desc);
  chorus_status (*op_execute)(void* queue, const chorus_op_desc* desc);

  /* Kernel build statistics of an open device; may be NULL (all zero). */
  chorus_status (*device_kernel_stats)(void* device, chorus_kernel_stats* stats);
} chorus_backend_vtable;

/* The one symbol a plugin exports. */
typedef const chorus_backend_vtable* (*chorus_backend_entry_fn)(uint32_t abi_version);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CHORUS_BACKEND_H */
