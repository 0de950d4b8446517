// compiled_backend.cpp — see compiled_backend.hpp.
#include "compiled_backend.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <new>

namespace chorus::backend_common {

// ------------------------------------------------------------- programs

chorus_status CompiledDevice::get_program(const ProgramSpec& spec, void** out) {
  const std::string key = spec.key();
  if (auto found = programs_.find(key); found != programs_.end()) {
    *out = found->second.handle;
    return CHORUS_OK;
  }
  ProgramText text;
  std::string missing;
  text.source = program_source(spec, &missing);
  if (!missing.empty())
    return report(CHORUS_ERROR_INTERNAL,
                  "kernel file " + missing + " is not embedded in the plugin");
  text.options = program_options(spec);
  text.cache_key = cache_key(text.options, text.source);
  void* program = nullptr;
  load_cached_program(cache, text.cache_key, spec.label, stats, log,
                      [&](const std::vector<uint8_t>& binary) {
                        if (load_binary(binary, text, &program)) return true;
                        program = nullptr;
                        return false;
                      });
  if (!program) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<uint8_t> binary;
    const chorus_status s = compile(spec, text, &program, &binary);
    stats.compile_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (s != CHORUS_OK) return s;
    ++stats.compiled;
    store_compiled_program(cache, text.cache_key, spec.label, binary, log);
  }
  programs_[key].handle = program;
  *out = program;
  return CHORUS_OK;
}

chorus_status CompiledDevice::get_kernel(const Launch& launch, void** out) {
  void* program = nullptr;
  if (const chorus_status s = get_program(launch.program, &program); s != CHORUS_OK) return s;
  Program& entry = programs_[launch.program.key()];
  if (auto found = entry.kernels.find(launch.kernel); found != entry.kernels.end()) {
    *out = found->second;
    return CHORUS_OK;
  }
  void* kernel = nullptr;
  if (const chorus_status s = find_kernel(program, launch, &kernel); s != CHORUS_OK) return s;
  entry.kernels[launch.kernel] = kernel;
  *out = kernel;
  return CHORUS_OK;
}

void CompiledDevice::release_programs() {
  for (auto& [key, program] : programs_) {
    for (auto& [name, kernel] : program.kernels) release_kernel(kernel);
    release_program(program.handle);
  }
  programs_.clear();
}

// ----------------------------------------------------------------- runs

chorus_status CompiledDevice::ensure_scratch(CompiledQueue& q, const Plan& plan) {
  for (int i = 0; i < 2; ++i) {
    const uint64_t wanted = std::max<uint64_t>(plan.scratch_bytes[i], 64);
    if (q.scratch[i] && q.scratch_bytes[i] >= wanted) continue;
    if (q.scratch[i])
      if (const chorus_status s = free_after(q.native, q.scratch[i]); s != CHORUS_OK) return s;
    q.scratch[i] = 0;
    q.scratch_bytes[i] = 0;
    if (wanted > max_allocation())
      return report(CHORUS_ERROR_OUT_OF_MEMORY,
                    "the op needs " + std::to_string(wanted) + " bytes of scratch, more than the " +
                        std::to_string(max_allocation()) +
                        " bytes the device allows in one allocation");
    if (const chorus_status s = alloc(wanted, &q.scratch[i]); s != CHORUS_OK) return s;
    q.scratch_bytes[i] = wanted;
  }
  return CHORUS_OK;
}

