/*
 * chorus.h — the C API of chorus: one backend-neutral interface to ML compute
 * primitives, with the backend chosen at run time.
 *
 * Every object is an opaque handle; every call returns a chorus_status, and on
 * failure chorus_last_error_message() holds a sentence that names the argument
 * at fault. Descriptor structs carry their own size (struct_size) so they can
 * grow without breaking the ABI. The exact semantics of every op live in
 * docs/ops.md; this header only declares them.
 */
#ifndef CHORUS_CHORUS_H
#define CHORUS_CHORUS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define CHORUS_API __declspec(dllexport)
#else
#define CHORUS_API __attribute__((visibility("default")))
#endif

#define CHORUS_VERSION_MAJOR 0
#define CHORUS_VERSION_MINOR 2
#define CHORUS_VERSION_PATCH 0

/* The minor version of the op set (plugin ABI 2.x) this header shows. A
 * plugin or program may define it lower before including chorus.h to be
 * built exactly as against that older header: items marked "since 2.N"
 * disappear. The plugin-ABI tests build a 2.0 plugin this way. */
#ifndef CHORUS_ABI_LEVEL
#define CHORUS_ABI_LEVEL 6
#endif
#define CHORUS_MAX_RANK 8
#define CHORUS_NAME_SIZE 128

/* ------------------------------------------------------------------ status */

typedef enum chorus_status {
  CHORUS_OK = 0,
  CHORUS_ERROR_INVALID_ARGUMENT = 1, /* a null handle, a bad shape, a bad dtype, ... */
  CHORUS_ERROR_UNSUPPORTED = 2,      /* valid request the device cannot do */
  CHORUS_ERROR_UNAVAILABLE = 3,      /* backend or device cannot be opened here */
  CHORUS_ERROR_OUT_OF_MEMORY = 4,
  CHORUS_ERROR_DEVICE = 5,           /* the device or its driver failed */
  CHORUS_ERROR_INTERNAL = 6,         /* a chorus bug */
  CHORUS_ERROR_NOT_FOUND = 7,        /* an unknown device or plugin name */
  CHORUS_ERROR_ABI_MISMATCH = 8,     /* a plugin built for another ABI version */
  CHORUS_STATUS_FORCE32 = 0x7fffffff
} chorus_status;

/* The message of the last failure on this thread ("" when none). Valid until
 * the next chorus call on this thread. */
CHORUS_API const char* chorus_last_error_message(void);
CHORUS_API const char* chorus_status_name(chorus_status status);
CHORUS_API const char* chorus_version_string(void);

/* ------------------------------------------------------------------ dtypes */

typedef enum chorus_dtype {
  CHORUS_DTYPE_INVALID = 0,
  CHORUS_DTYPE_F32 = 1,
  CHORUS_DTYPE_F16 = 2,
  CHORUS_DTYPE_BF16 = 3,
  CHORUS_DTYPE_F64 = 4,
  CHORUS_DTYPE_I32 = 5,
  CHORUS_DTYPE_I64 = 6,
  CHORUS_DTYPE_U8 = 7,
  CHORUS_DTYPE_COUNT_ = 8,
  CHORUS_DTYPE_FORCE32 = 0x7fffffff
} chorus_dtype;

CHORUS_API size_t chorus_dtype_size(chorus_dtype dtype); /* 0 for invalid */
CHORUS_API const char* chorus_dtype_name(chorus_dtype dtype);

/* ----------------------------------------------------------------- handles */

typedef struct chorus_context_t* chorus_context;
typedef struct chorus_device_t* chorus_device;
typedef struct chorus_queue_t* chorus_queue;
typedef struct chorus_buffer_t* chorus_buffer;
typedef struct chorus_event_t* chorus_event;

/* ----------------------------------------------------------------- context */

typedef struct chorus_context_desc {
  uint32_t struct_size;    /* sizeof(chorus_context_desc) */
  uint32_t flags;          /* reserved, 0 */
  const char* plugin_path; /* extra ':'-separated plugin folders, or NULL */
} chorus_context_desc;

/* Loads every plugin it finds (folder of libchorus, <libdir>/chorus/,
 * CHORUS_PLUGIN_PATH, desc->plugin_path). A plugin that fails to load is
 * recorded with its reason and affects nothing else. desc may be NULL. */
CHORUS_API chorus_status chorus_context_create(const chorus_context_desc* desc, chorus_context* out);
CHORUS_API void chorus_context_destroy(chorus_context context);

typedef struct chorus_plugin_info {
  char name[CHORUS_NAME_SIZE]; /* "reference", "opencl", ... */
  char path[512];              /* file it was loaded from ("(built in)") */
  int32_t usable;              /* 1 when it loaded and initialised */
  chorus_status status;        /* why not, as a code */
  char reason[512];            /* why not, as a sentence ("" when usable) */
  uint32_t device_count;
} chorus_plugin_info;

CHORUS_API chorus_status chorus_context_plugin_count(chorus_context context, uint32_t* count);
CHORUS_API chorus_status chorus_context_plugin_info(chorus_context context, uint32_t index,
                                                    chorus_plugin_info* info);

typedef enum chorus_device_kind {
  CHORUS_DEVICE_KIND_UNKNOWN = 0,
  CHORUS_DEVICE_KIND_REFERENCE = 1,
  CHORUS_DEVICE_KIND_CPU = 2,
  CHORUS_DEVICE_KIND_INTEGRATED_GPU = 3,
  CHORUS_DEVICE_KIND_DISCRETE_GPU = 4,
  CHORUS_DEVICE_KIND_ACCELERATOR = 5,
  CHORUS_DEVICE_KIND_FORCE32 = 0x7fffffff
} chorus_device_kind;

/* Numerics modes; used for queue requests and for what a backend reports. */
typedef enum chorus_numerics_flags {
  CHORUS_NUMERICS_PRECISE = 0,
  CHORUS_NUMERICS_FAST_MATH = 1u << 0,
  CHORUS_NUMERICS_ALLOW_TF32 = 1u << 1,
  CHORUS_NUMERICS_DETERMINISTIC = 1u << 2,
  CHORUS_NUMERICS_FLUSH_TO_ZERO = 1u << 3
} chorus_numerics_flags;

typedef struct chorus_device_info {
  char name[CHORUS_NAME_SIZE];    /* "reference:0" */
  char backend[CHORUS_NAME_SIZE]; /* "reference" */
  uint32_t index;                 /* index within its backend */
  char description[CHORUS_NAME_SIZE]; /* the vendor's device name */
  char vendor[CHORUS_NAME_SIZE];
  char driver_version[CHORUS_NAME_SIZE];
  char compiler_version[CHORUS_NAME_SIZE];
  chorus_device_kind kind;
  int32_t usable;                 /* 0: listed, cannot open (reason says why) */
  char reason[512];
  int32_t score;                  /* higher is preferred by "best" */
  uint64_t memory_bytes;
  uint64_t max_allocation_bytes;
  uint64_t local_memory_bytes;
  uint32_t max_work_group_size;
  uint32_t compute_units;
  uint32_t dtype_mask;            /* bit (1u << chorus_dtype) per storage dtype */
  int32_t has_fp64;
  int32_t has_f16_arithmetic;
  int32_t has_subgroups;
  uint32_t numerics_supported;    /* chorus_numerics_flags it can honour */
  uint32_t numerics_default;      /* what a precise queue actually gets */
} chorus_device_info;

CHORUS_API chorus_status chorus_context_device_count(chorus_context context, uint32_t* count);
CHORUS_API chorus_status chorus_context_device_info(chorus_context context, uint32_t index,
                                                    chorus_device_info* info);

/* ------------------------------------------------------------------ device */

/* name: "backend:index", "best", or NULL/"" (CHORUS_DEVICE if set, else
 * "best"). A named device that cannot open is an error, never a fallback. */
