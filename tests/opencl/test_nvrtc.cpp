// test_nvrtc.cpp — the portability check of ARCHITECTURE.md §4: every
// program the op planner produces, assembled with prelude_cuda.h instead of
// prelude_opencl.h, must compile with NVRTC for sm_75, sm_80 and sm_90. It
// needs no GPU, only libnvrtc (dlopen()ed from CUDA_HOME, /usr/local/cuda
// or the library path); without it the test exits 77 (skipped).
//
// The programs are those of a CUDA-like tuning: vector width 1 for the
// elementwise and row programs (their lane-wise ?: has no C++ equivalent),
// 4 in GEMM, 256 threads per row, GEMM slabs in shared memory.
#include <chorus/backend.h>
#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "embedded_kernels.hpp"
#include "op_plan.hpp"

namespace bc = chorus::backend_common;

namespace {

// The few NVRTC entry points used, resolved at run time.
struct Nvrtc {
  using Create = int (*)(void**, const char*, const char*, int, const char* const*,
                         const char* const*);
  using Compile = int (*)(void*, int, const char* const*);
  using LogSize = int (*)(void*, size_t*);
  using Log = int (*)(void*, char*);
  using Destroy = int (*)(void**);
  using Version = int (*)(int*, int*);
  Create create = nullptr;
  Compile compile = nullptr;
  LogSize log_size = nullptr;
  Log log = nullptr;
  Destroy destroy = nullptr;
  Version version = nullptr;

  bool load() {
    std::vector<std::string> candidates;
    if (const char* home = std::getenv("CUDA_HOME"))
      candidates.push_back(std::string(home) + "/lib64/libnvrtc.so");
    candidates.push_back("/usr/local/cuda/lib64/libnvrtc.so");
    candidates.push_back("libnvrtc.so");
    for (const auto& name : candidates) {
      void* lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!lib) continue;
      create = reinterpret_cast<Create>(dlsym(lib, "nvrtcCreateProgram"));
      compile = reinterpret_cast<Compile>(dlsym(lib, "nvrtcCompileProgram"));
      log_size = reinterpret_cast<LogSize>(dlsym(lib, "nvrtcGetProgramLogSize"));
      log = reinterpret_cast<Log>(dlsym(lib, "nvrtcGetProgramLog"));
      destroy = reinterpret_cast<Destroy>(dlsym(lib, "nvrtcDestroyProgram"));
      version = reinterpret_cast<Version>(dlsym(lib, "nvrtcVersion"));
      if (create && compile && log_size && log && destroy && version) return true;
    }
    return false;
  }
};

chorus_backend_tensor tensor(chorus_dtype dtype, std::vector<int64_t> shape,
                             std::vector<int64_t> strides) {
  static int dummy;
  chorus_backend_tensor t{};
  t.buffer = &dummy;  // the planner never dereferences buffers
  t.dtype = dtype;
  t.rank = static_cast<uint32_t>(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    t.shape[i] = shape[i];
    t.strides[i] = strides[i];
  }
  return t;
}

chorus_op_desc desc(chorus_op_kind kind, int32_t subop,
                    std::vector<chorus_backend_tensor> tensors) {
  chorus_op_desc d{};
  d.struct_size = sizeof d;
  d.kind = kind;
  d.subop = subop;
  d.tensor_count = static_cast<uint32_t>(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) d.tensors[i] = tensors[i];
  return d;
}

