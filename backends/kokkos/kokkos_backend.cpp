// kokkos_backend.cpp — the Kokkos backend's host driver: the plugin vtable
// (libchorus-kokkos.so), Kokkos's lifetime in the process, one device that is
// Kokkos's default execution space, buffers as Kokkos::Views of bytes in its
// default memory space, queues on the default execution-space instance, and
// the op registry: each op family (src/ops/<family>/kokkos.cpp) registers its
// kinds once, through the generated chorus::ops::register_all_kokkos();
// op_create keeps the normalised record (KeptOp), op_execute binds it to the
// buffers of one call and hands it to the kind's entry.
//
// Lifetime: Kokkos is initialised once, by the first plugin_create, unless the
// application already did it (then it is the application's to finalise), and
// finalised from an atexit handler, because Kokkos cannot be initialised
// again after finalize while contexts come and go. The library is linked
// nodelete (see CMakeLists.txt) so that handler and Kokkos's state outlive
// libchorus's dlclose. No exception may cross the C vtable: every entry
// point catches and reports.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>
#include <string>
#include <type_traits>

#include "kokkos_ops.hpp"

namespace chorus::ops {
void register_all_kokkos();  // generated: every family's register_kokkos()
}

namespace chorus::kokkos {

// Kernels of the host driver itself, outside the anonymous namespace below:
// device compilers (nvcc) refuse extended lambdas in unnamed namespaces.
struct Pattern {
  unsigned char byte[8];
};

void fill_pattern(const Exec& exec, unsigned char* out, int64_t bytes, const Pattern& p,
                  int64_t size) {
  // Byte by byte: the range need not be aligned to the pattern, and a tail
  // shorter than the pattern gets its leading bytes.
  Kokkos::parallel_for(
      "chorus::buffer_fill", Range(exec, 0, bytes),
      KOKKOS_LAMBDA(int64_t i) { out[i] = p.byte[i % size]; });
}

struct EmptyTeamWork {
  KOKKOS_INLINE_FUNCTION void operator()(const Member&) const {}
};

namespace {

using Bytes = Kokkos::View<unsigned char*, Memory>;
using HostBytes = Kokkos::View<unsigned char*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>;
using ConstHostBytes =
    Kokkos::View<const unsigned char*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>;

const chorus_host_api* g_host = nullptr;

// Guards Kokkos start-up and finalisation, and serialises every dispatch:
// the queues share one execution-space instance, and some spaces (Serial's
// team and reduction scratch among them) are not safe to launch into from
// two host threads at once.
std::mutex g_mutex;
bool g_we_initialised = false;
bool g_finalised = false;

// The op registry, by kind; filled once (ensure_registered) and only read
// after that.
OpEntry g_ops[CHORUS_OP_COUNT_] = {};

void ensure_registered() {
  static std::once_flag once;
  std::call_once(once, [] { chorus::ops::register_all_kokkos(); });
}

// Every op here reduces in a fixed order (fixed-length chunks, exact
// order-free reducers, GEMM sums in k order, cumsum scans in index order)
// and uses no atomics, so repeated runs give identical bits on any execution
// space.
constexpr uint32_t kNumerics = CHORUS_NUMERICS_DETERMINISTIC;

#if defined(__clang__)
constexpr const char* kCompiler = "clang " __clang_version__;
#elif defined(__GNUC__)
constexpr const char* kCompiler = "g++ " __VERSION__;
#else
constexpr const char* kCompiler = "unknown C++ compiler";
#endif

// A host space runs on the CPU; any other default space is an accelerator.
constexpr bool kHostSpace = std::is_same_v<Exec, Kokkos::DefaultHostExecutionSpace>;

struct Plugin {};
struct Device {};
struct Buffer {
  Bytes view;
};
struct Queue {
  Exec exec;
};
struct Event {
  bool recorded = false;
  std::chrono::steady_clock::time_point time;
};

std::string kokkos_version() {
  return std::to_string(KOKKOS_VERSION / 10000) + "." + std::to_string(KOKKOS_VERSION / 100 % 100) +
         "." + std::to_string(KOKKOS_VERSION % 100);
}

uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size);
}

void finalise_at_exit() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_we_initialised && Kokkos::is_initialized()) Kokkos::finalize();
  g_finalised = true;
}