CHORUS_API chorus_status chorus_device_open(chorus_context context, const char* name,
                                            chorus_device* out);
CHORUS_API void chorus_device_close(chorus_device device);
CHORUS_API chorus_status chorus_device_info_get(chorus_device device, chorus_device_info* info);

/* How the device's kernels were obtained since it was opened (backends with
 * run-time compilation; zeros elsewhere). */
typedef struct chorus_kernel_stats {
  uint64_t compiled;       /* built by the device's compiler */
  uint64_t cache_hits;     /* loaded from the disk cache */
  uint64_t cache_rejected; /* cache entries found corrupt and rebuilt */
  double compile_ms;       /* wall time spent compiling */
} chorus_kernel_stats;

CHORUS_API chorus_status chorus_device_kernel_stats(chorus_device device, chorus_kernel_stats* stats);

/* ------------------------------------------------------------------- queue */

typedef struct chorus_queue_desc {
  uint32_t struct_size; /* sizeof(chorus_queue_desc) */
  uint32_t numerics;    /* chorus_numerics_flags requested for ops on it */
} chorus_queue_desc;

/* desc may be NULL (precise numerics). A mode the device cannot honour is
 * CHORUS_ERROR_UNSUPPORTED. */
CHORUS_API chorus_status chorus_queue_create(chorus_device device, const chorus_queue_desc* desc,
                                             chorus_queue* out);
CHORUS_API void chorus_queue_destroy(chorus_queue queue);
CHORUS_API chorus_status chorus_queue_sync(chorus_queue queue);
/* What the queue's ops actually use (chorus_numerics_flags). */
CHORUS_API chorus_status chorus_queue_numerics(chorus_queue queue, uint32_t* numerics);

/* ------------------------------------------------------------------ buffer */

CHORUS_API chorus_status chorus_buffer_create(chorus_device device, uint64_t bytes,
                                              chorus_buffer* out);
CHORUS_API void chorus_buffer_destroy(chorus_buffer buffer);
CHORUS_API uint64_t chorus_buffer_size(chorus_buffer buffer);
/* Host copies are complete when the call returns. */
CHORUS_API chorus_status chorus_buffer_write(chorus_queue queue, chorus_buffer dst, uint64_t offset,
                                             const void* src, uint64_t bytes);
CHORUS_API chorus_status chorus_buffer_read(chorus_queue queue, chorus_buffer src, uint64_t offset,
                                            void* dst, uint64_t bytes);
/* Enqueued on the queue. */
CHORUS_API chorus_status chorus_buffer_copy(chorus_queue queue, chorus_buffer src,
                                            uint64_t src_offset, chorus_buffer dst,
                                            uint64_t dst_offset, uint64_t bytes);
/* Repeats pattern (1, 2, 4 or 8 bytes) over [offset, offset+bytes). */
CHORUS_API chorus_status chorus_buffer_fill(chorus_queue queue, chorus_buffer dst, uint64_t offset,
                                            uint64_t bytes, const void* pattern,
                                            uint32_t pattern_size);

/* ------------------------------------------------------------------- event */

CHORUS_API chorus_status chorus_event_create(chorus_device device, chorus_event* out);
CHORUS_API void chorus_event_destroy(chorus_event event);
CHORUS_API chorus_status chorus_event_record(chorus_event event, chorus_queue queue);
CHORUS_API chorus_status chorus_event_wait(chorus_event event);
/* Milliseconds between two recorded events (both must have completed). */
CHORUS_API chorus_status chorus_event_elapsed_ms(chorus_event start, chorus_event end,
                                                 double* milliseconds);

/* ------------------------------------------------------------------ tensor */

/* A view of a buffer: element (i0..in) lives at element offset
 * offset + sum(i_k * strides[k]) of the buffer, in units of the dtype.
 * Strides are >= 0; a stride of 0 broadcasts. */
typedef struct chorus_tensor {
  chorus_buffer buffer;
  chorus_dtype dtype;
  uint32_t rank;
  int64_t shape[CHORUS_MAX_RANK];
  int64_t strides[CHORUS_MAX_RANK];
  int64_t offset;
} chorus_tensor;

/* Fills *out with a contiguous row-major view of buffer at element offset 0.
 * A shape whose element count passes INT64_MAX is an invalid argument. */
CHORUS_API chorus_status chorus_tensor_contiguous(chorus_buffer buffer, chorus_dtype dtype,
                                                  uint32_t rank, const int64_t* shape,
                                                  chorus_tensor* out);
/* The element count, or -1 when tensor is NULL, its rank is above
 * CHORUS_MAX_RANK, an extent is negative, or the count passes INT64_MAX. */
CHORUS_API int64_t chorus_tensor_numel(const chorus_tensor* tensor);
/* Views (no data moves; docs/ops.md, "Views, concat and pad"). slice: the
 * elements begin, begin + step, ... below end along axis, with
 * 0 <= begin <= end <= shape[axis] and step >= 1 (no negative indices or
 * steps); out may be in. permute: out's axis k is in's axis order[k], order
 * a permutation of 0 .. rank-1 (transpose is the permutation that swaps
 * two). Each refuses bad arguments with INVALID_ARGUMENT naming them. */
CHORUS_API chorus_status chorus_tensor_slice(const chorus_tensor* in, uint32_t axis, int64_t begin,
                                             int64_t end, int64_t step, chorus_tensor* out);
CHORUS_API chorus_status chorus_tensor_permute(const chorus_tensor* in, const uint32_t* order,
                                               chorus_tensor* out);

/* --------------------------------------------------------------------- ops */
/* Every op is enqueued on a queue and validated first. Inputs broadcast to
 * the output's shape (numpy rules, aligned at the last axis). Zero-size
 * tensors are a valid no-op. See docs/ops.md for exact semantics.
 *
 * Each op has a kind, an attributes struct (plain data starting with its own
 * struct_size, so it can grow) and tensor slots in a fixed order: the order
 * of the arguments of its named function below. chorus_op_run and the plans
 * take that order too; chorus_op_info_get describes every op's slots and
 * attributes at run time. Items marked "since 2.1" arrived with plugin ABI
 * 2.1; plugins built before them answer CHORUS_ERROR_UNSUPPORTED. */

