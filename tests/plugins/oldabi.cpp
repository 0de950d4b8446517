// oldabi.cpp — a minimal chorus backend, built exactly as against the plugin
// ABI 2.0 headers (CHORUS_ABI_LEVEL=0: no cumsum, twelve unary ops, unary
// attributes without alpha and beta). It is two things:
//  - the test fixture for ABI evolution: loaded by a libchorus of a later 2.x,
//    it must keep working for what it knows and answer
//    CHORUS_ERROR_UNSUPPORTED for what it does not (cumsum, leaky_relu, a
//    unary attribute it has no field for), and libchorus must lower the ops
//    it leaves out (softmax, the norms) to ones it has;
//  - the smallest backend to copy (docs/writing-a-backend.md): one host
//    device, f32 only, the core primitive set (copy, fill, unary, binary,
//    reduce) as plain loops over normalised records, nothing else.
#ifndef CHORUS_ABI_LEVEL
#error "oldabi.cpp is built with CHORUS_ABI_LEVEL=0 (tests/plugins/CMakeLists.txt)"
#endif
#include <chorus/backend.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

static_assert(CHORUS_BACKEND_ABI_VERSION == 0x20000, "built for plugin ABI 2.0");
static_assert(CHORUS_UNARY_COUNT_ == 12, "the 2.0 header has twelve unary ops");