chorus_status ensure_kokkos() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (Kokkos::is_initialized()) return CHORUS_OK;
  if (g_finalised || g_we_initialised)
    return report(
        CHORUS_ERROR_UNAVAILABLE,
        "kokkos: Kokkos has been finalised in this process and cannot be initialised again");
  // Through argc/argv so that Kokkos also reads its environment variables
  // (KOKKOS_NUM_THREADS, KOKKOS_DEVICE_ID, ...).
  char program[] = "chorus";
  char* argv[] = {program, nullptr};
  int argc = 1;
  Kokkos::initialize(argc, argv);
  g_we_initialised = true;
  std::atexit(finalise_at_exit);
  return CHORUS_OK;
}

// Work after the application (or our atexit handler) finalised Kokkos would
// crash inside it; refuse with a reason instead.
chorus_status check_running(const char* function) {
  if (Kokkos::is_initialized()) return CHORUS_OK;
  return report(CHORUS_ERROR_UNAVAILABLE, std::string("kokkos: ") + function +
                                              ": Kokkos is not initialised (finalised already?)");
}

// Runs body, turning any exception into a status with a message.
template <typename Body>
chorus_status guarded(const char* function, Body&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return report(CHORUS_ERROR_OUT_OF_MEMORY,
                  std::string("kokkos: ") + function + " ran out of memory");
  } catch (const std::exception& e) {
    return report(CHORUS_ERROR_DEVICE, std::string("kokkos: ") + function + ": " + e.what());
  } catch (...) {
    return report(CHORUS_ERROR_INTERNAL,
                  std::string("kokkos: ") + function + ": unknown exception");
  }
}

// ----------------------------------------------------------------- plugin

chorus_status plugin_create(const chorus_host_api* host, void** plugin) {
  g_host = host;
  return guarded("plugin_create", [&] {
    ensure_registered();
    if (const chorus_status s = ensure_kokkos(); s != CHORUS_OK) return s;
    *plugin = new Plugin;
    return CHORUS_OK;
  });
}

void plugin_destroy(void* plugin) {
  delete static_cast<Plugin*>(plugin);
}

uint32_t device_count(void*) {
  return 1;
}

chorus_status check_index(const char* function, uint32_t index) {
  if (index == 0) return CHORUS_OK;
  return report(CHORUS_ERROR_INVALID_ARGUMENT,
                std::string("kokkos: ") + function + ": index " + std::to_string(index) +
                    " is out of range; the Kokkos backend has 1 device");
}

template <size_t N>
void copy_text(char (&dst)[N], const std::string& src) {
  std::snprintf(dst, N, "%s", src.c_str());
}

chorus_status device_info(void*, uint32_t index, chorus_device_info* info) {
  if (const chorus_status s = check_index("device_info", index); s != CHORUS_OK) return s;
  return guarded("device_info", [&] {
    if (const chorus_status s = check_running("device_info"); s != CHORUS_OK) return s;
    copy_text(info->description, "Kokkos " + kokkos_version() + " " + Exec::name());
    copy_text(info->vendor, "Kokkos");
    copy_text(info->driver_version, kokkos_version());
    copy_text(info->compiler_version, kCompiler);
    info->kind = kHostSpace ? CHORUS_DEVICE_KIND_CPU : CHORUS_DEVICE_KIND_DISCRETE_GPU;
    info->usable = 1;
    info->reason[0] = '\0';
    // Below OpenCL on a CPU (100) and any GPU backend, above the reference (0).
    info->score = 50;
    // Kokkos has no portable query of a device's memory; the host's is known.
    info->memory_bytes = kHostSpace ? physical_memory_bytes() : 0;
    info->max_allocation_bytes = info->memory_bytes;
    info->local_memory_bytes = static_cast<uint64_t>(TeamPolicy::scratch_size_max(0));
    const TeamPolicy probe(1, 1);
    info->max_work_group_size =
        static_cast<uint32_t>(probe.team_size_max(EmptyTeamWork(), Kokkos::ParallelForTag()));
    info->compute_units = static_cast<uint32_t>(Exec().concurrency());
    info->dtype_mask = 0;
    for (int dtype = CHORUS_DTYPE_F32; dtype < CHORUS_DTYPE_COUNT_; ++dtype)
      info->dtype_mask |= 1u << dtype;
    info->has_fp64 = 1;
    info->has_f16_arithmetic = 0;  // f16/bf16 are storage; compute is f32
    info->has_subgroups = 0;
    info->numerics_supported = kNumerics;
    info->numerics_default = kNumerics;
    return CHORUS_OK;
  });
}

chorus_status device_open(void*, uint32_t index, void** device) {
  if (const chorus_status s = check_index("device_open", index); s != CHORUS_OK) return s;
  return guarded("device_open", [&] {
    if (const chorus_status s = check_running("device_open"); s != CHORUS_OK) return s;
    *device = new Device;
    return CHORUS_OK;
  });
}

