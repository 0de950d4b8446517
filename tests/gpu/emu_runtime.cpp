// emu_runtime.cpp — libchorus-gpuemu.so, a test-only plugin: the CUDA/HIP
// plugin body (backends/gpu/gpu_backend.cpp on the shared skeleton of
// backends/common/compiled_backend.hpp, unchanged) over a Runtime that
// emulates a GPU on the host. Programs are the same C++ kernel text NVRTC
// and hiprtc compile, with prelude_emu.h instead of the API prelude, built
// by the host compiler into shared objects (Rtc, RtcKind::host). A launch
// runs its blocks one after another and each block's threads as fibers
// (ucontext stacks): a thread runs until __syncthreads() or its end, then the
// next; when every thread has arrived, the next round starts. So a
// conformance run on gpuemu:0 checks, without a GPU, everything of the
// CUDA and HIP backends except the vendor compiler and driver: the
// preludes' semantics, argument marshalling, scratch, the kernel cache, the
// GPU tuning entries, and the grid slicing (the emulator allows only 5
// blocks in y and 3 in z, so most grids are cut into slices).
// Fibers start with setcontext (one system call) and then switch with
// _setjmp/_longjmp, which save no signal mask and make no system call; the
// fortified longjmp would take a jump between fiber stacks for an error.
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <setjmp.h>
#include <ucontext.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gpu_backend.hpp"
#include "gpu_runtime.hpp"