chorus_status CompiledDevice::run(CompiledQueue& q, const Plan& plan, void* const* kernels,
                                  const chorus_backend_binding* bindings, uint32_t binding_count) {
  if (const chorus_status s = ensure_scratch(q, plan); s != CHORUS_OK) return s;
  std::unique_lock<std::mutex> lock(mutex, std::defer_lock);
  if (kernels_hold_arguments) lock.lock();
  // Reused by every run on this thread: no allocation per op once warm.
  thread_local std::vector<ArgValue> args;
  thread_local std::vector<unsigned char> patched;
  for (size_t i = 0; i < plan.launches.size(); ++i) {
    const Launch& l = plan.launches[i];
    // Arguments that receive offsets are copied first (the plan stays as
    // it is: other threads may run it at the same time).
    uint32_t patched_args = 0;
    size_t patched_bytes = 0;
    for (const OffsetPatch& p : l.patches) {
      if (p.arg >= l.args.size() || p.arg >= 32 || p.slot >= binding_count ||
          p.byte + sizeof(int64_t) > l.args[p.arg].bytes.size())
        return report(CHORUS_ERROR_INTERNAL, l.kernel + ": an offset patch is out of range");
      if (!(patched_args & (1u << p.arg))) patched_bytes += l.args[p.arg].bytes.size();
      patched_args |= 1u << p.arg;
    }
    patched.resize(patched_bytes);
    args.assign(l.args.size(), ArgValue{});
    size_t at = 0;
    for (size_t j = 0; j < l.args.size(); ++j) {
      const KernelArg& a = l.args[j];
      ArgValue& v = args[j];
      switch (a.kind) {
        case KernelArg::Kind::buffer:
          if (a.index < 0 || static_cast<uint32_t>(a.index) >= binding_count)
            return report(CHORUS_ERROR_INTERNAL, l.kernel + ": argument " +
                                                     std::to_string(j) + " names tensor " +
                                                     std::to_string(a.index) + ", which the op lacks");
          v.memory = true;
          if (const void* b = bindings[a.index].buffer)
            v.handle = static_cast<const CompiledBuffer*>(b)->handle;
          break;
        case KernelArg::Kind::scratch:
          v.memory = true;
          v.handle = q.scratch[a.index];
          break;
        case KernelArg::Kind::null_buffer:
          v.memory = true;
          break;
        case KernelArg::Kind::bytes:
          v.size = a.bytes.size();
          if (j < 32 && (patched_args & (1u << j)) != 0) {
            std::memcpy(patched.data() + at, a.bytes.data(), a.bytes.size());
            v.data = patched.data() + at;
            at += a.bytes.size();
          } else {
            v.data = a.bytes.data();
          }
          break;
      }
    }
    for (const OffsetPatch& p : l.patches) {
      auto* bytes = static_cast<unsigned char*>(const_cast<void*>(args[p.arg].data));
      const int64_t offset = bindings[p.slot].offset;
      std::memcpy(bytes + p.byte, &offset, sizeof offset);
    }
    if (const chorus_status s = launch(q.native, kernels[i], l, args); s != CHORUS_OK) return s;
  }
  return CHORUS_OK;
}