void device_close(void* device) {
  delete static_cast<Device*>(device);
}

// ----------------------------------------------------------------- buffers

chorus_status buffer_create(void*, uint64_t bytes, void** buffer) {
  return guarded("buffer_create", [&] {
    if (const chorus_status s = check_running("buffer_create"); s != CHORUS_OK) return s;
    const uint64_t limit = kHostSpace ? physical_memory_bytes() : 0;
    // Host allocations succeed lazily far beyond RAM and fail on first touch;
    // refuse what cannot fit up front (limit 0: unknown, let Kokkos decide).
    if (limit != 0 && bytes > limit)
      return report(CHORUS_ERROR_OUT_OF_MEMORY,
                    "kokkos: buffer_create cannot allocate " + std::to_string(bytes) +
                        " bytes (the host has " + std::to_string(limit) + " bytes of memory)");
    auto* b = new Buffer;
    try {
      // Uninitialised: chorus buffers have no defined contents until written,
      // and zeroing would touch every page of a large buffer.
      b->view = Bytes(Kokkos::view_alloc(Kokkos::WithoutInitializing, "chorus::buffer"),
                      static_cast<size_t>(bytes));
    } catch (...) {
      delete b;
      return report(CHORUS_ERROR_OUT_OF_MEMORY, "kokkos: buffer_create cannot allocate " +
                                                    std::to_string(bytes) + " bytes in " +
                                                    Memory::name());
    }
    *buffer = b;
    return CHORUS_OK;
  });
}

void buffer_destroy(void*, void* buffer) {
  auto* b = static_cast<Buffer*>(buffer);
  if (b == nullptr) return;
  if (!Kokkos::is_initialized()) {
    // Freeing Kokkos memory after finalize is not allowed: leak the view's
    // handle (the process is exiting anyway).
    new Bytes(std::move(b->view));
  }
  try {
    delete b;
  } catch (...) {
  }
}

chorus_status queue_create(void*, uint32_t, void** queue) {
  // libchorus has already refused the modes not in numerics_supported; every
  // other request is served with the backend's one mode (kNumerics).
  return guarded("queue_create", [&] {
    if (const chorus_status s = check_running("queue_create"); s != CHORUS_OK) return s;
    *queue = new Queue{Exec()};
    return CHORUS_OK;
  });
}

void queue_destroy(void* queue) {
  auto* q = static_cast<Queue*>(queue);
  if (q != nullptr && Kokkos::is_initialized()) {
    try {
      q->exec.fence();
    } catch (...) {
    }
  }
  delete q;
}

chorus_status queue_sync(void* queue) {
  return guarded("queue_sync", [&] {
    if (const chorus_status s = check_running("queue_sync"); s != CHORUS_OK) return s;
    static_cast<Queue*>(queue)->exec.fence();
    return CHORUS_OK;
  });
}

uint32_t queue_numerics(void*) {
  return kNumerics;
}

Bytes bytes_of(void* buffer, uint64_t offset, uint64_t bytes) {
  return Kokkos::subview(
      static_cast<Buffer*>(buffer)->view,
      std::make_pair(static_cast<size_t>(offset), static_cast<size_t>(offset + bytes)));
}

chorus_status buffer_write(void*, void* dst, uint64_t offset, const void* src, uint64_t bytes) {
  if (bytes == 0) return CHORUS_OK;
  return guarded("buffer_write", [&] {
    if (const chorus_status s = check_running("buffer_write"); s != CHORUS_OK) return s;
    std::lock_guard<std::mutex> lock(g_mutex);
    // deep_copy without an instance fences before and after: earlier ops on
    // the queue finish first, and the host copy is complete on return.
    Kokkos::deep_copy(
        bytes_of(dst, offset, bytes),
        ConstHostBytes(static_cast<const unsigned char*>(src), static_cast<size_t>(bytes)));
    return CHORUS_OK;
  });
}

chorus_status buffer_read(void*, void* src, uint64_t offset, void* dst, uint64_t bytes) {
  if (bytes == 0) return CHORUS_OK;
  return guarded("buffer_read", [&] {
    if (const chorus_status s = check_running("buffer_read"); s != CHORUS_OK) return s;
    std::lock_guard<std::mutex> lock(g_mutex);
    Kokkos::deep_copy(HostBytes(static_cast<unsigned char*>(dst), static_cast<size_t>(bytes)),
                      bytes_of(src, offset, bytes));
    return CHORUS_OK;
  });
}