typedef enum chorus_op_kind {
  CHORUS_OP_INVALID = 0,
  CHORUS_OP_COPY = 1,        /* src, dst                      (no attributes) */
  CHORUS_OP_FILL = 2,        /* dst                           chorus_fill_attrs */
  CHORUS_OP_UNARY = 3,       /* x, y                          chorus_unary_attrs */
  CHORUS_OP_BINARY = 4,      /* a, b, out                     chorus_binary_attrs */
  CHORUS_OP_COMPARE = 5,     /* a, b, out (u8)                chorus_compare_attrs */
  CHORUS_OP_WHERE = 6,       /* condition (u8), a, b, out     (no attributes) */
  CHORUS_OP_REDUCE = 7,      /* x, out                        chorus_reduce_attrs */
  CHORUS_OP_ARGMAX = 8,      /* x, out (i64)                  chorus_argmax_attrs */
  CHORUS_OP_GEMM = 9,        /* a, b, bias (optional), c      chorus_gemm_desc */
  CHORUS_OP_SOFTMAX = 10,    /* x, y                          chorus_softmax_attrs */
  CHORUS_OP_LAYER_NORM = 11, /* x, gamma?, beta?, y           chorus_norm_attrs */
  CHORUS_OP_RMS_NORM = 12,   /* x, gamma?, y                  chorus_norm_attrs */
#if CHORUS_ABI_LEVEL >= 1
  CHORUS_OP_CUMSUM = 13,     /* x, y                          chorus_cumsum_attrs (since 2.1) */
#endif
#if CHORUS_ABI_LEVEL >= 2
  CHORUS_OP_RANDOM = 14,     /* y                             chorus_random_attrs (since 2.2) */
  CHORUS_OP_DROPOUT = 15,    /* x, y, mask (u8, optional)     chorus_dropout_attrs (since 2.2) */
  CHORUS_OP_SGD = 16,        /* param, grad, momentum_buffer? chorus_sgd_attrs (since 2.2) */
  CHORUS_OP_ADAMW = 17,      /* param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq?
                                                              chorus_adamw_attrs (since 2.2) */
#endif
#if CHORUS_ABI_LEVEL >= 3
  CHORUS_OP_CONV2D = 18,                 /* x, w, bias?, y          chorus_conv2d_attrs (since 2.3) */
  CHORUS_OP_CONV2D_BACKWARD_DATA = 19,   /* dy, w, dx               chorus_conv2d_attrs (since 2.3) */
  CHORUS_OP_CONV2D_BACKWARD_WEIGHT = 20, /* x, dy, dw, dbias?       chorus_conv2d_attrs (since 2.3) */
#endif
#if CHORUS_ABI_LEVEL >= 4
  CHORUS_OP_POOL2D = 21,                 /* x, y, indices? (i64)    chorus_pool2d_attrs (since 2.4) */
  CHORUS_OP_POOL2D_BACKWARD = 22,        /* dy, x?, indices?, dx    chorus_pool2d_attrs (since 2.4) */
  CHORUS_OP_SOFTMAX_BACKWARD = 23,       /* y, dy, dx               chorus_softmax_attrs (since 2.4) */
#endif
#if CHORUS_ABI_LEVEL >= 5
  CHORUS_OP_UNARY_BACKWARD = 24,         /* x or y, dy, dx          chorus_unary_backward_attrs (since 2.5) */
#endif
#if CHORUS_ABI_LEVEL >= 6
  CHORUS_OP_LAYER_NORM_BACKWARD = 25,    /* x, gamma?, dy, dx?, dgamma?, dbeta?
                                                                    chorus_norm_attrs (since 2.6) */
  CHORUS_OP_RMS_NORM_BACKWARD = 26,      /* x, gamma?, dy, dx?, dgamma?  chorus_norm_attrs (since 2.6) */
  CHORUS_OP_CROSS_ENTROPY = 27,          /* logits, target (i32/i64), loss
                                                                    chorus_cross_entropy_attrs (since 2.6) */
  CHORUS_OP_CROSS_ENTROPY_BACKWARD = 28, /* logits, target, dloss, dlogits
                                                                    chorus_cross_entropy_attrs (since 2.6) */
  CHORUS_OP_BATCH_NORM = 29,             /* x, gamma?, beta?, running_mean?, running_var?, y
                                                                    chorus_batch_norm_attrs (since 2.6) */
  CHORUS_OP_BATCH_NORM_BACKWARD = 30,    /* x, gamma?, running_mean?, running_var?, dy, dx?,
                                            dgamma?, dbeta?         chorus_batch_norm_attrs (since 2.6) */
  CHORUS_OP_GATHER = 31,                 /* x, index (i32/i64), out chorus_index_attrs (since 2.6) */
  CHORUS_OP_SCATTER_ADD = 32,            /* index, src, out (in-out)
                                                                    chorus_index_attrs (since 2.6) */
  CHORUS_OP_EMBEDDING = 33,              /* table, index, out       (no attributes; since 2.6) */
  CHORUS_OP_EMBEDDING_BACKWARD = 34,     /* index, dy, dtable       (no attributes; since 2.6) */
  CHORUS_OP_GROUP_NORM = 35,             /* x, gamma?, beta?, y     chorus_group_norm_attrs (since 2.6) */
  CHORUS_OP_GROUP_NORM_BACKWARD = 36,    /* x, gamma?, dy, dx?, dgamma?, dbeta?
                                                                    chorus_group_norm_attrs (since 2.6) */
  CHORUS_OP_COUNT_ = 37,
#elif CHORUS_ABI_LEVEL >= 5
  CHORUS_OP_COUNT_ = 25,
#elif CHORUS_ABI_LEVEL >= 4
  CHORUS_OP_COUNT_ = 24,
#elif CHORUS_ABI_LEVEL >= 3
  CHORUS_OP_COUNT_ = 21,
#elif CHORUS_ABI_LEVEL >= 2
  CHORUS_OP_COUNT_ = 18,
#elif CHORUS_ABI_LEVEL >= 1
  CHORUS_OP_COUNT_ = 14,
#else
  CHORUS_OP_COUNT_ = 13,
#endif
  CHORUS_OP_FORCE32 = 0x7fffffff
} chorus_op_kind;

typedef enum chorus_unary_op {
  CHORUS_UNARY_NEG = 0,
  CHORUS_UNARY_ABS = 1,
  CHORUS_UNARY_EXP = 2,
  CHORUS_UNARY_LOG = 3,
  CHORUS_UNARY_SQRT = 4,
  CHORUS_UNARY_RSQRT = 5,
  CHORUS_UNARY_TANH = 6,
  CHORUS_UNARY_SIGMOID = 7,
  CHORUS_UNARY_RELU = 8,
  CHORUS_UNARY_GELU_ERF = 9,
  CHORUS_UNARY_GELU_TANH = 10,
  CHORUS_UNARY_SILU = 11,
#if CHORUS_ABI_LEVEL >= 1 /* since 2.1 */
  CHORUS_UNARY_LEAKY_RELU = 12,  /* alpha: slope below 0 (default 0.01) */
  CHORUS_UNARY_ELU = 13,         /* alpha (default 1) */
  CHORUS_UNARY_SOFTPLUS = 14,
  CHORUS_UNARY_HARDSIGMOID = 15,
  CHORUS_UNARY_HARDSWISH = 16,
  CHORUS_UNARY_SIN = 17,
  CHORUS_UNARY_COS = 18,
  CHORUS_UNARY_ERF = 19,
  CHORUS_UNARY_LOG1P = 20,
  CHORUS_UNARY_EXPM1 = 21,
  CHORUS_UNARY_FLOOR = 22,
  CHORUS_UNARY_CEIL = 23,
  CHORUS_UNARY_ROUND = 24,       /* to nearest, ties to even */
  CHORUS_UNARY_SIGN = 25,
  CHORUS_UNARY_SQUARE = 26,
  CHORUS_UNARY_RECIPROCAL = 27,
  CHORUS_UNARY_CLAMP = 28,       /* alpha = min, beta = max */
  CHORUS_UNARY_SOFTSIGN = 29,
  CHORUS_UNARY_COUNT_ = 30,
#else
  CHORUS_UNARY_COUNT_ = 12,
#endif
  CHORUS_UNARY_FORCE32 = 0x7fffffff
} chorus_unary_op;

typedef enum chorus_binary_op {
  CHORUS_BINARY_ADD = 0,
  CHORUS_BINARY_SUB = 1,
  CHORUS_BINARY_MUL = 2,
  CHORUS_BINARY_DIV = 3,
  CHORUS_BINARY_MAX = 4,
  CHORUS_BINARY_MIN = 5,
  CHORUS_BINARY_POW = 6,
  CHORUS_BINARY_COUNT_ = 7,
  CHORUS_BINARY_FORCE32 = 0x7fffffff
} chorus_binary_op;

typedef enum chorus_compare_op {
  CHORUS_COMPARE_EQ = 0,
  CHORUS_COMPARE_NE = 1,
  CHORUS_COMPARE_LT = 2,
  CHORUS_COMPARE_LE = 3,
  CHORUS_COMPARE_GT = 4,
  CHORUS_COMPARE_GE = 5,
  CHORUS_COMPARE_COUNT_ = 6,
  CHORUS_COMPARE_FORCE32 = 0x7fffffff
} chorus_compare_op;