namespace {

const chorus_host_api* host = nullptr;

chorus_status report(chorus_status status, const std::string& message) {
  return host && host->set_error ? host->set_error(status, ("oldabi: " + message).c_str())
                                 : status;
}

struct Buffer {
  unsigned char* data;
  uint64_t bytes;
};
struct Event {
  std::chrono::steady_clock::time_point when;
};
int token = 0;

// ------------------------------------------------------ device and memory

chorus_status plugin_create(const chorus_host_api* h, void** plugin) {
  host = h;
  *plugin = &token;
  return CHORUS_OK;
}
void plugin_destroy(void*) {}
uint32_t device_count(void*) { return 1; }

chorus_status device_info(void*, uint32_t, chorus_device_info* info) {
  std::snprintf(info->description, sizeof info->description, "minimal f32 host backend, ABI 2.0");
  std::snprintf(info->vendor, sizeof info->vendor, "chorus tests");
  std::snprintf(info->driver_version, sizeof info->driver_version, "2.0");
  std::snprintf(info->compiler_version, sizeof info->compiler_version, "none");
  info->kind = CHORUS_DEVICE_KIND_CPU;
  info->usable = 1;
  info->score = -1;  // never chosen by "best"
  info->memory_bytes = info->max_allocation_bytes = uint64_t{1} << 32;
  info->max_work_group_size = info->compute_units = 1;
  info->dtype_mask = 1u << CHORUS_DTYPE_F32;
  info->numerics_supported = info->numerics_default = CHORUS_NUMERICS_DETERMINISTIC;
  return CHORUS_OK;
}
chorus_status device_open(void*, uint32_t, void** device) {
  *device = &token;
  return CHORUS_OK;
}
void device_close(void*) {}

chorus_status buffer_create(void*, uint64_t bytes, void** buffer) {
  auto* b = new (std::nothrow) Buffer{static_cast<unsigned char*>(std::calloc(bytes ? bytes : 1, 1)), bytes};
  if (!b || !b->data) {
    delete b;
    return report(CHORUS_ERROR_OUT_OF_MEMORY, "host allocation failed");
  }
  *buffer = b;
  return CHORUS_OK;
}
void buffer_destroy(void*, void* buffer) {
  auto* b = static_cast<Buffer*>(buffer);
  std::free(b->data);
  delete b;
}
chorus_status queue_create(void*, uint32_t, void** queue) {
  *queue = &token;
  return CHORUS_OK;
}
void queue_destroy(void*) {}
chorus_status queue_sync(void*) { return CHORUS_OK; }
uint32_t queue_numerics(void*) { return CHORUS_NUMERICS_DETERMINISTIC; }
chorus_status buffer_write(void*, void* dst, uint64_t offset, const void* src, uint64_t bytes) {
  std::memcpy(static_cast<Buffer*>(dst)->data + offset, src, bytes);
  return CHORUS_OK;
}
chorus_status buffer_read(void*, void* src, uint64_t offset, void* dst, uint64_t bytes) {
  std::memcpy(dst, static_cast<Buffer*>(src)->data + offset, bytes);
  return CHORUS_OK;
}
chorus_status buffer_copy(void*, void* src, uint64_t so, void* dst, uint64_t doff, uint64_t bytes) {
  std::memmove(static_cast<Buffer*>(dst)->data + doff, static_cast<Buffer*>(src)->data + so, bytes);
  return CHORUS_OK;
}
chorus_status buffer_fill(void*, void* dst, uint64_t offset, uint64_t bytes, const void* pattern,
                          uint32_t size) {
  for (uint64_t i = 0; i < bytes; i += size)
    std::memcpy(static_cast<Buffer*>(dst)->data + offset + i, pattern, size);
  return CHORUS_OK;
}
chorus_status event_create(void*, void** event) {
  *event = new (std::nothrow) Event{};
  return *event ? CHORUS_OK : report(CHORUS_ERROR_OUT_OF_MEMORY, "event allocation failed");
}
void event_destroy(void* event) { delete static_cast<Event*>(event); }
chorus_status event_record(void* event, void*) {
  static_cast<Event*>(event)->when = std::chrono::steady_clock::now();
  return CHORUS_OK;
}
chorus_status event_wait(void*) { return CHORUS_OK; }
chorus_status event_elapsed_ms(void* start, void* end, double* ms) {
  *ms = std::chrono::duration<double, std::milli>(static_cast<Event*>(end)->when -
                                                  static_cast<Event*>(start)->when)
            .count();
  return CHORUS_OK;
}

// ------------------------------------------------------------------- ops

// What op_create keeps: the record's layouts and attributes.
struct Op {
  chorus_op_kind kind;
  uint32_t count;
  chorus_backend_tensor tensors[4];
  unsigned char attrs[64];
};

// The attributes this plugin knows, as the 2.0 header has them. Anything a
// newer libchorus sends past them must be zero ("as before").
uint32_t known_attrs_size(chorus_op_kind kind) {
  switch (kind) {
    case CHORUS_OP_FILL: return sizeof(chorus_fill_attrs);
    case CHORUS_OP_UNARY: return sizeof(chorus_unary_attrs);
    case CHORUS_OP_BINARY: return sizeof(chorus_binary_attrs);
    case CHORUS_OP_REDUCE: return sizeof(chorus_reduce_attrs);
    default: return 0;
  }
}

chorus_status op_supports(void*, const chorus_op_record* op) {
  const int kind = op->kind;
  const bool known = kind == CHORUS_OP_COPY || kind == CHORUS_OP_FILL || kind == CHORUS_OP_UNARY ||
                     kind == CHORUS_OP_BINARY || kind == CHORUS_OP_REDUCE;
  if (!known)
    return report(CHORUS_ERROR_UNSUPPORTED,
                  "op kind " + std::to_string(kind) + " is not one this backend implements");
  if (op->tensor_count > 4)
    return report(CHORUS_ERROR_UNSUPPORTED, "more tensors than this backend takes");
  if (op->attrs_size > sizeof(Op::attrs))
    return report(CHORUS_ERROR_UNSUPPORTED, "attributes larger than this backend knows");
  for (uint32_t i = 0; i < op->tensor_count; ++i)
    if (op->tensors[i].dtype != CHORUS_DTYPE_F32)
      return report(CHORUS_ERROR_UNSUPPORTED, "this backend computes f32 only");
  int32_t sub = 0;
  if (op->attrs && op->attrs_size >= 8) std::memcpy(&sub, static_cast<const char*>(op->attrs) + 4, 4);
  if (kind == CHORUS_OP_UNARY && (sub < 0 || sub >= CHORUS_UNARY_COUNT_))
    return report(CHORUS_ERROR_UNSUPPORTED,
                  "unary op " + std::to_string(sub) + " is newer than this ABI 2.0 backend");
  if (kind == CHORUS_OP_BINARY && (sub < 0 || sub >= CHORUS_BINARY_COUNT_))
    return report(CHORUS_ERROR_UNSUPPORTED, "binary op " + std::to_string(sub) + " is unknown");
  if (kind == CHORUS_OP_REDUCE && (sub < 0 || sub >= CHORUS_REDUCE_COUNT_))
    return report(CHORUS_ERROR_UNSUPPORTED, "reduce op " + std::to_string(sub) + " is unknown");
  if (!chorus_backend_attrs_known(op, known_attrs_size(op->kind)))
    return report(CHORUS_ERROR_UNSUPPORTED,
                  "the op sets attribute fields past byte " +
                      std::to_string(known_attrs_size(op->kind)) +
                      ", which this ABI 2.0 backend does not know");
  return CHORUS_OK;
}

chorus_status op_create(void* device, const chorus_op_record* op, void** prepared) {
  if (const chorus_status s = op_supports(device, op); s != CHORUS_OK) return s;
  auto* kept = new (std::nothrow) Op{};
  if (!kept) return report(CHORUS_ERROR_OUT_OF_MEMORY, "op_create ran out of memory");
  kept->kind = op->kind;
  kept->count = op->tensor_count;
  std::memcpy(kept->tensors, op->tensors, op->tensor_count * sizeof(chorus_backend_tensor));
  if (op->attrs) std::memcpy(kept->attrs, op->attrs, op->attrs_size);
  *prepared = kept;
  return CHORUS_OK;
}

void op_destroy(void*, void* prepared) { delete static_cast<Op*>(prepared); }

// Element i (row-major over t's shape) of a view.
float* at(const chorus_backend_tensor& t, int64_t i) {
  int64_t element = t.offset;
  for (uint32_t k = t.rank; k-- > 0;) {
    element += (i % t.shape[k]) * t.strides[k];
    i /= t.shape[k];
  }
  return static_cast<float*>(t.buffer) + element;
}

int64_t count(const chorus_backend_tensor& t) {
  int64_t n = 1;
  for (uint32_t k = 0; k < t.rank; ++k) n *= t.shape[k];
  return n;
}

float unary(int32_t op, float x) {
  switch (op) {
    case CHORUS_UNARY_NEG: return -x;
    case CHORUS_UNARY_ABS: return std::fabs(x);
    case CHORUS_UNARY_EXP: return std::exp(x);
    case CHORUS_UNARY_LOG: return std::log(x);
    case CHORUS_UNARY_SQRT: return std::sqrt(x);
    case CHORUS_UNARY_RSQRT: return 1.0f / std::sqrt(x);
    case CHORUS_UNARY_TANH: return std::tanh(x);
    case CHORUS_UNARY_SIGMOID: return 1.0f / (1.0f + std::exp(-x));
    case CHORUS_UNARY_RELU: return x > 0 || x != x ? x : 0.0f;
    case CHORUS_UNARY_GELU_ERF: return 0.5f * x * std::erfc(-x * 0.70710678f);
    case CHORUS_UNARY_GELU_TANH:
      return x / (1.0f + std::exp(-1.5957691f * (x + 0.044715f * x * x * x)));
    case CHORUS_UNARY_SILU: return x / (1.0f + std::exp(-x));
    default: return NAN;  // op_supports refused anything else
  }
}

float maximum(float a, float b) {
  if (a != a) return a;
  if (b != b) return b;
  if (a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}
float minimum(float a, float b) {
  if (a != a) return a;
  if (b != b) return b;
  if (a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

float binary(int32_t op, float a, float b) {
  switch (op) {
    case CHORUS_BINARY_ADD: return a + b;
    case CHORUS_BINARY_SUB: return a - b;
    case CHORUS_BINARY_MUL: return a * b;
    case CHORUS_BINARY_DIV: return a / b;
    case CHORUS_BINARY_MAX: return maximum(a, b);
    case CHORUS_BINARY_MIN: return minimum(a, b);
    default: return std::pow(a, b);  // CHORUS_BINARY_POW (op_supports refused the rest)
  }
}

chorus_status op_execute(void*, void* prepared, const chorus_backend_binding* bindings,
                         uint32_t) {
  Op op = *static_cast<const Op*>(prepared);
  for (uint32_t i = 0; i < op.count; ++i) {
    op.tensors[i].buffer = bindings[i].buffer ? static_cast<Buffer*>(bindings[i].buffer)->data : nullptr;
    op.tensors[i].offset = bindings[i].offset;
  }
  int32_t sub = 0;
  std::memcpy(&sub, op.attrs + 4, 4);
  const chorus_backend_tensor& out = op.tensors[op.count - 1];
  const int64_t n = count(out);
  switch (op.kind) {
    case CHORUS_OP_COPY:
      for (int64_t i = 0; i < n; ++i) *at(out, i) = *at(op.tensors[0], i);
      break;
    case CHORUS_OP_FILL: {
      double value;
      std::memcpy(&value, op.attrs + 8, sizeof value);
      for (int64_t i = 0; i < n; ++i) *at(out, i) = static_cast<float>(value);
      break;
    }
    case CHORUS_OP_UNARY:
      for (int64_t i = 0; i < n; ++i) *at(out, i) = unary(sub, *at(op.tensors[0], i));
      break;
    case CHORUS_OP_BINARY:
      for (int64_t i = 0; i < n; ++i)
        *at(out, i) = binary(sub, *at(op.tensors[0], i), *at(op.tensors[1], i));
      break;
    case CHORUS_OP_REDUCE: {
      // The normal form: the reduced axes are x's last ones; out has extent 1 there.
      const chorus_backend_tensor& x = op.tensors[0];
      const int64_t row = count(x) / n;
      for (int64_t o = 0; o < n; ++o) {
        double acc = sub == CHORUS_REDUCE_MAX ? -INFINITY : sub == CHORUS_REDUCE_MIN ? INFINITY : 0;
        for (int64_t j = 0; j < row; ++j) {
          const float v = *at(x, o * row + j);
          acc = sub == CHORUS_REDUCE_MAX   ? maximum(static_cast<float>(acc), v)
                : sub == CHORUS_REDUCE_MIN ? minimum(static_cast<float>(acc), v)
                                           : acc + v;
        }
        if (sub == CHORUS_REDUCE_MEAN) acc /= static_cast<double>(row);
        *at(out, o) = static_cast<float>(acc);
      }
      break;
    }
    default:
      return report(CHORUS_ERROR_UNSUPPORTED, "op kind not implemented");
  }
  return CHORUS_OK;
}

const chorus_backend_vtable vtable = {
    CHORUS_BACKEND_ABI_VERSION, sizeof(chorus_backend_vtable), "oldabi",
    plugin_create, plugin_destroy, device_count, device_info, device_open, device_close,
    buffer_create, buffer_destroy, queue_create, queue_destroy, queue_sync, queue_numerics,
    buffer_write, buffer_read, buffer_copy, buffer_fill,
    event_create, event_destroy, event_record, event_wait, event_elapsed_ms,
    op_supports, op_create, op_execute, op_destroy, nullptr};

}  // namespace

extern "C" __attribute__((visibility("default"))) const chorus_backend_vtable* chorus_backend_entry(
    uint32_t abi_version) {
  return abi_version == 0 || CHORUS_BACKEND_ABI_MAJOR_OF(abi_version) == CHORUS_BACKEND_ABI_MAJOR
             ? &vtable
             : nullptr;
}