chorus_status buffer_copy(void* queue, void* src, uint64_t src_offset, void* dst,
                          uint64_t dst_offset, uint64_t bytes) {
  if (bytes == 0) return CHORUS_OK;
  return guarded("buffer_copy", [&] {
    if (const chorus_status s = check_running("buffer_copy"); s != CHORUS_OK) return s;
    std::lock_guard<std::mutex> lock(g_mutex);
    const Exec& exec = static_cast<Queue*>(queue)->exec;
    const bool overlap =
        src == dst && src_offset < dst_offset + bytes && dst_offset < src_offset + bytes;
    if (!overlap) {
      Kokkos::deep_copy(exec, bytes_of(dst, dst_offset, bytes), bytes_of(src, src_offset, bytes));
      return CHORUS_OK;
    }
    // deep_copy is a memcpy; overlapping ranges of one buffer (memmove
    // semantics) go through a staging copy.
    Bytes staging(Kokkos::view_alloc(Kokkos::WithoutInitializing, "chorus::staging"),
                  static_cast<size_t>(bytes));
    Kokkos::deep_copy(exec, staging, bytes_of(src, src_offset, bytes));
    Kokkos::deep_copy(exec, bytes_of(dst, dst_offset, bytes), staging);
    exec.fence();  // staging is freed on return
    return CHORUS_OK;
  });
}

chorus_status buffer_fill(void* queue, void* dst, uint64_t offset, uint64_t bytes,
                          const void* pattern, uint32_t pattern_size) {
  if (pattern_size != 1 && pattern_size != 2 && pattern_size != 4 && pattern_size != 8)
    return report(CHORUS_ERROR_INVALID_ARGUMENT, "kokkos: buffer_fill: pattern_size is " +
                                                     std::to_string(pattern_size) +
                                                     "; it must be 1, 2, 4 or 8");
  if (bytes == 0) return CHORUS_OK;
  return guarded("buffer_fill", [&] {
    if (const chorus_status s = check_running("buffer_fill"); s != CHORUS_OK) return s;
    std::lock_guard<std::mutex> lock(g_mutex);
    Pattern p{};
    std::memcpy(p.byte, pattern, pattern_size);
    fill_pattern(static_cast<Queue*>(queue)->exec, static_cast<Buffer*>(dst)->view.data() + offset,
                 static_cast<int64_t>(bytes), p, pattern_size);
    return CHORUS_OK;
  });
}

// ------------------------------------------------------------------ events

chorus_status event_create(void*, void** event) {
  return guarded("event_create", [&] {
    *event = new Event;
    return CHORUS_OK;
  });
}

void event_destroy(void* event) {
  delete static_cast<Event*>(event);
}

chorus_status event_record(void* event, void* queue) {
  return guarded("event_record", [&] {
    if (const chorus_status s = check_running("event_record"); s != CHORUS_OK) return s;
    // Kokkos has no portable device timer: fence the queue, then read the
    // host's steady clock. The event thus marks when everything enqueued
    // before it had finished, which is also why event_wait has nothing to do.
    static_cast<Queue*>(queue)->exec.fence();
    auto* e = static_cast<Event*>(event);
    e->time = std::chrono::steady_clock::now();
    e->recorded = true;
    return CHORUS_OK;
  });
}

chorus_status event_wait(void*) {
  return CHORUS_OK;
}

chorus_status event_elapsed_ms(void* start, void* end, double* milliseconds) {
  const auto* s = static_cast<const Event*>(start);
  const auto* e = static_cast<const Event*>(end);
  if (!s->recorded || !e->recorded)
    return report(CHORUS_ERROR_INVALID_ARGUMENT,
                  std::string("kokkos: event_elapsed_ms: the ") + (s->recorded ? "end" : "start") +
                      " event was never recorded; record it on a queue first");
  *milliseconds = std::chrono::duration<double, std::milli>(e->time - s->time).count();
  return CHORUS_OK;
}

// ---------------------------------------------------------------------- ops

// The entry of a kind no family registered is empty (check == nullptr).
const OpEntry* entry_of(chorus_op_kind kind) {
  const int k = kind;
  if (k <= CHORUS_OP_INVALID || k >= CHORUS_OP_COUNT_ || g_ops[k].check == nullptr) return nullptr;
  return &g_ops[k];
}