typedef enum chorus_reduce_op {
  CHORUS_REDUCE_SUM = 0,
  CHORUS_REDUCE_MEAN = 1,
  CHORUS_REDUCE_MAX = 2,
  CHORUS_REDUCE_MIN = 3,
  CHORUS_REDUCE_COUNT_ = 4,
  CHORUS_REDUCE_FORCE32 = 0x7fffffff
} chorus_reduce_op;

typedef enum chorus_activation {
  CHORUS_ACTIVATION_NONE = 0,
  CHORUS_ACTIVATION_RELU = 1,
  CHORUS_ACTIVATION_GELU_ERF = 2,
  CHORUS_ACTIVATION_GELU_TANH = 3,
  CHORUS_ACTIVATION_SILU = 4,
  CHORUS_ACTIVATION_COUNT_ = 5,
  CHORUS_ACTIVATION_FORCE32 = 0x7fffffff
} chorus_activation;

/* Attributes. A caller sets struct_size to sizeof the struct it was built
 * with; fields past it take their defaults, so a program built against an
 * older chorus.h keeps working. */
typedef struct chorus_fill_attrs {
  uint32_t struct_size;
  uint32_t reserved; /* 0 */
  double value;
} chorus_fill_attrs;

typedef struct chorus_unary_attrs {
  uint32_t struct_size;
  chorus_unary_op op;
#if CHORUS_ABI_LEVEL >= 1
  /* since 2.1: leaky_relu's and elu's alpha; clamp's min (alpha) and max
   * (beta). Ignored by the other ops. */
  double alpha;
  double beta;
#endif
} chorus_unary_attrs;

typedef struct chorus_binary_attrs {
  uint32_t struct_size;
  chorus_binary_op op;
} chorus_binary_attrs;

typedef struct chorus_compare_attrs {
  uint32_t struct_size;
  chorus_compare_op op;
} chorus_compare_attrs;

typedef struct chorus_reduce_attrs {
  uint32_t struct_size;
  chorus_reduce_op op;
  uint32_t axes_mask; /* bit k: reduce axis k */
} chorus_reduce_attrs;

typedef struct chorus_argmax_attrs {
  uint32_t struct_size;
  int32_t axis; /* negative counts from the end */
} chorus_argmax_attrs;

typedef struct chorus_gemm_desc {
  uint32_t struct_size; /* sizeof(chorus_gemm_desc) */
  int32_t transpose_a;  /* use A^T (swap A's last two axes) */
  int32_t transpose_b;
  double alpha;
  double beta;
  chorus_activation activation;
} chorus_gemm_desc;

typedef struct chorus_softmax_attrs {
  uint32_t struct_size;
  int32_t axis; /* negative counts from the end */
  int32_t log;  /* 1: log-softmax */
} chorus_softmax_attrs;

typedef struct chorus_norm_attrs {
  uint32_t struct_size;
  uint32_t reserved; /* 0 */
  double eps;
} chorus_norm_attrs;

#if CHORUS_ABI_LEVEL >= 1
typedef struct chorus_cumsum_attrs { /* since 2.1 */
  uint32_t struct_size;
  int32_t axis;      /* negative counts from the end */
  int32_t exclusive; /* 1: y_i sums the elements before i, not up to it */
  int32_t reverse;   /* 1: sums run from the end of the axis */
} chorus_cumsum_attrs;
#endif

#if CHORUS_ABI_LEVEL >= 2
/* Random numbers (docs/ops.md, "Random numbers"): counter-based
 * Philox4x32-10. Element i of the output (its row-major index) takes word
 * i % 4 of the block Philox(counter = {i / 4 as 64 bits, offset as 64 bits},
 * key = seed), so the same (seed, offset, shape) gives the same bits on
 * every backend and device, whatever the launch geometry. Calls that should
 * draw independent numbers use different offsets (a counter the caller
 * advances by 1 per call). Since 2.2. */
typedef enum chorus_random_distribution {
  CHORUS_RANDOM_UNIFORM = 0,   /* a + (b - a) * u, u on [0, 1) in steps of 2^-24 */
  CHORUS_RANDOM_NORMAL = 1,    /* a + b * z, z standard normal (mean a, standard deviation b) */
  CHORUS_RANDOM_BERNOULLI = 2, /* 1 with probability a, else 0 */
  CHORUS_RANDOM_FORCE32 = 0x7fffffff
} chorus_random_distribution;

typedef struct chorus_random_attrs { /* since 2.2 */
  uint32_t struct_size;
  chorus_random_distribution distribution;
  uint64_t seed;
  uint64_t offset; /* the stream: a different offset draws independent numbers */
  double a;        /* uniform: low; normal: mean; bernoulli: p */
  double b;        /* uniform: high; normal: standard deviation; bernoulli: unused */
} chorus_random_attrs;

typedef struct chorus_dropout_attrs { /* since 2.2 */
  uint32_t struct_size;
  uint32_t reserved; /* 0 */
  uint64_t seed;
  uint64_t offset;
  double p; /* probability that an element is zeroed, in [0, 1] */
} chorus_dropout_attrs;

/* Optimizer steps, fused, in place, one launch per parameter tensor, with
 * PyTorch's formulas (docs/ops.md, "Optimizers"). Every tensor has the
 * parameter's shape and dtype; the step count is the caller's (1 for the
 * first step). Since 2.2. */
typedef struct chorus_sgd_attrs { /* since 2.2 */
  uint32_t struct_size;
  int32_t nesterov; /* 1: Nesterov momentum (needs momentum > 0, dampening 0) */
  uint64_t step;    /* 1, 2, ...: step 1 starts the momentum buffer from the gradient */
  double lr;
  double momentum;  /* 0: no momentum buffer (the tensor may be NULL) */
  double dampening;
  double weight_decay;
} chorus_sgd_attrs;

typedef struct chorus_adamw_attrs { /* since 2.2 */
  uint32_t struct_size;
  int32_t amsgrad; /* 1: keep the running maximum of exp_avg_sq (max_exp_avg_sq) */
  uint64_t step;   /* 1, 2, ...: the bias corrections use it */
  double lr;       /* default 1e-3 */
  double beta1;    /* 0.9 */
  double beta2;    /* 0.999 */
  double eps;      /* 1e-8 */
  double weight_decay; /* 1e-2, decoupled: param *= 1 - lr * weight_decay */
} chorus_adamw_attrs;
#endif

#if CHORUS_ABI_LEVEL >= 3
/* 2-D convolution (docs/ops.md, "Convolution"), as PyTorch's conv2d:
 *   y[n, o, i, j] = bias[o] + sum over c in o's group, kh, kw of
 *       x[n, c, i*stride_h - pad_top + kh*dilation_h, j*stride_w - pad_left + kw*dilation_w]
 *       * w[o, c - group_start, kh, kw]
 * (x read as 0 outside the image). Shapes, by layout:
 *   NCHW: x [N, C, H, W], w [C_out, C/groups, KH, KW], y [N, C_out, OH, OW]
 *   NHWC: x [N, H, W, C], w [C_out, KH, KW, C/groups], y [N, OH, OW, C_out]
 * with OH = (H + pad_top + pad_bottom - dilation_h*(KH-1) - 1) / stride_h + 1
 * (floor), OW likewise; bias is [C_out]. Rank-3 tensors are 1-D convolution
 * (NCHW: x [N, C, L], w [C_out, C/groups, K]; NHWC: x [N, L, C],
 * w [C_out, K, C/groups]) with the *_w attributes and the *_h ones left at
 * their defaults. Any strides; every tensor has x's dtype. Fields left 0
 * (stride, dilation, groups) mean 1. Since 2.3. */
typedef enum chorus_conv_layout {
  CHORUS_CONV_NCHW = 0,
  CHORUS_CONV_NHWC = 1,
  CHORUS_CONV_LAYOUT_FORCE32 = 0x7fffffff
} chorus_conv_layout;

