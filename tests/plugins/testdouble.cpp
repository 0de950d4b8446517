// testdouble.cpp — a plugin built only for tests. It computes every op
// through the reference (host memory, synchronous) and, when the environment
// variable CHORUS_TESTDOUBLE_FAULT names a fault, plants that fault so tests
// can prove the conformance suite catches it:
//
//   wrong_element     one element of a large output (>= 1024 elements) is off
//   oob_write         one element is written just past the end of the output view
//   nan               one element of a float output becomes NaN
//   wrong_stride      inputs are read as if contiguous, ignoring their strides
//   f16_accumulation  f16 GEMM accumulates in f16 instead of f32
//   softmax_no_max    softmax computes exp(x) / sum(exp(x)) in f32, no max subtraction
//
// The variable is read on every op, so one process can switch faults.
#include <chorus/backend.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "backends/reference/reference.hpp"
#include "common/numeric.hpp"
#include "common/op_view.hpp"

namespace {

const chorus_host_api* host = nullptr;

chorus_status report(chorus_status status, const char* message) {
  return host ? host->set_error(status, message) : status;
}

struct Buffer {
  unsigned char* data;
  uint64_t bytes;
};
struct Event {
  std::chrono::steady_clock::time_point when;
  bool recorded = false;
};
int device_token = 0;
int queue_token = 0;

void* reference_plugin = nullptr;

// Several contexts may load this library at once (one dlopen, shared
// globals): the reference's plugin object is made by the first and freed
// by the last.
int instances = 0;

chorus_status plugin_create(const chorus_host_api* h, void** plugin) {
  host = h;
  if (instances == 0) {
    // Lets the reference's own error messages reach libchorus through `host`.
    const chorus_status status = chorus::reference::vtable()->plugin_create(h, &reference_plugin);
    if (status != CHORUS_OK) return status;
  }
  ++instances;
  *plugin = &device_token;
  return CHORUS_OK;
}
void plugin_destroy(void*) {
  if (--instances > 0) return;
  if (reference_plugin) chorus::reference::vtable()->plugin_destroy(reference_plugin);
  reference_plugin = nullptr;
}
uint32_t device_count(void*) { return 1; }

chorus_status device_info(void*, uint32_t, chorus_device_info* info) {
  *info = chorus_device_info{};
  std::snprintf(info->description, sizeof info->description, "chorus test double (reference + planted faults)");
  std::snprintf(info->vendor, sizeof info->vendor, "chorus tests");
  std::snprintf(info->driver_version, sizeof info->driver_version, "%s", "test");
  std::snprintf(info->compiler_version, sizeof info->compiler_version, "%s", "none");
  info->kind = CHORUS_DEVICE_KIND_CPU;
  info->usable = 1;
  info->score = -1;  // never chosen by "best"
  info->memory_bytes = 1ull << 34;
  info->max_allocation_bytes = 1ull << 34;
  info->max_work_group_size = 1;
  info->compute_units = 1;
  for (int d = 1; d < CHORUS_DTYPE_COUNT_; ++d) info->dtype_mask |= 1u << d;
  info->has_fp64 = 1;
  info->numerics_supported = CHORUS_NUMERICS_DETERMINISTIC;
  info->numerics_default = CHORUS_NUMERICS_DETERMINISTIC;
  return CHORUS_OK;
}

chorus_status device_open(void*, uint32_t, void** device) {
  *device = &device_token;
  return CHORUS_OK;
}
void device_close(void*) {}

chorus_status buffer_create(void*, uint64_t bytes, void** buffer) {
  auto* b = new (std::nothrow) Buffer{static_cast<unsigned char*>(std::malloc(bytes ? bytes : 1)), bytes};
  if (!b || !b->data) {
    if (b) delete b;
    return report(CHORUS_ERROR_OUT_OF_MEMORY, "testdouble: host allocation failed");
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
  *queue = &queue_token;
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
  unsigned char* p = static_cast<Buffer*>(dst)->data + offset;
  for (uint64_t i = 0; i < bytes; i += size) std::memcpy(p + i, pattern, size);
  return CHORUS_OK;
}

chorus_status event_create(void*, void** event) {
  *event = new (std::nothrow) Event{};
  return *event ? CHORUS_OK : report(CHORUS_ERROR_OUT_OF_MEMORY, "testdouble: event allocation failed");
}
void event_destroy(void* event) { delete static_cast<Event*>(event); }
chorus_status event_record(void* event, void*) {
  auto* e = static_cast<Event*>(event);
  e->when = std::chrono::steady_clock::now();
  e->recorded = true;
  return CHORUS_OK;
}
chorus_status event_wait(void*) { return CHORUS_OK; }
chorus_status event_elapsed_ms(void* start, void* end, double* ms) {
  auto* a = static_cast<Event*>(start);
  auto* b = static_cast<Event*>(end);
  *ms = std::chrono::duration<double, std::milli>(b->when - a->when).count();
  return CHORUS_OK;
}

chorus_status op_supports(void*, const chorus_op_record*) { return CHORUS_OK; }
chorus_status op_create(void*, const chorus_op_record* op, void** prepared) {
  *prepared = new (std::nothrow) chorus::KeptOp(*op);
  return *prepared ? CHORUS_OK
                   : report(CHORUS_ERROR_OUT_OF_MEMORY, "testdouble: op_create ran out of memory");
}
void op_destroy(void*, void* prepared) { delete static_cast<chorus::KeptOp*>(prepared); }

int64_t numel(const chorus_backend_tensor& t) {
  int64_t n = 1;
  for (uint32_t i = 0; i < t.rank; ++i) n *= t.shape[i];
  return n;
}

// Element index (in the buffer) of the i-th element of t in row-major order.
int64_t element_index(const chorus_backend_tensor& t, int64_t linear) {
  int64_t index = t.offset;
  for (uint32_t d = t.rank; d-- > 0;) {
    index += (linear % t.shape[d]) * t.strides[d];
    linear /= t.shape[d];
  }
  return index;
}

int64_t last_index(const chorus_backend_tensor& t) {
  int64_t index = t.offset;
  for (uint32_t d = 0; d < t.rank; ++d) index += (t.shape[d] - 1) * t.strides[d];
  return index;
}

// f16 GEMM that rounds every partial sum to f16: the classic precision bug.
void gemm_f16_accumulation(const chorus::BoundOp& d) {
  const auto& g = d.attrs_as<chorus_gemm_desc>();
  const auto &a = d.tensors[0], &b = d.tensors[1], &c = d.tensors[3];
  for (int64_t n = 0; n < c.shape[0]; ++n)
    for (int64_t i = 0; i < c.shape[1]; ++i)
      for (int64_t j = 0; j < c.shape[2]; ++j) {
        double acc = 0;
        for (int64_t k = 0; k < a.shape[2]; ++k) {
          const double x = static_cast<double>(chorus::numeric::load(
              a.buffer, a.dtype, a.offset + n * a.strides[0] + i * a.strides[1] + k * a.strides[2]));
          const double y = static_cast<double>(chorus::numeric::load(
              b.buffer, b.dtype, b.offset + n * b.strides[0] + k * b.strides[1] + j * b.strides[2]));
          acc = chorus::numeric::f16_to_double(chorus::numeric::f16_from_double(acc + x * y));
        }
        const int64_t ci = c.offset + n * c.strides[0] + i * c.strides[1] + j * c.strides[2];
        double v = g.alpha * acc;
        if (g.beta != 0) v += g.beta * static_cast<double>(chorus::numeric::load(c.buffer, c.dtype, ci));
        if (d.has(2)) {
          const auto& bias = d.tensors[2];
          v += static_cast<double>(chorus::numeric::load(
              bias.buffer, bias.dtype,
              bias.offset + n * bias.strides[0] + i * bias.strides[1] + j * bias.strides[2]));
        }
        chorus::numeric::store(c.buffer, c.dtype, ci, v);
      }
}

// Softmax the way it is written on a whiteboard: overflows for x > 88 in f32.
void softmax_without_max(const chorus::BoundOp& d) {
  const auto &x = d.tensors[0], &y = d.tensors[1];
  const int64_t n = x.shape[x.rank - 1];
  const int64_t rows = numel(x) / n;
  for (int64_t r = 0; r < rows; ++r) {
    float sum = 0;
    for (int64_t j = 0; j < n; ++j)
      sum += std::exp(static_cast<float>(chorus::numeric::load(x.buffer, x.dtype, element_index(x, r * n + j))));
    for (int64_t j = 0; j < n; ++j) {
      const float e = std::exp(static_cast<float>(chorus::numeric::load(x.buffer, x.dtype, element_index(x, r * n + j))));
      const float v = d.attrs_as<chorus_softmax_attrs>().log ? std::log(e / sum) : e / sum;
      chorus::numeric::store(y.buffer, y.dtype, element_index(y, r * n + j), v);
    }
  }
}

chorus_status op_execute(void*, void* prepared, const chorus_backend_binding* bindings, uint32_t) {
  const char* env = std::getenv("CHORUS_TESTDOUBLE_FAULT");
  const std::string fault = env ? env : "";
  const auto* kept = static_cast<const chorus::KeptOp*>(prepared);
  chorus::BoundOp d = kept->bind(bindings, [](void* b) { return static_cast<void*>(static_cast<Buffer*>(b)->data); });
  uint64_t sizes[chorus::kMaxOpTensors] = {};
  for (uint32_t i = 0; i < d.count; ++i)
    if (bindings[i].buffer) sizes[i] = static_cast<Buffer*>(bindings[i].buffer)->bytes;
  // The output the faults hit: each op's last slot (gemm's c, the norms'
  // y, ...), except where that slot is an optional extra output or a state
  // (dropout's mask: its y; the optimizers' states: the parameter; conv's
  // dbias: its dw; pooling's indices: its y; the norm gradients' dgamma
  // and dbeta: their dx).
  uint32_t out_index = d.count - 1;
#if CHORUS_ABI_LEVEL >= 2
  if (d.kind == CHORUS_OP_DROPOUT) out_index = 1;
  if (d.kind == CHORUS_OP_SGD || d.kind == CHORUS_OP_ADAMW) out_index = 0;
#endif
#if CHORUS_ABI_LEVEL >= 3
  if (d.kind == CHORUS_OP_CONV2D_BACKWARD_WEIGHT) out_index = 2;  // dw, not the optional dbias
#endif
#if CHORUS_ABI_LEVEL >= 4
  if (d.kind == CHORUS_OP_POOL2D) out_index = 1;  // y, not the optional indices
#endif
#if CHORUS_ABI_LEVEL >= 6
  // The gradients' dx, not the per-feature (or per-channel) dgamma / dbeta.
  if (d.kind == CHORUS_OP_LAYER_NORM_BACKWARD || d.kind == CHORUS_OP_RMS_NORM_BACKWARD) out_index = 3;
  if (d.kind == CHORUS_OP_BATCH_NORM_BACKWARD) out_index = 5;
  if (d.kind == CHORUS_OP_GROUP_NORM_BACKWARD) out_index = 3;
#endif
  // An optional output the call left out: the last slot that is there.
  if (!d.tensors[out_index].buffer)
    for (out_index = d.count - 1; out_index > 0 && !d.tensors[out_index].buffer;) --out_index;

  if (fault == "wrong_stride") {
    // Read inputs as dense row-major, as a kernel that forgot its strides
    // would; only where that stays inside the buffer, so the fault is a wrong
    // answer and never a host crash.
    for (uint32_t i = 0; i < d.count; ++i) {
      if (i == out_index || !d.tensors[i].buffer) continue;
      chorus_backend_tensor& t = d.tensors[i];
      int64_t stride = 1;
      chorus_backend_tensor dense = t;
      for (uint32_t k = t.rank; k-- > 0;) {
        dense.strides[k] = stride;
        stride *= t.shape[k];
      }
      const uint64_t need = static_cast<uint64_t>(t.offset + stride) * chorus_dtype_size(t.dtype);
      if (need <= sizes[i]) t = dense;
    }
  }

  if (fault == "f16_accumulation" && d.kind == CHORUS_OP_GEMM && d.tensors[0].dtype == CHORUS_DTYPE_F16 &&
      d.attrs_as<chorus_gemm_desc>().activation == CHORUS_ACTIVATION_NONE) {
    gemm_f16_accumulation(d);
    return CHORUS_OK;
  }
  if (fault == "softmax_no_max" && d.kind == CHORUS_OP_SOFTMAX) {
    softmax_without_max(d);
    return CHORUS_OK;
  }

  const chorus_status status = chorus::reference::execute(d);
  if (status != CHORUS_OK) return status;

  const chorus_backend_tensor& out = d.tensors[out_index];
  const int64_t count = numel(out);
  if (fault == "wrong_element" && count >= 1024) {
    const int64_t at = element_index(out, count / 2 + 7);
    const long double v = chorus::numeric::load(out.buffer, out.dtype, at);
    chorus::numeric::store(out.buffer, out.dtype, at,
                           chorus::numeric::is_float(out.dtype) ? v * 1.5L + 1.0L : v + 1.0L);
  } else if (fault == "oob_write") {
    const int64_t past = last_index(out) + 1;
    if (static_cast<uint64_t>(past + 1) * chorus_dtype_size(out.dtype) <= sizes[out_index])
      chorus::numeric::store(out.buffer, out.dtype, past, 3.0L);
  } else if (fault == "nan" && chorus::numeric::is_float(out.dtype)) {
    chorus::numeric::store(out.buffer, out.dtype, element_index(out, count / 2),
                           std::numeric_limits<long double>::quiet_NaN());
  }
  return CHORUS_OK;
}

const chorus_backend_vtable vtable = {
    CHORUS_BACKEND_ABI_VERSION, sizeof(chorus_backend_vtable), "testdouble",
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
