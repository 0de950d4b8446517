// rtc.hpp — run-time compilation of the portable kernels for CUDA and HIP:
// NVRTC and hiprtc loaded with dlopen (no link-time dependency), one class
// for both since their C APIs have the same shape. Used by the CUDA and HIP
// plugins to build programs and by `chorus kernels check` to compile every
// kernel variant for a named target on a machine with no GPU.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "op_plan.hpp"

namespace chorus::gpu {

// host: the host's C++ compiler building a shared object for the GPU
// emulator of the tests (prelude_emu.h); never used by a real backend.
enum class RtcKind { nvrtc, hiprtc, host };

// What a compiler reports about one kernel's resources; -1 where unknown.
struct KernelResources {
  std::string kernel;
  int64_t registers = -1;         // CUDA registers, AMD VGPRs (+AGPRs)
  int64_t scalar_registers = -1;  // AMD SGPRs
  int64_t spills = -1;            // CUDA: bytes of spill stores; AMD: spilled VGPRs+SGPRs
  int64_t shared_bytes = -1;      // static shared (local) memory
  int64_t stack_bytes = -1;       // CUDA stack frame, AMD private segment
};

struct CompileResult {
  std::vector<uint8_t> binary;  // CUBIN or AMDGPU code object
  std::string log;
};

class Rtc {
 public:
  // nullptr with *why when the library is missing or lacks an entry point.
  static std::unique_ptr<Rtc> load(RtcKind kind, std::string* why);
  ~Rtc();
  Rtc(const Rtc&) = delete;
  Rtc& operator=(const Rtc&) = delete;

  RtcKind kind() const { return kind_; }
  // Whether compiles may run in parallel (NVRTC, the host compiler), or
  // are serialised (hiprtc, see compile()).
  bool thread_safe() const { return kind_ != RtcKind::hiprtc; }
  // "NVRTC 13.0" / "hiprtc 9.0 (libamdhip64.so.5)".
  const std::string& version() const { return version_; }
  // Is `target` a name this compiler takes ("sm_90", "compute_90",
  // "gfx90a")? compute_XX makes PTX, which the driver compiles when it
  // loads it: the way to a GPU newer than this NVRTC.
  bool valid_target(const std::string& target) const;
  // NVRTC: the sm_XX numbers it can make CUBINs for (90 for sm_90), newest
  // last; empty when it cannot tell (old NVRTC) or for other compilers.
  const std::vector<int>& supported_architectures() const { return architectures_; }
  // The target for a device of architecture `arch` (sm_XX): arch itself
  // when this NVRTC has it, else PTX for the newest older one it has.
  std::string target_for(const std::string& arch) const;

  // The source of a program: this API's preludes, then the kernel files.
  // Empty with *missing set when a file is not embedded.
  std::string program_source(const backend_common::ProgramSpec& spec, std::string* missing) const;
  // Every option for spec on target (architecture, standard, definitions).
  std::vector<std::string> options(const backend_common::ProgramSpec& spec,
                                   const std::string& target, bool verbose_resources) const;
  // Compiles to a binary for the target named in options; false with the
  // compiler's log in result->log on failure. Any thread may call it;
  // compilers that are not thread_safe() then compile one at a time.
  bool compile(const std::string& source, const std::string& name,
               const std::vector<std::string>& options, CompileResult* result) const;

 private:
  bool compile_library(const std::string& source, const std::string& name,
                       const std::vector<std::string>& options, CompileResult* result) const;
  bool compile_host(const std::string& source, const std::vector<std::string>& options,
                    CompileResult* result) const;
  struct Fns;
  Rtc(RtcKind kind, void* library, std::unique_ptr<Fns> fns, std::string version);
  RtcKind kind_;
  void* library_ = nullptr;
  std::unique_ptr<Fns> fns_;
  std::string version_;
  std::vector<int> architectures_;
};

// The tuning of the portable kernels on a CUDA or HIP device: the table's
// entry for the device, restricted to what the C++ preludes support (vector
// width 1 outside GEMM, at most 4 in GEMM).
backend_common::DeviceTraits gpu_traits(backend_common::Tuning tuning);

// One launch of a grid cut into slices: CUDA allows at most 65535 blocks in
// y and z (2^31-1 in x), so a taller grid becomes several launches, each
// told its first block in y and z (GRID_PARAMS, prelude_gpu.h).
struct GridSlice {
  uint32_t grid[3];
  int64_t first_y = 0, first_z = 0;
};
// The slices covering groups[3] blocks within max_grid[3] per launch; empty
// when the x extent alone is too large.
std::vector<GridSlice> slice_grid(const uint64_t groups[3], const uint64_t max_grid[3]);

// Resources of every kernel, from NVRTC's ptxas log (compiled with
// verbose_resources) or from the metadata note of an AMDGPU code object.
std::vector<KernelResources> resources_from_ptxas_log(const std::string& log);
std::vector<KernelResources> resources_from_amdgpu_code_object(const std::vector<uint8_t>& binary);

}  // namespace chorus::gpu