typedef struct chorus_conv2d_attrs { /* since 2.3 */
  uint32_t struct_size;
  chorus_conv_layout layout;
  int32_t stride_h, stride_w;     /* >= 1 (0: 1) */
  int32_t pad_top, pad_bottom;    /* >= 0 */
  int32_t pad_left, pad_right;    /* >= 0 */
  int32_t dilation_h, dilation_w; /* >= 1 (0: 1) */
  int32_t groups;                 /* >= 1 (0: 1), divides C and C_out */
  int32_t reserved;               /* 0 */
} chorus_conv2d_attrs;
#endif

#if CHORUS_ABI_LEVEL >= 4
/* 2-D pooling (docs/ops.md, "Pooling"), as PyTorch's max_pool2d and
 * avg_pool2d. Window (i, j) of an output plane covers the input positions
 *   (i*stride_h - pad_top + kh*dilation_h, j*stride_w - pad_left + kw*dilation_w)
 * for kh < kernel_h, kw < kernel_w; positions outside the image are padding.
 *   max: y = the largest value among the window's positions inside the
 *        image (padding never wins); a NaN wins (the last NaN in row-major
 *        window order, as PyTorch); among equal values the first. indices
 *        (optional, i64, y's shape) = that position as h*W + w within its
 *        plane (whatever the layout), or -1 for a window with no position
 *        inside the image (possible only with dilation; y is then -inf).
 *   avg: y = the window's sum over positions inside the image / divisor;
 *        divisor = divisor_override if > 0, else the number of window
 *        positions inside the image and the padding (count_include_pad) or
 *        inside the image only. No dilation.
 * Shapes: NCHW x [N, C, H, W], y [N, C, OH, OW]; NHWC x [N, H, W, C],
 * y [N, OH, OW, C]; rank 3 is 1-D pooling (the *_w fields; the *_h ones at
 * their defaults). OH = floor or (ceil_mode) ceil of
 * (H + pad_top + pad_bottom - dilation_h*(kernel_h-1) - 1) / stride_h, + 1,
 * where in ceil mode a last window that would start in the bottom padding
 * is dropped; OW likewise. Each pad is at most half the dilated kernel (as
 * PyTorch). Any strides; x, y, dy and dx share a float dtype. Since 2.4. */
typedef enum chorus_pool_mode {
  CHORUS_POOL_MAX = 0,
  CHORUS_POOL_AVG = 1,
  CHORUS_POOL_MODE_FORCE32 = 0x7fffffff
} chorus_pool_mode;

typedef struct chorus_pool2d_attrs { /* since 2.4 */
  uint32_t struct_size;
  chorus_pool_mode mode;
  chorus_conv_layout layout;
  int32_t kernel_h, kernel_w;     /* >= 1 */
  int32_t stride_h, stride_w;     /* >= 1 (0: the kernel's extent, PyTorch's default) */
  int32_t pad_top, pad_bottom;    /* >= 0 */
  int32_t pad_left, pad_right;    /* >= 0 */
  int32_t dilation_h, dilation_w; /* >= 1 (0: 1); max only */
  int32_t ceil_mode;              /* 0 or 1 */
  int32_t count_include_pad;      /* avg: 1 counts padding in the divisor (PyTorch's default) */
  int32_t divisor_override;       /* avg: > 0 replaces the divisor; 0 none */
  int32_t reserved;               /* 0 */
} chorus_pool2d_attrs;
#endif

#if CHORUS_ABI_LEVEL >= 5
/* The gradient of an activation (chorus_unary_backward). op is the forward
 * op: relu, leaky_relu, elu, sigmoid, tanh, gelu_erf, gelu_tanh, silu,
 * softplus, hardsigmoid, hardswish, clamp or softsign; alpha and beta are its
 * forward attributes (chorus_unary_attrs). from_output 0: the first tensor is
 * the forward's input x; 1: it is the forward's output y, for relu, sigmoid,
 * tanh, leaky_relu (alpha > 0) and elu (alpha >= 0). Since 2.5. */
typedef struct chorus_unary_backward_attrs {
  uint32_t struct_size;
  chorus_unary_op op;
  int32_t from_output; /* 0 or 1 */
  int32_t reserved;    /* 0 */
  double alpha;
  double beta;
} chorus_unary_backward_attrs;
#endif

#if CHORUS_ABI_LEVEL >= 6
/* How a loss's per-sample values become its output. Since 2.6. */
typedef enum chorus_loss_reduction {
  CHORUS_REDUCTION_NONE = 0, /* one loss per sample (target's shape) */
  CHORUS_REDUCTION_MEAN = 1, /* their sum over the samples not ignored, divided by their count */
  CHORUS_REDUCTION_SUM = 2,  /* their sum */
  CHORUS_REDUCTION_COUNT_ = 3,
  CHORUS_REDUCTION_FORCE32 = 0x7fffffff
} chorus_loss_reduction;

/* Cross-entropy from logits (chorus_cross_entropy): PyTorch's
 * F.cross_entropy with integer class targets. The class axis is logits'
 * axis 1 (axis 0 for rank-1 logits: one sample). ignore_index: samples whose
 * target equals it contribute 0 and are not counted (PyTorch's default is
 * -100); label_smoothing in [0, 1]. Since 2.6. */
typedef struct chorus_cross_entropy_attrs {
  uint32_t struct_size;
  chorus_loss_reduction reduction;
  int32_t ignore_index;
  int32_t reserved; /* 0 */
  double label_smoothing;
} chorus_cross_entropy_attrs;

/* Batch normalisation over x = [N, C, ...] per channel (axis 1), PyTorch's
 * BatchNorm1d/2d/3d (chorus_batch_norm). training 1: the batch's mean and
 * biased variance over N and the spatial axes normalise, and running_mean
 * and running_var (when given, both) become (1 - momentum) running +
 * momentum batch, the variance unbiased (n / (n - 1)); training 0: the
 * running statistics normalise (and are required). Since 2.6. */
typedef struct chorus_batch_norm_attrs {
  uint32_t struct_size;
  int32_t training; /* 0 or 1 */
  double eps;       /* default 1e-5 */
  double momentum;  /* default 0.1 */
} chorus_batch_norm_attrs;

/* Group normalisation over x = [N, C, ...] (chorus_group_norm): the C
 * channels form num_groups groups of C / num_groups consecutive channels,
 * and each (sample, group) is normalised by the mean and biased variance of
 * its values; gamma and beta are per channel. PyTorch's F.group_norm.
 * Since 2.6. */
typedef struct chorus_group_norm_attrs {
  uint32_t struct_size;
  int32_t num_groups; /* >= 1, divides C */
  double eps;         /* default 1e-5 */
} chorus_group_norm_attrs;

/* Gather and scatter-add along one axis (chorus_gather,
 * chorus_scatter_add). Since 2.6. */
typedef struct chorus_index_attrs {
  uint32_t struct_size;
  int32_t axis; /* negative counts from the end */
} chorus_index_attrs;
#endif

/* dst = convert(src) with src broadcast to dst's shape. */
CHORUS_API chorus_status chorus_copy(chorus_queue queue, const chorus_tensor* src,
                                     const chorus_tensor* dst);
/* Every element of dst = value converted to dst's dtype. */
CHORUS_API chorus_status chorus_fill(chorus_queue queue, const chorus_tensor* dst, double value);
/* out = inputs[0], ..., inputs[count-1] joined along axis (torch.cat): each
 * input has out's rank and shape except along axis, where the extents add up
 * to out's; one copy per input into its slice of out (a dtype differing from
 * out's converts as chorus_copy does). Split is slices of the input
 * (chorus_tensor_slice). */