chorus_status op_supports(void*, const chorus_op_record* op) {
  return guarded("op_supports", [&] {
    ensure_registered();
    if (op->struct_size < sizeof(chorus_op_record))
      return report(CHORUS_ERROR_INVALID_ARGUMENT,
                    "kokkos: op_supports: the record is malformed (struct_size " +
                        std::to_string(op->struct_size) + ")");
    const OpEntry* entry = entry_of(op->kind);
    if (entry == nullptr)
      return report(CHORUS_ERROR_UNSUPPORTED, "kokkos: op kind " +
                                                  std::to_string(static_cast<int>(op->kind)) +
                                                  " is not one this backend knows");
    if (op->tensor_count > kMaxOpTensors)
      return report(CHORUS_ERROR_UNSUPPORTED,
                    "kokkos: op kind " + std::to_string(static_cast<int>(op->kind)) + " has " +
                        std::to_string(op->tensor_count) + " tensors; this backend takes at most " +
                        std::to_string(kMaxOpTensors));
    if (!chorus_backend_attrs_known(op, entry->attrs_size))
      return report(CHORUS_ERROR_UNSUPPORTED,
                    "kokkos: op kind " + std::to_string(static_cast<int>(op->kind)) +
                        " carries attributes newer than this backend (set past its " +
                        std::to_string(entry->attrs_size) + " bytes)");
    // The family's check sees the layouts: the record as a BoundOp whose
    // buffers are all NULL (op_supports may run often: nothing is copied
    // beyond the tensors).
    BoundOp layout;
    layout.kind = op->kind;
    layout.numerics = op->numerics;
    layout.count = op->tensor_count;
    for (uint32_t i = 0; i < op->tensor_count; ++i) layout.tensors[i] = op->tensors[i];
    layout.attrs = op->attrs;
    layout.attrs_size = op->attrs != nullptr ? op->attrs_size : 0;
    return entry->check(layout);
  });
}

// Kernels are compiled ahead of time with the plugin: preparing an op is
// keeping its record.
chorus_status op_create(void* device, const chorus_op_record* op, void** prepared) {
  if (const chorus_status s = op_supports(device, op); s != CHORUS_OK) return s;
  return guarded("op_create", [&] {
    *prepared = new KeptOp(*op);
    return CHORUS_OK;
  });
}

chorus_status op_execute(void* queue, void* prepared, const chorus_backend_binding* bindings,
                         uint32_t binding_count) {
  const auto* kept = static_cast<const KeptOp*>(prepared);
  if (binding_count < kept->count())
    return report(CHORUS_ERROR_INVALID_ARGUMENT,
                  "kokkos: op_execute: " + std::to_string(binding_count) +
                      " bindings for an op of " + std::to_string(kept->count()) + " tensors");
  return guarded("op_execute", [&] {
    if (const chorus_status s = check_running("op_execute"); s != CHORUS_OK) return s;
    const OpEntry* entry = entry_of(kept->kind());
    if (entry == nullptr)  // op_create refused it already
      return report(CHORUS_ERROR_UNSUPPORTED, "kokkos: op kind " +
                                                  std::to_string(static_cast<int>(kept->kind())) +
                                                  " is not one this backend knows");
    const BoundOp op = kept->bind(
        bindings, [](void* buffer) -> void* { return static_cast<Buffer*>(buffer)->view.data(); });
    std::lock_guard<std::mutex> lock(g_mutex);
    return entry->run(static_cast<Queue*>(queue)->exec, op);
  });
}

void op_destroy(void*, void* prepared) {
  delete static_cast<KeptOp*>(prepared);
}

const chorus_backend_vtable kVtable = {
    .abi_version = CHORUS_BACKEND_ABI_VERSION,
    .struct_size = sizeof(chorus_backend_vtable),
    .name = "kokkos",
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

}  // namespace

void register_op(chorus_op_kind kind, const OpEntry& entry) {
  const int k = kind;
  if (k > CHORUS_OP_INVALID && k < CHORUS_OP_COUNT_) g_ops[k] = entry;
}

chorus_status report(chorus_status status, const std::string& message) {
  if (g_host != nullptr && g_host->set_error != nullptr)
    return g_host->set_error(status, message.c_str());
  return status;
}

}  // namespace chorus::kokkos

extern "C" __attribute__((visibility("default"))) const chorus_backend_vtable* chorus_backend_entry(
    uint32_t abi_version) {
  // Any minor version of our major, and 0 ("describe yourself") always.
  if (abi_version == 0 || CHORUS_BACKEND_ABI_MAJOR_OF(abi_version) == CHORUS_BACKEND_ABI_MAJOR)
    return &chorus::kokkos::kVtable;
  return nullptr;
}