// One op per program variant the planner can produce.
std::vector<chorus_op_desc> every_variant() {
  const chorus_dtype all[] = {CHORUS_DTYPE_F32, CHORUS_DTYPE_F16, CHORUS_DTYPE_BF16,
                              CHORUS_DTYPE_F64, CHORUS_DTYPE_I32, CHORUS_DTYPE_I64,
                              CHORUS_DTYPE_U8};
  const chorus_dtype floats[] = {CHORUS_DTYPE_F32, CHORUS_DTYPE_F16, CHORUS_DTYPE_BF16,
                                 CHORUS_DTYPE_F64};
  std::vector<chorus_op_desc> ops;
  const auto v = [](chorus_dtype d) { return tensor(d, {8, 16}, {16, 1}); };
  for (chorus_dtype s : all)
    for (chorus_dtype d : all) ops.push_back(desc(CHORUS_OP_COPY, 0, {v(s), v(d)}));
  for (chorus_dtype d : all) {
    ops.push_back(desc(CHORUS_OP_FILL, 0, {v(d)}));
    ops.push_back(desc(CHORUS_OP_COMPARE, 0, {v(d), v(d), v(CHORUS_DTYPE_U8)}));
    ops.push_back(desc(CHORUS_OP_WHERE, 0, {v(CHORUS_DTYPE_U8), v(d), v(d), v(d)}));
    if (d != CHORUS_DTYPE_U8) {
      ops.push_back(desc(CHORUS_OP_UNARY, CHORUS_UNARY_NEG, {v(d), v(d)}));
      ops.push_back(desc(CHORUS_OP_BINARY, CHORUS_BINARY_ADD, {v(d), v(d), v(d)}));
    }
    // Reductions in each row layout: contiguous, strided, several axes.
    const auto out = tensor(d, {8, 1}, {1, 0});
    chorus_op_desc r = desc(CHORUS_OP_REDUCE, CHORUS_REDUCE_MAX, {v(d), out});
    r.axes_mask = 2;
    ops.push_back(r);
    r.tensors[0] = tensor(d, {8, 16}, {1, 8});
    ops.push_back(r);
    r = desc(CHORUS_OP_REDUCE, CHORUS_REDUCE_MAX,
             {tensor(d, {4, 3, 5}, {1, 4, 12}), tensor(d, {4, 1, 1}, {1, 0, 0})});
    r.axes_mask = 6;
    ops.push_back(r);
  }
  for (chorus_dtype d : floats) {
    for (const auto& x : {v(d), tensor(d, {8, 16}, {1, 8})}) {
      chorus_op_desc s = desc(CHORUS_OP_SOFTMAX, 0, {x, x});
      s.axis = 1;
      ops.push_back(s);
      chorus_op_desc n = desc(CHORUS_OP_LAYER_NORM, 0, {x, x, x, x});
      n.tensor_count = 4;
      ops.push_back(n);
    }
    chorus_op_desc g = desc(CHORUS_OP_GEMM, 0,
                            {tensor(d, {1, 8, 4}, {0, 4, 1}), tensor(d, {1, 4, 8}, {0, 8, 1}),
                             tensor(d, {1, 8, 8}, {0, 8, 1}), chorus_backend_tensor{}});
    g.alpha = 1;
    ops.push_back(g);
  }
  return ops;
}

}  // namespace

int main() {
  Nvrtc nvrtc;
  if (!nvrtc.load()) {
    std::printf("libnvrtc not found (set CUDA_HOME); skipping\n");
    return 77;
  }
  int major = 0, minor = 0;
  nvrtc.version(&major, &minor);

  bc::DeviceTraits traits;
  traits.has_fp64 = true;
  traits.tuning.elementwise_vw = 1;
  traits.tuning.row_vw = 1;
  traits.tuning.row_threads = 256;
  traits.tuning.rows_per_group = 1;
  traits.tuning.gemm_f32 = {8, 8, 4, 16, 16, 1, 16};
  traits.tuning.gemm_f64 = {4, 4, 4, 16, 16, 1, 16};

  std::map<std::string, bc::ProgramSpec> programs;
  for (const chorus_op_desc& d : every_variant()) {
    bc::Plan plan;
    std::string why;
    if (bc::plan_op(d, traits, &plan, &why) != CHORUS_OK) {
      std::printf("FAIL: the planner refused an op: %s\n", why.c_str());
      return 1;
    }
    for (const auto& launch : plan.launches) programs.emplace(launch.program.key(), launch.program);
  }

  const char* architectures[] = {"--gpu-architecture=sm_75", "--gpu-architecture=sm_80",
                                 "--gpu-architecture=sm_90"};
  std::printf("NVRTC %d.%d: %zu programs x 3 architectures\n", major, minor, programs.size());
  int failures = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& [key, spec] : programs) {
    std::string source;
    for (const std::string& file : std::vector<std::string>{"prelude_cuda.h"})
      source += chorus::kernels::embedded_file(file);
    for (const std::string& file : spec.files) {
      source += "\n#line 1 \"" + file + "\"\n";
      source += chorus::kernels::embedded_file(file);
    }
    std::vector<std::string> options = {"-std=c++17", "-diag-suppress=177"};
    for (const auto& [name, value] : spec.defines) options.push_back("-D" + name + "=" + value);
    for (const char* arch : architectures) {
      std::vector<const char*> argv;
      for (const auto& o : options) argv.push_back(o.c_str());
      argv.push_back(arch);
      void* program = nullptr;
      nvrtc.create(&program, source.c_str(), (spec.label + ".cu").c_str(), 0, nullptr, nullptr);
      const int result = nvrtc.compile(program, static_cast<int>(argv.size()), argv.data());
      if (result != 0) {
        size_t size = 0;
        nvrtc.log_size(program, &size);
        std::string log(size, '\0');
        nvrtc.log(program, log.data());
        std::printf("FAIL: %s (%s), %s:\n%s\n", spec.label.c_str(), spec.options().c_str(), arch,
                    log.substr(0, 4000).c_str());
        ++failures;
      }
      nvrtc.destroy(&program);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%d failure(s), %.1f s\n", failures, seconds);
  return failures ? 1 : 0;
}