CHORUS_API chorus_status chorus_concat(chorus_queue queue, uint32_t count,
                                       const chorus_tensor* inputs, uint32_t axis,
                                       const chorus_tensor* out);
/* y = x with pad_before[k] and pad_after[k] (>= 0) elements of value before
 * and after it along every axis k (F.pad's "constant" mode, one pair per
 * axis, first axis first); y's shape is x's plus the pads. A fill of y, then
 * a copy of x into y's interior; y may not overlap x. */
CHORUS_API chorus_status chorus_pad(chorus_queue queue, const chorus_tensor* x,
                                    const int64_t* pad_before, const int64_t* pad_after,
                                    double value, const chorus_tensor* y);
/* The unary ops with their default attributes. */
CHORUS_API chorus_status chorus_unary(chorus_queue queue, chorus_unary_op op,
                                      const chorus_tensor* x, const chorus_tensor* y);
/* Any unary op with explicit attributes (leaky_relu, elu, clamp). */
CHORUS_API chorus_status chorus_unary_ex(chorus_queue queue, const chorus_unary_attrs* attrs,
                                         const chorus_tensor* x, const chorus_tensor* y);
#if CHORUS_ABI_LEVEL >= 1
/* y = min(max(x, min), max); min and max are first rounded to x's dtype.
 * Since 2.1. */
CHORUS_API chorus_status chorus_clamp(chorus_queue queue, const chorus_tensor* x, double min,
                                      double max, const chorus_tensor* y);
#endif
CHORUS_API chorus_status chorus_binary(chorus_queue queue, chorus_binary_op op,
                                       const chorus_tensor* a, const chorus_tensor* b,
                                       const chorus_tensor* out);
/* out (u8) = a OP b ? 1 : 0 */
CHORUS_API chorus_status chorus_compare(chorus_queue queue, chorus_compare_op op,
                                        const chorus_tensor* a, const chorus_tensor* b,
                                        const chorus_tensor* out);
/* out = condition (u8, nonzero) ? a : b */
CHORUS_API chorus_status chorus_where(chorus_queue queue, const chorus_tensor* condition,
                                      const chorus_tensor* a, const chorus_tensor* b,
                                      const chorus_tensor* out);

/* Reduces x over the axes whose bits are set in axes_mask (bit k: axis k).
 * out has x's rank with reduced axes of extent 1, or x's rank minus the
 * reduced axes. */
CHORUS_API chorus_status chorus_reduce(chorus_queue queue, chorus_reduce_op op,
                                       const chorus_tensor* x, uint32_t axes_mask,
                                       const chorus_tensor* out);
/* Index (i64) of the largest element along axis; first on ties; NaN is the
 * largest. out has x's shape without axis, or with axis of extent 1. */
CHORUS_API chorus_status chorus_argmax(chorus_queue queue, const chorus_tensor* x, int32_t axis,
                                       const chorus_tensor* out);

/* c = activation(alpha * op(a) @ op(b) + beta * c + bias).
 * a: [M,K] or [batch..,M,K]; b: [K,N] or [batch..,K,N]; c: [batch..,M,N];
 * batch axes broadcast; bias (may be NULL) broadcasts to c (usually [N]).
 * When beta == 0, c is not read (NaN in c does not propagate). */
CHORUS_API chorus_status chorus_gemm(chorus_queue queue, const chorus_gemm_desc* desc,
                                     const chorus_tensor* a, const chorus_tensor* b,
                                     const chorus_tensor* bias, const chorus_tensor* c);

/* Softmax (or log-softmax when log != 0) of x along axis, into y. */
CHORUS_API chorus_status chorus_softmax(chorus_queue queue, const chorus_tensor* x, int32_t axis,
                                        int32_t log, const chorus_tensor* y);
/* Normalises over the last axis: y = (x - mean) / sqrt(var + eps) * gamma + beta,
 * var the biased variance. gamma and beta ([last]) may be NULL. */
CHORUS_API chorus_status chorus_layer_norm(chorus_queue queue, const chorus_tensor* x,
                                           const chorus_tensor* gamma, const chorus_tensor* beta,
                                           double eps, const chorus_tensor* y);
/* y = x / sqrt(mean(x^2) + eps) * gamma over the last axis; gamma may be NULL. */
CHORUS_API chorus_status chorus_rms_norm(chorus_queue queue, const chorus_tensor* x,
                                         const chorus_tensor* gamma, double eps,
                                         const chorus_tensor* y);
#if CHORUS_ABI_LEVEL >= 1
/* Running sums of x along axis into y (same shape; may be x itself).
 * Since 2.1. */
CHORUS_API chorus_status chorus_cumsum(chorus_queue queue, const chorus_tensor* x, int32_t axis,
                                       int32_t exclusive, int32_t reverse, const chorus_tensor* y);
#endif
#if CHORUS_ABI_LEVEL >= 2
/* Fills y with random numbers of a distribution (chorus_random_attrs).
 * Since 2.2. */
CHORUS_API chorus_status chorus_random(chorus_queue queue, const chorus_random_attrs* attrs,
                                       const chorus_tensor* y);
/* Dropout: y = x * (keep ? 1 / (1 - p) : 0), an element kept with
 * probability 1 - p; mask (u8, may be NULL) = keep. The decision for
 * element i depends only on (seed, offset, i), so the backward pass is this
 * same call on dy with the same seed and offset (chorus_dropout_backward).
 * Since 2.2. */
CHORUS_API chorus_status chorus_dropout(chorus_queue queue, const chorus_tensor* x, double p,
                                        uint64_t seed, uint64_t offset, const chorus_tensor* y,
                                        const chorus_tensor* mask);
/* One SGD step: param -= lr * update (docs/ops.md). momentum_buffer may be
 * NULL when momentum is 0. Since 2.2. */
CHORUS_API chorus_status chorus_sgd_step(chorus_queue queue, const chorus_sgd_attrs* attrs,
                                         const chorus_tensor* param, const chorus_tensor* grad,
                                         const chorus_tensor* momentum_buffer);
/* One AdamW step (docs/ops.md). max_exp_avg_sq may be NULL unless amsgrad.
 * Since 2.2. */
CHORUS_API chorus_status chorus_adamw_step(chorus_queue queue, const chorus_adamw_attrs* attrs,
                                           const chorus_tensor* param, const chorus_tensor* grad,
                                           const chorus_tensor* exp_avg,
                                           const chorus_tensor* exp_avg_sq,
                                           const chorus_tensor* max_exp_avg_sq);
/* dx = dy * (keep ? 1 / (1 - p) : 0) with the keep decisions of the forward
 * call that had this (p, seed, offset) and shape. Since 2.2. */
CHORUS_API chorus_status chorus_dropout_backward(chorus_queue queue, const chorus_tensor* dy,
                                                 double p, uint64_t seed, uint64_t offset,
                                                 const chorus_tensor* dx);
#endif
#if CHORUS_ABI_LEVEL >= 3
/* y = conv2d(x, w) + bias (bias may be NULL). Since 2.3. */
CHORUS_API chorus_status chorus_conv2d(chorus_queue queue, const chorus_conv2d_attrs* attrs,
                                       const chorus_tensor* x, const chorus_tensor* w,
                                       const chorus_tensor* bias, const chorus_tensor* y);
/* dx = the gradient of conv2d's y with respect to x, given dy: also the
 * transposed convolution of dy with w. dx's shape picks the input size
 * (several give dy's shape when stride > 1: PyTorch's output_padding).
 * Since 2.3. */
CHORUS_API chorus_status chorus_conv2d_backward_data(chorus_queue queue,
                                                     const chorus_conv2d_attrs* attrs,
                                                     const chorus_tensor* dy,
                                                     const chorus_tensor* w,
                                                     const chorus_tensor* dx);
/* dw = the gradient with respect to w, and dbias (may be NULL) = dy summed
 * over all but the channel axis. Since 2.3. */
