// launch_peer.cpp — chorus-launch-peer: the bare kernel launch that the
// host overhead of one chorus op is compared with (`chorus bench --op
// overhead`; the target is at most 2 µs more). It launches an empty kernel
// through the vendor API with nothing of chorus in between but the thin
// Runtime wrapper the plugins use (one virtual call onto cuLaunchKernel or
// hipModuleLaunchKernel), timed the way chorus bench times its 1-element
// add: 1000 submissions in a row, host wall time per submission, the median
// of 5 rounds. Exit 77 (skipped) where the runtime, compiler or device is
// missing.
//
//   chorus-launch-peer cuda|hip [--device N] [--json FILE]
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/host_timing.hpp"
#include "gpu_runtime.hpp"
#include "rtc.hpp"

namespace {

using chorus::gpu::Runtime;

int usage() {
  std::fprintf(stderr, "usage: chorus-launch-peer cuda|hip [--device N] [--json FILE]\n");
  return 2;
}

// The runtime's call, or exit with its error text.
bool ok(const Runtime& rt, int code, const char* what) {
  if (code == 0) return true;
  std::fprintf(stderr, "chorus-launch-peer: %s failed: %s\n", what, rt.error_text(code).c_str());
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string api = argv[1];
  int index = 0;
  std::string json;
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--device") && i + 1 < argc) {
      index = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--json") && i + 1 < argc) {
      json = argv[++i];
    } else {
      return usage();
    }
  }
  std::string why;
  std::unique_ptr<Runtime> rt;
  chorus::gpu::RtcKind kind;
  const char* launch_call;
  if (api == "cuda") {
    rt = chorus::gpu::load_cuda_runtime(&why);
    kind = chorus::gpu::RtcKind::nvrtc;
    launch_call = "cuLaunchKernel";
#ifdef CHORUS_LAUNCH_PEER_HIP
  } else if (api == "hip") {
    rt = chorus::gpu::load_hip_runtime(&why);
    kind = chorus::gpu::RtcKind::hiprtc;
    launch_call = "hipModuleLaunchKernel";
#endif
  } else {
    std::fprintf(stderr, "chorus-launch-peer: API %s is not built in\n", api.c_str());
    return usage();
  }
  if (!rt) {
    std::fprintf(stderr, "chorus-launch-peer: %s unusable: %s\n", api.c_str(), why.c_str());
    return 77;
  }
  const auto rtc = chorus::gpu::Rtc::load(kind, &why);
  if (!rtc) {
    std::fprintf(stderr, "chorus-launch-peer: no compiler: %s\n", why.c_str());
    return 77;
  }
  int count = 0;
  if (!ok(*rt, rt->device_count(&count), "counting devices")) return 1;
  if (index < 0 || index >= count) {
    std::fprintf(stderr, "chorus-launch-peer: --device %d: there are %d %s devices\n", index, count,
                 api.c_str());
    return 77;
  }
  chorus::gpu::GpuDeviceDesc desc;
  if (!ok(*rt, rt->describe(index, &desc), "describing the device")) return 1;
  void* context = nullptr;
  if (!ok(*rt, rt->open(index, &context), "opening the device")) return 1;
  void* stream = nullptr;
  void* module = nullptr;
  void* function = nullptr;
  int status = 1;
  do {
    if (!ok(*rt, rt->make_current(context), "binding the context")) break;
    if (!ok(*rt, rt->stream_create(&stream), "creating a stream")) break;
    chorus::gpu::CompileResult compiled;
    const std::string target = rtc->target_for(desc.arch);
    if (!rtc->compile("extern \"C\" __global__ void chorus_empty() {}\n", "empty.cu",
                      rtc->options({}, target, false), &compiled)) {
      std::fprintf(stderr, "chorus-launch-peer: compiling for %s failed:\n%s\n", target.c_str(),
                   compiled.log.c_str());
      break;
    }
    if (!ok(*rt, rt->module_load(compiled.binary, &module), "loading the module")) break;
    if (!ok(*rt, rt->function(module, "chorus_empty", &function), "finding the kernel")) break;
    const uint32_t one[3] = {1, 1, 1};
    auto launch = [&] { return rt->launch(function, one, one, stream, nullptr); };
    // Warm-up: the first launches load the module onto the device.
    bool launched = true;
    for (int i = 0; i < 100 && launched; ++i) launched = ok(*rt, launch(), "launching");
    if (!launched || !ok(*rt, rt->stream_sync(stream), "synchronizing")) break;
    const double us = chorus::host_us_per_submission(
        [&] { return ok(*rt, launch(), "launching"); },
        [&] { return ok(*rt, rt->stream_sync(stream), "synchronizing"); });
    if (us < 0) break;
    std::printf("%s on %s (%s), %s, %s\n", api.c_str(), desc.name.c_str(), desc.arch.c_str(),
                rt->driver_version().c_str(), rtc->version().c_str());
    std::printf(
        "bare kernel launch (%s of an empty kernel, 1 block, one stream): %.2f us host "
        "time per launch (median of 5 rounds of 1000)\n",
        launch_call, us);
    if (!json.empty()) {
      FILE* f = std::fopen(json.c_str(), "w");
      if (!f) {
        std::fprintf(stderr, "chorus-launch-peer: cannot write %s\n", json.c_str());
        break;
      }
      std::fprintf(f,
                   "{\"api\": \"%s\", \"launch_call\": \"%s\", \"arch\": \"%s\", "
                   "\"bare_launch_us\": %.4f}\n",
                   api.c_str(), launch_call, desc.arch.c_str(), us);
      std::fclose(f);
    }
    status = 0;
  } while (false);
  if (module) rt->module_unload(module);
  if (stream) rt->stream_destroy(stream);
  rt->close(context);
  return status;
}