namespace {

CompiledDevice& device_of(void* device) {
  return *static_cast<CompiledDevice*>(device);
}

// ------------------------------------------------------------------ ops

// An op planned and compiled for one record's layouts.
struct PreparedOp {
  Plan plan;
  std::vector<void*> kernels;  // launch i's kernel, owned by the device's cache
};

chorus_status plan_for(CompiledDevice& d, const chorus_op_record* op, Plan* plan) {
  std::string why;
  const chorus_status s = plan_op(*op, d.traits, plan, &why);
  return s == CHORUS_OK ? CHORUS_OK : d.report(s, why);
}

// The kernels of every launch of a plan (compiled or loaded as needed).
chorus_status resolve(CompiledDevice& d, const Plan& plan, std::vector<void*>* kernels) {
  std::lock_guard<std::mutex> lock(d.mutex);
  kernels->resize(plan.launches.size());
  for (size_t i = 0; i < plan.launches.size(); ++i)
    if (const chorus_status s = d.get_kernel(plan.launches[i], &(*kernels)[i]); s != CHORUS_OK)
      return s;
  return CHORUS_OK;
}

chorus_status op_supports(void* device, const chorus_op_record* op) {
  Plan plan;
  return plan_for(device_of(device), op, &plan);
}

chorus_status op_create(void* device, const chorus_op_record* op, void** prepared) {
  CompiledDevice& d = device_of(device);
  auto p = std::unique_ptr<PreparedOp>(new (std::nothrow) PreparedOp);
  if (!p) return d.report(CHORUS_ERROR_OUT_OF_MEMORY, "out of host memory");
  if (const chorus_status s = plan_for(d, op, &p->plan); s != CHORUS_OK) return s;
  if (const chorus_status s = d.enter(); s != CHORUS_OK) return s;
  if (const chorus_status s = resolve(d, p->plan, &p->kernels); s != CHORUS_OK) return s;
  *prepared = p.release();
  return CHORUS_OK;
}

chorus_status op_execute(void* queue, void* prepared, const chorus_backend_binding* bindings,
                         uint32_t binding_count) {
  CompiledQueue& q = compiled_queue(queue);
  const auto& p = *static_cast<const PreparedOp*>(prepared);
  if (const chorus_status s = q.device->enter(); s != CHORUS_OK) return s;
  return q.device->run(q, p.plan, p.kernels.data(), bindings, binding_count);
}

void op_destroy(void*, void* prepared) {
  delete static_cast<PreparedOp*>(prepared);
}

chorus_status device_kernel_stats(void* device, chorus_kernel_stats* stats) {
  CompiledDevice& d = device_of(device);
  std::lock_guard<std::mutex> lock(d.mutex);
  *stats = d.stats;
  return CHORUS_OK;
}

void device_close(void* device) {
  auto* d = static_cast<CompiledDevice*>(device);
  if (!d) return;
  d->log(2, d->label() + ": " + kernel_stats_text(d->stats));
  if (d->enter() == CHORUS_OK) d->release_programs();
  delete d;
}

// ---------------------------------------------------- buffers and queues

chorus_status buffer_create(void* device, uint64_t bytes, void** out) {
  CompiledDevice& d = device_of(device);
  auto* b = new (std::nothrow) CompiledBuffer{0, bytes};
  if (!b) return d.report(CHORUS_ERROR_OUT_OF_MEMORY, "out of host memory");
  chorus_status s = d.enter();
  if (s == CHORUS_OK) s = d.alloc(bytes, &b->handle);
  if (s != CHORUS_OK) {
    delete b;
    return s;
  }
  *out = b;
  return CHORUS_OK;
}

void buffer_destroy(void* device, void* buffer) {
  auto* b = static_cast<CompiledBuffer*>(buffer);
  if (!b) return;
  CompiledDevice& d = device_of(device);
  if (d.enter() == CHORUS_OK) d.free(b->handle);
  delete b;
}

chorus_status queue_create(void* device, uint32_t, void** out) {
  CompiledDevice& d = device_of(device);
  if (const chorus_status s = d.enter(); s != CHORUS_OK) return s;
  auto* q = new (std::nothrow) CompiledQueue;
  if (!q) return d.report(CHORUS_ERROR_OUT_OF_MEMORY, "out of host memory");
  q->device = &d;
  if (const chorus_status s = d.queue_create(&q->native); s != CHORUS_OK) {
    delete q;
    return s;
  }
  *out = q;
  return CHORUS_OK;
}

void queue_destroy(void* queue) {
  auto* q = static_cast<CompiledQueue*>(queue);
  if (!q) return;
  CompiledDevice& d = *q->device;
  if (d.enter() == CHORUS_OK) {
    d.queue_destroy(q->native);  // waits for the queue's work: scratch is free
    for (uint64_t m : q->scratch)
      if (m) d.free(m);
  }
  delete q;
}

chorus_status queue_sync(void* queue) {
  CompiledQueue& q = compiled_queue(queue);
  if (const chorus_status s = q.device->enter(); s != CHORUS_OK) return s;
  return q.device->queue_sync(q.native);
}

uint32_t queue_numerics(void*) {
  // No float atomics and fixed reduction orders in any kernel.
  return CHORUS_NUMERICS_DETERMINISTIC;
}

chorus_status buffer_write(void* queue, void* dst, uint64_t offset, const void* src,
                           uint64_t bytes) {
  if (bytes == 0) return CHORUS_OK;
  CompiledQueue& q = compiled_queue(queue);
  if (const chorus_status s = q.device->enter(); s != CHORUS_OK) return s;
  return q.device->write(q.native, static_cast<CompiledBuffer*>(dst)->handle, offset, src, bytes);
}

chorus_status buffer_read(void* queue, void* src, uint64_t offset, void* dst, uint64_t bytes) {
  if (bytes == 0) return CHORUS_OK;
  CompiledQueue& q = compiled_queue(queue);
  if (const chorus_status s = q.device->enter(); s != CHORUS_OK) return s;
  return q.device->read(q.native, static_cast<CompiledBuffer*>(src)->handle, offset, dst, bytes);
}

// A byte-range plan run on q over the given buffers (offsets in the plan).
chorus_status run_bytes_plan(CompiledQueue& q, const Plan& plan, void* first, void* second) {
  CompiledDevice& d = *q.device;
  if (const chorus_status s = d.enter(); s != CHORUS_OK) return s;
  std::vector<void*> kernels;
  if (const chorus_status s = resolve(d, plan, &kernels); s != CHORUS_OK) return s;
  const chorus_backend_binding bindings[2] = {{first, 0}, {second, 0}};
  return d.run(q, plan, kernels.data(), bindings, second ? 2 : 1);
}

// Device copies and fills run as the portable kernels rather than the
// APIs' own copies: on PoCL clEnqueueCopyBuffer / clEnqueueFillBuffer are a
// single-threaded memcpy at about half the bandwidth the kernels reach
// (docs/perf/pocl.md), and one code path serves every backend (byte offsets
// of any alignment included).
chorus_status buffer_copy(void* queue, void* src, uint64_t src_offset, void* dst,
                          uint64_t dst_offset, uint64_t bytes) {
  if (bytes == 0) return CHORUS_OK;
  CompiledQueue& q = compiled_queue(queue);
  Plan plan;
  std::string why;
  if (const chorus_status s =
          plan_buffer_copy(q.device->traits, src_offset, dst_offset, bytes, &plan, &why);
      s != CHORUS_OK)
    return q.device->report(s, why);
  return run_bytes_plan(q, plan, src, dst);
}

chorus_status buffer_fill(void* queue, void* dst, uint64_t offset, uint64_t bytes,
                          const void* pattern, uint32_t pattern_size) {
  if (bytes == 0) return CHORUS_OK;
  CompiledQueue& q = compiled_queue(queue);
  Plan plan;
  std::string why;
  if (const chorus_status s = plan_buffer_fill(q.device->traits, offset, bytes, pattern,
                                               pattern_size, &plan, &why);
      s != CHORUS_OK)
    return q.device->report(s, why);
  return run_bytes_plan(q, plan, dst, nullptr);
}

}  // namespace

void fill_compiled_vtable(chorus_backend_vtable* v) {
  v->device_close = device_close;
  v->buffer_create = buffer_create;
  v->buffer_destroy = buffer_destroy;
  v->queue_create = queue_create;
  v->queue_destroy = queue_destroy;
  v->queue_sync = queue_sync;
  v->queue_numerics = queue_numerics;
  v->buffer_write = buffer_write;
  v->buffer_read = buffer_read;
  v->buffer_copy = buffer_copy;
  v->buffer_fill = buffer_fill;
  v->op_supports = op_supports;
  v->op_create = op_create;
  v->op_execute = op_execute;
  v->op_destroy = op_destroy;
  v->device_kernel_stats = device_kernel_stats;
}

}  // namespace chorus::backend_common