CHORUS_API chorus_status chorus_conv2d_backward_weight(chorus_queue queue,
                                                       const chorus_conv2d_attrs* attrs,
                                                       const chorus_tensor* x,
                                                       const chorus_tensor* dy,
                                                       const chorus_tensor* dw,
                                                       const chorus_tensor* dbias);
#endif
#if CHORUS_ABI_LEVEL >= 4
/* dx = the gradient of softmax (log == 0) or log-softmax (log != 0) along
 * axis, from that op's output y and the gradient dy of its output:
 *   softmax      dx = y * (dy - sum over the axis of dy * y)
 *   log-softmax  dx = dy - exp(y) * sum over the axis of dy
 * (PyTorch's _softmax_backward_data). y, dy and dx share a shape and a
 * float dtype; dx may be dy itself (in place). Since 2.4. */
CHORUS_API chorus_status chorus_softmax_backward(chorus_queue queue, const chorus_tensor* y,
                                                 const chorus_tensor* dy, int32_t axis,
                                                 int32_t log, const chorus_tensor* dx);
/* y = pool2d(x); indices (may be NULL; max pooling only) receives each
 * window's argmax. Since 2.4. */
CHORUS_API chorus_status chorus_pool2d(chorus_queue queue, const chorus_pool2d_attrs* attrs,
                                       const chorus_tensor* x, const chorus_tensor* y,
                                       const chorus_tensor* indices);
/* dx = the gradient of pool2d's y with respect to x, given dy. Max pooling
 * routes each dy element to its window's argmax: from indices when given
 * (an index that is not a position of its own window adds nothing), else
 * recomputed from x (x is then required). Average pooling takes neither x
 * nor indices (pass NULL). dx is written whole (0 where no window routes
 * anything), each element one fixed-order sum: the same bits every run.
 * Since 2.4. */
CHORUS_API chorus_status chorus_pool2d_backward(chorus_queue queue,
                                                const chorus_pool2d_attrs* attrs,
                                                const chorus_tensor* dy, const chorus_tensor* x,
                                                const chorus_tensor* indices,
                                                const chorus_tensor* dx);
#endif
#if CHORUS_ABI_LEVEL >= 5
/* dx = dy * f'(x) for the activation f = attrs->op, from x (from_output 0)
 * or from f's output y (from_output 1, where the formula allows it): the
 * input gradient of chorus_unary_ex with the same op and attributes
 * (PyTorch's backward formulas; docs/ops.md "Activation gradients"). input,
 * dy and dx share a float dtype; input and dy broadcast to dx's shape; dx
 * may be dy itself (in place). Since 2.5. */
CHORUS_API chorus_status chorus_unary_backward(chorus_queue queue,
                                               const chorus_unary_backward_attrs* attrs,
                                               const chorus_tensor* input,
                                               const chorus_tensor* dy, const chorus_tensor* dx);
#endif
#if CHORUS_ABI_LEVEL >= 6
/* The gradients of chorus_layer_norm from its input x, gamma (may be NULL:
 * no affine scale) and dy (x's shape), with the same eps: dx (x's shape),
 * dgamma and dbeta ([last], summed over every row). Any of the three may be
 * NULL, not all; the mean and 1/sqrt(var + eps) are recomputed from x, as
 * the forward computes them. dx may be dy itself (in place). dgamma and
 * dbeta are fixed-order sums: the same bits run after run. Since 2.6. */
CHORUS_API chorus_status chorus_layer_norm_backward(chorus_queue queue, const chorus_tensor* x,
                                                    const chorus_tensor* gamma,
                                                    const chorus_tensor* dy, double eps,
                                                    const chorus_tensor* dx,
                                                    const chorus_tensor* dgamma,
                                                    const chorus_tensor* dbeta);
/* The gradients of chorus_rms_norm: dx and dgamma, as above. Since 2.6. */
CHORUS_API chorus_status chorus_rms_norm_backward(chorus_queue queue, const chorus_tensor* x,
                                                  const chorus_tensor* gamma,
                                                  const chorus_tensor* dy, double eps,
                                                  const chorus_tensor* dx,
                                                  const chorus_tensor* dgamma);
/* Cross-entropy of logits (floats, [C], [N, C] or [N, C, d1, ...]) against
 * target (i32 or i64, logits' shape without the class axis): per sample
 * (1 - s) (lse - x_t) + s (lse - mean(x)), lse = log(sum(exp(x))) over the
 * classes, s = label_smoothing; into loss (the target's shape for
 * CHORUS_REDUCTION_NONE, rank 0 for mean and sum). attrs NULL: PyTorch's
 * defaults (mean, ignore_index -100, no smoothing). A target outside
 * [0, C) that is not ignore_index gives NaN (docs/ops.md). Since 2.6. */
CHORUS_API chorus_status chorus_cross_entropy(chorus_queue queue,
                                              const chorus_cross_entropy_attrs* attrs,
                                              const chorus_tensor* logits,
                                              const chorus_tensor* target,
                                              const chorus_tensor* loss);
/* y = (x - mean) / sqrt(var + eps) * gamma + beta per channel (axis 1 of
 * x = [N, C, ...]); gamma, beta, running_mean and running_var are [C] and
 * may be NULL (running statistics: both or neither in training, both in
 * inference; updated in place in training). y may be x itself. Since 2.6. */
CHORUS_API chorus_status chorus_batch_norm(chorus_queue queue, const chorus_batch_norm_attrs* attrs,
                                           const chorus_tensor* x, const chorus_tensor* gamma,
                                           const chorus_tensor* beta,
                                           const chorus_tensor* running_mean,
                                           const chorus_tensor* running_var,
                                           const chorus_tensor* y);
/* Its gradients dx (x's shape; may be dy itself), dgamma and dbeta ([C]),
 * any of them NULL but not all, from x, gamma and dy: training 1 with the
 * batch statistics recomputed from x (as the forward computed them),
 * training 0 with running_mean and running_var (then required). Since 2.6. */
CHORUS_API chorus_status chorus_batch_norm_backward(
    chorus_queue queue, const chorus_batch_norm_attrs* attrs, const chorus_tensor* x,
    const chorus_tensor* gamma, const chorus_tensor* running_mean, const chorus_tensor* running_var,
    const chorus_tensor* dy, const chorus_tensor* dx, const chorus_tensor* dgamma,
    const chorus_tensor* dbeta);
/* The gradient with respect to the logits: dlogits (logits' shape; may be
 * logits itself) from dloss (the loss's shape), with the same attrs.
 * Since 2.6. */
CHORUS_API chorus_status chorus_cross_entropy_backward(chorus_queue queue,
                                                       const chorus_cross_entropy_attrs* attrs,
                                                       const chorus_tensor* logits,
                                                       const chorus_tensor* target,
                                                       const chorus_tensor* dloss,
                                                       const chorus_tensor* dlogits);
#endif

#if CHORUS_ABI_LEVEL >= 6
/* y = (x - mean) / sqrt(var + eps) * gamma[c] + beta[c] with mean and var
 * over each sample's group of C / num_groups channels and every spatial
 * position (x = [N, C, ...], rank >= 2); gamma and beta are [C] and may be
 * NULL; y may be x itself. Since 2.6. */
CHORUS_API chorus_status chorus_group_norm(chorus_queue queue, const chorus_tensor* x,
                                           int32_t num_groups, const chorus_tensor* gamma,
                                           const chorus_tensor* beta, double eps,
                                           const chorus_tensor* y);
/* Its gradients dx (x's shape; may be dy itself), dgamma and dbeta ([C]),
 * any of them NULL but not all, from x, gamma (NULL: 1) and dy; the
 * statistics are recomputed from x. Since 2.6. */
