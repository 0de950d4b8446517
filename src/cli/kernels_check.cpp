// kernels_check.cpp — `chorus kernels check --target T`: compiles every
// kernel variant the library can launch (every program the planner makes
// for every op x dtype x layout, under every entry of the tuning table) for
// one target, with no GPU: sm_XX through NVRTC, gfxNNN through hiprtc, or
// an OpenCL device (opencl:N, opencl:<name>) through its driver, the
// OpenCL text through clang as strict OpenCL C 1.2 (opencl-c), or "host"
// (the host C++ compiler, for the GPU emulator of the tests). It prints
// what the compiler reports of each kernel's resources (registers, spills,
// shared memory, stack) and exits 1 when any variant fails to compile, 77
// when the compiler or runtime is not installed.
#include "kernels_check.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli.hpp"
#include "kernel_variants.hpp"

namespace chorus::cli {
namespace {

namespace bc = chorus::backend_common;
using chorus::gpu::CompileResult;
using chorus::gpu::KernelResources;
using chorus::gpu::Rtc;
using chorus::gpu::RtcKind;

struct Job {
  bc::ProgramSpec spec;
  std::set<std::string> tunings;  // the table entries that produce it
  bool ok = false;
  std::string log;
  std::vector<KernelResources> kernels;
};

std::string value_or_dash(int64_t v) {
  return v < 0 ? "-" : std::to_string(v);
}

// The compiler of a target name: NVRTC for sm_* and compute_*, hiprtc for
// gfx*, the host's for "host"; false for any other name.
bool rtc_for_target(const std::string& target, RtcKind* kind) {
  if (target.rfind("sm_", 0) == 0 || target.rfind("compute_", 0) == 0)
    *kind = RtcKind::nvrtc;
  else if (target.rfind("gfx", 0) == 0)
    *kind = RtcKind::hiprtc;
  else if (target == "host")
    *kind = RtcKind::host;
  else
    return false;
  return true;
}

// A target of NVRTC, hiprtc or the host compiler: 0, or the exit code with
// *why.
int rtc_check_target(const std::string& target, RtcKind kind, std::unique_ptr<Rtc>* holder,
                     CheckTarget* out, std::string* why) {
  *holder = Rtc::load(kind, why);
  if (!*holder) return 77;
  const Rtc* rtc = holder->get();
  if (!rtc->valid_target(target)) {
    *why = "'" + target + "' is not a target name " + rtc->version() + " takes";
    return 2;
  }
  const bool nv = kind == RtcKind::nvrtc;
  out->title = rtc->version() + ", " + target;
  out->serial = !rtc->thread_safe();
  out->registers = nv ? "regs" : "vgprs";
  out->scalar_registers = nv ? "-" : "sgprs";
  out->shared = nv ? "smem" : "lds";
  // Every tuning entry as a GPU of this vendor would get it (1024 threads
  // per block, 48 KiB of static shared memory).
  bc::DeviceIdentity identity;
  identity.vendor = nv ? "NVIDIA Corporation" : "Advanced Micro Devices, Inc.";
  identity.kind = CHORUS_DEVICE_KIND_DISCRETE_GPU;
  identity.max_work_group_size = 1024;
  identity.local_memory_bytes = 48 * 1024;
  for (const std::string& name : bc::tuning_entry_names())
    out->tunings.emplace_back(name, gpu::gpu_traits(bc::tuning_named(name, identity)));
  out->compile = [rtc, target, nv](const bc::ProgramSpec& spec, std::string* log,
                                   std::vector<KernelResources>* kernels) {
    std::string missing;
    const std::string source = rtc->program_source(spec, &missing);
    if (!missing.empty()) {
      *log = "kernel file " + missing + " is not embedded";
      return false;
    }
    CompileResult result;
    const bool ok =
        rtc->compile(source, spec.label + ".cu", rtc->options(spec, target, true), &result);
    *log = result.log;
    if (ok && rtc->kind() != RtcKind::host)
      *kernels = nv ? gpu::resources_from_ptxas_log(result.log)
                    : gpu::resources_from_amdgpu_code_object(result.binary);
    return ok;
  };
  return 0;
}

}  // namespace

int kernels_command(const Args& args) {
  const std::string action = args.positional.size() > 1 ? args.positional[1] : "";
  if (action != "check") {
    std::fprintf(stderr, "chorus kernels: unknown action '%s' (check)\n", action.c_str());
    return 2;
  }
  const std::string target = args.get("target", "");
  CheckTarget check;
  std::unique_ptr<Rtc> rtc;
  std::string why;
  int status = 2;
  if (RtcKind kind; rtc_for_target(target, &kind)) {
    status = rtc_check_target(target, kind, &rtc, &check, &why);
  } else if (target.rfind("opencl:", 0) == 0 || target == "opencl-c") {
#if CHORUS_HAVE_OPENCL_CHECK
    status = target == "opencl-c" ? opencl_c_check_target(&check, &why)
                                  : opencl_check_target(target, &check, &why);
#else
    why = "this chorus was built without the OpenCL headers";
    status = 77;
#endif
  } else {
    why =
        "--target must name an NVIDIA target (sm_75, sm_80, sm_90, ...), an AMD target "
        "(gfx90a, gfx1030, ...), an OpenCL device (opencl:0, opencl:<name>) or opencl-c "
        "(the OpenCL kernel text checked by clang as strict OpenCL C 1.2); got '" +
        target + "'";
  }
  if (status == 77) {
    std::printf("chorus kernels check --target %s: skipped: %s\n", target.c_str(), why.c_str());
    return 77;
  }
  if (status != 0) {
    std::fprintf(stderr, "chorus kernels check: %s\n", why.c_str());
    return status;
  }
  // A GPU target checks the entries a GPU can get (the CPU entry only ever
  // reaches a GPU when a test forces it with CHORUS_TUNING): --tuning all
  // adds it, --tuning NAME checks that entry alone.
  const bool gpu_target = rtc && rtc->kind() != RtcKind::host;
  if (gpu_target && !args.has("tuning"))
    std::erase_if(check.tunings, [](const auto& t) { return t.first == "cpu"; });
  if (args.has("tuning") && args.get("tuning", "") != "all") {
    const std::string only = args.get("tuning", "");
    std::erase_if(check.tunings, [&](const auto& t) { return t.first != only; });
    if (check.tunings.empty()) {
      std::fprintf(stderr, "chorus kernels check: no tuning entry called '%s'\n", only.c_str());
      return 2;
    }
  }

  std::map<std::string, Job> jobs;
  std::vector<std::string> errors;
  for (const auto& [name, traits] : check.tunings)
    for (auto& [key, spec] : bc::kernel_variant_programs(traits, &errors)) {
      Job& job = jobs[key];
      job.spec = spec;
      job.tunings.insert(name);
    }
  for (const std::string& e : errors)
    std::fprintf(stderr, "the planner refused a variant: %s\n", e.c_str());

  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  if (args.has("jobs"))
    threads = static_cast<unsigned>(std::max(1, std::atoi(args.get("jobs", "1").c_str())));
  if (check.serial) threads = 1;  // more would only wait for the compiler
  std::printf("%s: %zu programs from %zu tuning entries, %u thread(s)\n", check.title.c_str(),
              jobs.size(), check.tunings.size(), threads);
  std::fflush(stdout);

  std::vector<Job*> queue;
  for (auto& [key, job] : jobs) queue.push_back(&job);
  std::atomic<size_t> next{0};
  std::mutex print;
  size_t done = 0;
  const auto start = std::chrono::steady_clock::now();
  auto work = [&] {
    for (size_t i; (i = next++) < queue.size();) {
      Job& job = *queue[i];
      job.ok = check.compile(job.spec, &job.log, &job.kernels);
      std::lock_guard<std::mutex> lock(print);
      if (++done % 25 == 0 || done == queue.size())
        std::fprintf(stderr, "  %zu/%zu programs\n", done, queue.size());
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // One line per kernel: the table a reviewer reads for register pressure
  // and spills; failures with the compiler's log.
  std::printf("\n%-44s %-34s %6s %6s %7s %8s %7s\n", "program [tuning entries, when not all]",
              "kernel", check.registers.c_str(), check.scalar_registers.c_str(), "spills",
              check.shared.c_str(), "stack");
  size_t failures = 0, kernels = 0, spilling = 0;
  int64_t max_registers = -1;
  for (const auto& [key, job] : jobs) {
    if (!job.ok) {
      ++failures;
      std::printf("FAIL %s (%s):\n%s\n", job.spec.label.c_str(), job.spec.options().c_str(),
                  job.log.substr(0, 4000).c_str());
      continue;
    }
    std::string label = job.spec.label;
    if (job.tunings.size() < check.tunings.size()) {
      label += " [" + *job.tunings.begin();
      if (job.tunings.size() > 1) label += "+" + std::to_string(job.tunings.size() - 1);
      label += "]";
    }
    for (const KernelResources& k : job.kernels) {
      ++kernels;
      max_registers = std::max(max_registers, k.registers);
      if (k.spills > 0) ++spilling;
      std::printf("%-44s %-34s %6s %6s %7s %8s %7s\n", label.substr(0, 44).c_str(),
                  k.kernel.substr(0, 34).c_str(), value_or_dash(k.registers).c_str(),
                  value_or_dash(k.scalar_registers).c_str(), value_or_dash(k.spills).c_str(),
                  value_or_dash(k.shared_bytes).c_str(), value_or_dash(k.stack_bytes).c_str());
    }
  }
  std::string pressure;
  if (max_registers >= 0)
    pressure = "; most " + check.registers + " " + std::to_string(max_registers) + ", " +
               std::to_string(spilling) + " kernel(s) spilling";
  std::printf("\n%s %s: %zu of %zu programs compiled (%zu kernels), %zu failed%s; %.1f s\n",
              failures || !errors.empty() ? "FAIL" : "OK", target.c_str(), jobs.size() - failures,
              jobs.size(), kernels, failures, pressure.c_str(), seconds);
  return failures || !errors.empty() ? 1 : 0;
}

}  // namespace chorus::cli