namespace chorus::gpu {
namespace {

struct Dim3 {
  unsigned x, y, z;
};
// The layout of ck_emu_state in prelude_emu.h.
struct EmuState {
  Dim3 block_idx, thread_idx, block_dim, grid_dim;
  void (*sync)(void);
};

struct Function {
  void (*call)(void** args) = nullptr;
  EmuState* state = nullptr;
};

struct Module {
  void* library = nullptr;
  std::vector<std::unique_ptr<Function>> functions;
};

constexpr size_t kStackBytes = 128 * 1024;
constexpr unsigned kMaxThreads = 1024;

// The launch in progress (the emulator runs one launch at a time).
struct Scheduler {
  jmp_buf main;
  std::vector<ucontext_t> contexts;
  struct Jump {
    jmp_buf at;
  };
  std::vector<Jump> resume;
  std::vector<unsigned char> done, started, prepared;
  std::vector<std::unique_ptr<char[]>> stacks;
  size_t current = 0;
  Function* function = nullptr;
  void** args = nullptr;
};
Scheduler* g_scheduler = nullptr;

void emu_sync() {
  Scheduler& s = *g_scheduler;
  if (!_setjmp(s.resume[s.current].at)) _longjmp(s.main, 1);
}

// A fiber lives as long as the runtime: after a kernel call ends it parks,
// and resuming it runs the kernel again for the next block or launch, so
// setcontext (a system call) runs once per fiber, not once per thread.
void fiber_main() {
  for (;;) {
    Scheduler& s = *g_scheduler;
    s.function->call(s.args);
    s.done[s.current] = 1;
    if (!_setjmp(s.resume[s.current].at)) _longjmp(s.main, 1);
  }
}

// Runs thread t until its next barrier or its end. A function of its own
// so that no local of the scheduler's loop lives across the jumps.
__attribute__((noinline)) void resume(Scheduler& s, unsigned t) {
  if (!_setjmp(s.main)) {
    if (s.started[t]) _longjmp(s.resume[t].at, 1);
    s.started[t] = 1;
    setcontext(&s.contexts[t]);
  }
}

class EmuRuntime final : public Runtime {
 public:
  EmuRuntime() {
    scheduler_.contexts.resize(kMaxThreads);
    scheduler_.resume.resize(kMaxThreads);
    scheduler_.done.resize(kMaxThreads);
    scheduler_.started.resize(kMaxThreads);
    scheduler_.prepared.resize(kMaxThreads);
  }
  const std::string& driver_version() const override { return driver_; }
  std::string error_text(int code) const override {
    return code == 2 ? "EMU_OUT_OF_MEMORY" : "EMU_ERROR " + std::to_string(code);
  }
  bool out_of_memory(int code) const override { return code == 2; }
  int device_count(int* count) override {
    *count = 1;
    return 0;
  }
  int describe(int, GpuDeviceDesc* out) override {
    out->name = "chorus GPU emulator";
    out->arch = "host";
    out->vendor = "chorus (emulating an NVIDIA GPU)";  // the nvidia-gpu tuning entry
    out->memory_bytes = uint64_t{4} << 30;
    out->l2_bytes = 0;
    out->shared_per_block = 48 * 1024;
    out->max_threads_per_block = kMaxThreads;
    out->max_grid[0] = 2147483647u;
    out->max_grid[1] = 5;  // tiny on purpose: most grids are sliced
    out->max_grid[2] = 3;
    out->compute_units = 1;
    out->warp_size = 32;
    out->compute_unit_name = "SMs";
    out->lane_group_name = "warp";
    return 0;
  }
  int open(int, void** context) override {
    *context = this;
    return 0;
  }
  void close(void*) override {}
  int make_current(void*) override { return 0; }
  int alloc(uint64_t bytes, uint64_t* pointer) override {
    void* p = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
    *pointer = reinterpret_cast<uint64_t>(p);
    return p ? 0 : 2;
  }
  int free(uint64_t pointer) override {
    std::free(reinterpret_cast<void*>(pointer));
    return 0;
  }
  // Launches run to completion when made: streams have nothing to wait for.
  int stream_create(void** stream) override {
    *stream = this;
    return 0;
  }
  int stream_destroy(void*) override { return 0; }
  int stream_sync(void*) override { return 0; }
  int write(void*, uint64_t dst, const void* src, uint64_t bytes) override {
    std::memcpy(reinterpret_cast<void*>(dst), src, bytes);
    return 0;
  }
  int read(void*, void* dst, uint64_t src, uint64_t bytes) override {
    std::memcpy(dst, reinterpret_cast<const void*>(src), bytes);
    return 0;
  }
  int event_create(void** event) override {
    *event = new double(0);
    return 0;
  }
  int event_destroy(void* event) override {
    delete static_cast<double*>(event);
    return 0;
  }
  int event_record(void* event, void*) override {
    *static_cast<double*>(event) = std::chrono::duration<double, std::milli>(
                                       std::chrono::steady_clock::now().time_since_epoch())
                                       .count();
    return 0;
  }
  int event_sync(void*) override { return 0; }
  int event_elapsed_ms(void* start, void* end, float* ms) override {
    *ms = static_cast<float>(*static_cast<double*>(end) - *static_cast<double*>(start));
    return 0;
  }
  int module_load(const std::vector<uint8_t>& binary, void** module) override {
    char path[] = "/tmp/chorus-emu-module-XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0) return 3;
    const bool written =
        ::write(fd, binary.data(), binary.size()) == static_cast<ssize_t>(binary.size());
    ::close(fd);
    void* library = written ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : nullptr;
    std::remove(path);  // mapped now; the file is no longer needed
    if (!library) return 4;
    auto* m = new Module;
    m->library = library;
    *module = m;
    return 0;
  }
  int module_unload(void* module) override {
    auto* m = static_cast<Module*>(module);
    dlclose(m->library);
    delete m;
    return 0;
  }
  int function(void* module, const char* name, void** function) override {
    auto* m = static_cast<Module*>(module);
    auto f = std::make_unique<Function>();
    f->call = reinterpret_cast<void (*)(void**)>(
        dlsym(m->library, (std::string("chorus_emu_call_") + name).c_str()));
    auto state = reinterpret_cast<EmuState* (*)()>(dlsym(m->library, "chorus_emu_state"));
    if (!f->call || !state) return 5;
    f->state = state();
    f->state->sync = emu_sync;
    *function = f.get();
    m->functions.push_back(std::move(f));
    return 0;
  }
  int launch(void* function, const uint32_t grid[3], const uint32_t block[3], void*,
             void** args) override {
    auto* f = static_cast<Function*>(function);
    const unsigned threads = block[0] * block[1] * block[2];
    if (threads == 0 || threads > kMaxThreads) return 6;
    Scheduler& s = scheduler_;
    while (s.stacks.size() < threads) s.stacks.emplace_back(new char[kStackBytes]);
    s.function = f;
    s.args = args;
    g_scheduler = &s;
    EmuState& st = *f->state;
    st.block_dim = {block[0], block[1], block[2]};
    st.grid_dim = {grid[0], grid[1], grid[2]};
    for (unsigned bz = 0; bz < grid[2]; ++bz)
      for (unsigned by = 0; by < grid[1]; ++by)
        for (unsigned bx = 0; bx < grid[0]; ++bx) {
          st.block_idx = {bx, by, bz};
          for (unsigned t = 0; t < threads; ++t) {
            s.done[t] = 0;
            if (s.started[t] || s.prepared[t]) continue;
            ucontext_t& c = s.contexts[t];
            getcontext(&c);
            c.uc_stack.ss_sp = s.stacks[t].get();
            c.uc_stack.ss_size = kStackBytes;
            c.uc_link = nullptr;  // fiber_main never returns
            makecontext(&c, fiber_main, 0);
            s.prepared[t] = 1;
          }
          // Rounds: every live thread runs to its next barrier or its end.
          for (bool live = true; live;) {
            live = false;
            for (unsigned t = 0; t < threads; ++t) {
              if (s.done[t]) continue;
              st.thread_idx = {t % block[0], (t / block[0]) % block[1], t / (block[0] * block[1])};
              s.current = t;
              resume(s, t);
              live |= !s.done[t];
            }
          }
        }
    g_scheduler = nullptr;
    return 0;
  }

 private:
  std::string driver_ = "chorus GPU emulator (host fibers)";
  Scheduler scheduler_;
};

std::unique_ptr<Runtime> load_emu_runtime(std::string*) {
  return std::make_unique<EmuRuntime>();
}

}  // namespace
}  // namespace chorus::gpu

extern "C" CHORUS_API const chorus_backend_vtable* chorus_backend_entry(uint32_t abi_version) {
  static const chorus::gpu::BackendConfig config{"gpuemu", chorus::gpu::RtcKind::host,
                                                 chorus::gpu::load_emu_runtime, 10};
  return chorus::gpu::backend_vtable(abi_version, config);
}