CHORUS_API chorus_status chorus_group_norm_backward(chorus_queue queue, const chorus_tensor* x,
                                                    int32_t num_groups, const chorus_tensor* gamma,
                                                    const chorus_tensor* dy, double eps,
                                                    const chorus_tensor* dx,
                                                    const chorus_tensor* dgamma,
                                                    const chorus_tensor* dbeta);
/* out[..., m, ...] = x[..., index[..., m, ...], ...] along axis
 * (torch.gather): x, index (i32 or i64) and out have one rank; out has
 * index's shape and x's dtype; off the axis index may be shorter than x
 * (x's leading part is used). An index outside [0, x's extent along axis)
 * gives 0, never a read out of bounds (docs/ops.md). Since 2.6. */
CHORUS_API chorus_status chorus_gather(chorus_queue queue, const chorus_tensor* x, int32_t axis,
                                       const chorus_tensor* index, const chorus_tensor* out);
/* out[..., index[..., m, ...], ...] += src[..., m, ...] along axis, in
 * place (torch.Tensor.scatter_add_): index, src and out have one rank; src
 * is used on index's extents, and so is out off the axis. Every element of
 * out sums the src values aimed at it in increasing m and then adds them to
 * its old value, once: the same bits run after run and on every device
 * (no atomics). Indices outside [0, out's extent along axis) are skipped;
 * elements nothing aims at keep their bits. Since 2.6. */
CHORUS_API chorus_status chorus_scatter_add(chorus_queue queue, const chorus_tensor* index,
                                            int32_t axis, const chorus_tensor* src,
                                            const chorus_tensor* out);
/* out[i..., :] = table[index[i...], :] (F.embedding): table [V, D], index
 * (i32/i64) of any rank up to 7, out index's shape + [D]. An index outside
 * [0, V) gives a row of zeros. Since 2.6. */
CHORUS_API chorus_status chorus_embedding(chorus_queue queue, const chorus_tensor* table,
                                          const chorus_tensor* index, const chorus_tensor* out);
/* The table's gradient: dtable (= [V, D], overwritten) row v = the sum of
 * the rows of dy (index's shape + [D]) whose index is v, in index order
 * (a fixed order: the same bits run after run); rows of indices outside
 * [0, V) are dropped. Since 2.6. */
CHORUS_API chorus_status chorus_embedding_backward(chorus_queue queue, const chorus_tensor* index,
                                                   const chorus_tensor* dy,
                                                   const chorus_tensor* dtable);
#endif

/* -------------------------------------------------------- any op, and plans */

/* Runs any op: kind, its attributes struct (NULL for ops without, or for
 * every default), and its tensors in slot order (NULL for an absent optional
 * tensor). The named functions above are this call. */
CHORUS_API chorus_status chorus_op_run(chorus_queue queue, chorus_op_kind kind, const void* attrs,
                                       uint32_t tensor_count, const chorus_tensor* const* tensors);

/* A plan is an op prepared once for the layouts (dtype, shape, strides) of
 * its tensors: validation, planning and kernel compilation happen in
 * chorus_plan_create; chorus_plan_execute then only checks that the tensors
 * it gets have those layouts and fit their buffers, and enqueues. Buffers and
 * element offsets may change from one execution to the next. A plan belongs to
 * the queue's device and numerics; it may execute on any queue of that device
 * with the same numerics. Plain op calls keep plans of their own in a cache. */
typedef struct chorus_plan_t* chorus_plan;

CHORUS_API chorus_status chorus_plan_create(chorus_queue queue, chorus_op_kind kind,
                                            const void* attrs, uint32_t tensor_count,
                                            const chorus_tensor* const* tensors,
                                            chorus_plan* out);
CHORUS_API chorus_status chorus_plan_execute(chorus_plan plan, chorus_queue queue,
                                             uint32_t tensor_count,
                                             const chorus_tensor* const* tensors);
CHORUS_API void chorus_plan_destroy(chorus_plan plan);

typedef enum chorus_op_path {
  CHORUS_OP_PATH_NONE = 0,      /* nothing runs (a zero-size output) */
  CHORUS_OP_PATH_NATIVE = 1,    /* the backend's own implementation of the op */
  CHORUS_OP_PATH_COMPOSITE = 2, /* lowered by libchorus to other ops */
  CHORUS_OP_PATH_FORCE32 = 0x7fffffff
} chorus_op_path;

typedef struct chorus_plan_info {
  uint32_t struct_size;
  chorus_op_kind kind;
  chorus_op_path path;
  uint32_t steps;           /* backend ops one execution runs */
  uint64_t scratch_bytes;   /* queue scratch a composite uses for its temporaries */
  char description[256];    /* "log_softmax = max, sub, exp, sum, log, sub" */
} chorus_plan_info;

CHORUS_API chorus_status chorus_plan_info_get(chorus_plan plan, chorus_plan_info* info);
/* What the last op that ran on the queue (a plain call or a plan) was. */
CHORUS_API chorus_status chorus_queue_last_op(chorus_queue queue, chorus_plan_info* info);

/* ------------------------------------------------------- op introspection */

typedef enum chorus_slot_role {
  CHORUS_SLOT_INPUT = 1,
  CHORUS_SLOT_OUTPUT = 2,
  CHORUS_SLOT_INOUT = 3, /* read and written (gemm's c when beta != 0) */
  CHORUS_SLOT_ROLE_FORCE32 = 0x7fffffff
} chorus_slot_role;

typedef struct chorus_op_slot_info {
  const char* name;    /* "x", "gamma", ... */
  chorus_slot_role role;
  int32_t optional;    /* 1: may be NULL */
  uint32_t dtype_mask; /* bit (1u << chorus_dtype) per dtype it may have (any variant) */
} chorus_op_slot_info;

typedef enum chorus_attr_type {
  CHORUS_ATTR_INT32 = 1,
  CHORUS_ATTR_UINT32 = 2,
  CHORUS_ATTR_DOUBLE = 3,
  CHORUS_ATTR_ENUM = 4, /* int32, one of enum_names */
  CHORUS_ATTR_BOOL = 5, /* int32, 0 or 1 */
  CHORUS_ATTR_UINT64 = 6, /* since 2.2 */
  CHORUS_ATTR_TYPE_FORCE32 = 0x7fffffff
} chorus_attr_type;

typedef struct chorus_op_attr_info {
  const char* name;
  chorus_attr_type type;
  uint32_t offset;           /* in the attributes struct */
  double default_value;
  uint32_t enum_count;
  const char* const* enum_names; /* enum_count names, value i = names[i] */
  const uint32_t* enum_dtypes;   /* dtype mask of the first slot per enum value, or NULL */
} chorus_op_attr_info;

typedef struct chorus_op_info {
  uint32_t struct_size;
  chorus_op_kind kind;
  const char* name;    /* "unary", "cumsum" */
  const char* family;  /* its folder in src/ops/ */
  const char* summary; /* one line */
  uint32_t attrs_size; /* sizeof its attributes struct (0: none) */
  uint32_t slot_count;
  const chorus_op_slot_info* slots;
  uint32_t attr_count;
  const chorus_op_attr_info* attrs;
  uint32_t composite_count; /* ways libchorus can lower it to other ops */
} chorus_op_info;

/* Fills *info for kind; the strings and arrays live as long as the library. */
CHORUS_API chorus_status chorus_op_info_get(chorus_op_kind kind, chorus_op_info* info);

/* ------------------------------------------------------------------- cache */

/* The kernel cache folder in use (CHORUS_CACHE_DIR, else
 * $XDG_CACHE_HOME/chorus, else ~/.cache/chorus). */
CHORUS_API chorus_status chorus_cache_dir(char* path, size_t size);
/* Removes every cached kernel; *removed counts the files (may be NULL). */
CHORUS_API chorus_status chorus_cache_clear(uint64_t* removed);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CHORUS_CHORUS_H */
