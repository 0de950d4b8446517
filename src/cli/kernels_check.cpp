// kernels_check.cpp — `chorus kernels check --target T`: compiles every
// kernel variant the library can launch (every program the planner makes
// for every op x dtype x layout, under every entry of the tuning table) for
// one compiler target, on a machine with no GPU: sm_XX through NVRTC,
// gfxNNN through hiprtc. It prints what the compiler reports of each
// kernel's resources (registers, spills, shared memory, stack) and exits 1
// when any variant fails to compile, 77 when the compiler is not installed.
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
#include "rtc.hpp"

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
  double seconds = 0;
  std::string log;
  std::vector<KernelResources> kernels;
};

std::string value_or_dash(int64_t v) {
  return v < 0 ? "-" : std::to_string(v);
}

}  // namespace

int kernels_command(const Args& args) {
  const std::string action = args.positional.size() > 1 ? args.positional[1] : "";
  if (action != "check") {
    std::fprintf(stderr, "chorus kernels: unknown action '%s' (check)\n", action.c_str());
    return 2;
  }
  const std::string target = args.get("target", "");
  RtcKind kind;
  if (target.rfind("sm_", 0) == 0) {
    kind = RtcKind::nvrtc;
  } else if (target.rfind("gfx", 0) == 0) {
    kind = RtcKind::hiprtc;
  } else {
    std::fprintf(stderr,
                 "chorus kernels check: --target must name an NVIDIA (sm_75, sm_80, sm_90, ...) or "
                 "AMD (gfx90a, gfx1030, ...) target; got '%s'\n",
                 target.c_str());
    return 2;
  }
  std::string why;
  const std::unique_ptr<Rtc> rtc = Rtc::load(kind, &why);
  if (!rtc) {
    std::printf("chorus kernels check --target %s: skipped: %s\n", target.c_str(), why.c_str());
    return 77;
  }
  if (!rtc->valid_target(target)) {
    std::fprintf(stderr, "chorus kernels check: '%s' is not a target name %s takes\n",
                 target.c_str(), rtc->version().c_str());
    return 2;
  }

  // Every tuning entry as a device of this vendor would get it (a GPU with
  // 1024 threads per block and 48 KiB of static shared memory).
  bc::DeviceIdentity identity;
  identity.vendor = kind == RtcKind::nvrtc ? "NVIDIA Corporation" : "Advanced Micro Devices, Inc.";
  identity.kind = CHORUS_DEVICE_KIND_DISCRETE_GPU;
  identity.max_work_group_size = 1024;
  identity.local_memory_bytes = 48 * 1024;
  std::vector<std::string> tunings = bc::tuning_entry_names();
  if (args.has("tuning")) tunings = {args.get("tuning", "")};
  std::map<std::string, Job> jobs;
  std::vector<std::string> errors;
  for (const std::string& name : tunings) {
    const bc::DeviceTraits traits = gpu::gpu_traits(bc::tuning_named(name, identity));
    for (auto& [key, spec] : bc::kernel_variant_programs(traits, &errors)) {
      Job& job = jobs[key];
      job.spec = spec;
      job.tunings.insert(name);
    }
  }
  for (const std::string& e : errors)
    std::fprintf(stderr, "planner refused a variant: %s\n", e.c_str());

  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  if (args.has("jobs"))
    threads = static_cast<unsigned>(std::max(1, std::stoi(args.get("jobs", "1"))));
  std::printf("%s: %zu programs (%zu tuning entries) for %s on %u thread(s)\n",
              rtc->version().c_str(), jobs.size(), tunings.size(), target.c_str(), threads);
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
      std::string missing;
      const std::string source = rtc->program_source(job.spec, &missing);
      const auto t0 = std::chrono::steady_clock::now();
      CompileResult result;
      if (!missing.empty()) {
        result.log = "kernel file " + missing + " is not embedded";
      } else {
        job.ok = rtc->compile(source, job.spec.label + ".cu", rtc->options(job.spec, target, true),
                              &result);
      }
      job.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      job.log = result.log;
      if (job.ok)
        job.kernels = kind == RtcKind::nvrtc
                          ? gpu::resources_from_ptxas_log(result.log)
                          : gpu::resources_from_amdgpu_code_object(result.binary);
      std::lock_guard<std::mutex> lock(print);
      ++done;
      if (done % 25 == 0 || done == queue.size())
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
  const bool nv = kind == RtcKind::nvrtc;
  std::printf("\n%-44s %-34s %6s %6s %7s %8s %7s\n", "program", "kernel", nv ? "regs" : "vgprs",
              nv ? "-" : "sgprs", "spills", nv ? "smem" : "lds", "stack");
  size_t failures = 0, kernels = 0, spilling = 0;
  int64_t max_registers = 0;
  for (const auto& [key, job] : jobs) {
    if (!job.ok) {
      ++failures;
      std::printf("FAIL %s (%s):\n%s\n", job.spec.label.c_str(), job.spec.options().c_str(),
                  job.log.substr(0, 4000).c_str());
      continue;
    }
    // Programs that only some tuning entries produce name them.
    std::string label = job.spec.label;
    if (job.tunings.size() < tunings.size()) {
      label += " [";
      for (const std::string& t : job.tunings) label += (label.back() == '[' ? "" : ",") + t;
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
  std::printf(
      "\n%s %s: %zu programs, %zu kernels compiled, %zu failed; at most %lld %s, %zu "
      "kernel(s) spilling; %.1f s\n",
      failures ? "FAIL" : "OK", target.c_str(), jobs.size() - failures, kernels, failures,
      static_cast<long long>(max_registers), nv ? "registers" : "VGPRs", spilling, seconds);
  return failures || !errors.empty() ? 1 : 0;
}

}  // namespace chorus::cli
