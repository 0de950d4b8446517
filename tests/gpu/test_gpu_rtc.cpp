// test_gpu_rtc.cpp — the parts of the CUDA and HIP plugins that need no
// GPU: the grid slicing that keeps CUDA grids within 65535 blocks in y and
// z, and the parsers of the compilers' resource reports (the AMD one on a
// real hiprtc code object where hiprtc is installed). A process of its own:
// Debian's PoCL and hiprtc (comgr) register the same clang options in one
// LLVM, so hiprtc must not compile where PoCL is loaded (docs/backends.md).
//
// The cases tagged [nvrtc] or [hiprtc] need that compiler and run as CTest
// entries of their own (gpu.rtc.nvrtc, gpu.rtc.hiprtc), which exit 77 —
// reported as skipped, never passed — where it is not installed.
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "rtc.hpp"

namespace {

// The compiler, or the end of the process with 77 (skipped) without it.
std::unique_ptr<chorus::gpu::Rtc> compiler_or_skip(chorus::gpu::RtcKind kind) {
  std::string why;
  auto rtc = chorus::gpu::Rtc::load(kind, &why);
  if (!rtc) {
    std::printf("skipped: the compiler is not installed: %s\n", why.c_str());
    std::fflush(stdout);
    std::exit(77);
  }
  return rtc;
}

}  // namespace

TEST_CASE("grids taller than the y and z limits are cut into slices", "[gpu]") {
  using chorus::gpu::slice_grid;
  const uint64_t limits[3] = {2147483647, 65535, 65535};
  SECTION("a grid within the limits is one launch") {
    const uint64_t groups[3] = {7, 65535, 3};
    const auto slices = slice_grid(groups, limits);
    REQUIRE(slices.size() == 1);
    CHECK(slices[0].grid[0] == 7);
    CHECK(slices[0].grid[1] == 65535);
    CHECK(slices[0].grid[2] == 3);
    CHECK(slices[0].first_y == 0);
    CHECK(slices[0].first_z == 0);
  }
  SECTION("every block of a tall grid is launched exactly once") {
    const uint64_t groups[3] = {2, 200000, 70000};
    const auto slices = slice_grid(groups, limits);
    REQUIRE(slices.size() == 4 * 2);
    std::set<std::pair<int64_t, int64_t>> starts;
    uint64_t blocks = 0;
    for (const auto& s : slices) {
      CHECK(s.grid[0] == 2);
      CHECK(s.grid[1] <= 65535);
      CHECK(s.grid[2] <= 65535);
      CHECK(s.first_y + s.grid[1] <= 200000);
      CHECK(s.first_z + s.grid[2] <= 70000);
      starts.insert({s.first_y, s.first_z});
      blocks += uint64_t{s.grid[0]} * s.grid[1] * s.grid[2];
    }
    CHECK(starts.size() == slices.size());
    CHECK(blocks == 2ull * 200000 * 70000);
  }
  SECTION("too many blocks along x is refused") {
    const uint64_t groups[3] = {uint64_t{1} << 32, 1, 1};
    CHECK(slice_grid(groups, limits).empty());
  }
}

TEST_CASE("ptxas resource reports are read per kernel", "[gpu]") {
  const std::string log =
      "ptxas info    : 0 bytes gmem\n"
      "ptxas info    : Compiling entry function 'gemm_multiply' for 'sm_90'\n"
      "ptxas info    : Function properties for gemm_multiply\n"
      "ptxas         .     144 bytes stack frame, 276 bytes spill stores, 276 bytes spill loads\n"
      "ptxas info    : Used 255 registers, used 1 barriers, 8192 bytes smem\n"
      "ptxas info    : Compiling entry function 'pack' for 'sm_90'\n"
      "ptxas info    : Function properties for pack\n"
      "ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n"
      "ptxas info    : Used 12 registers\n";
  const auto kernels = chorus::gpu::resources_from_ptxas_log(log);
  REQUIRE(kernels.size() == 2);
  CHECK(kernels[0].kernel == "gemm_multiply");
  CHECK(kernels[0].registers == 255);
  CHECK(kernels[0].spills == 276);
  CHECK(kernels[0].shared_bytes == 8192);
  CHECK(kernels[0].stack_bytes == 144);
  CHECK(kernels[1].kernel == "pack");
  CHECK(kernels[1].registers == 12);
  CHECK(kernels[1].spills == 0);
  CHECK(kernels[1].shared_bytes == 0);
}

TEST_CASE("AMDGPU code objects give each kernel's registers and LDS", "[gpu][hiprtc]") {
  const auto rtc = compiler_or_skip(chorus::gpu::RtcKind::hiprtc);
  const std::string source =
      "extern \"C\" __global__ void twice(float* p) {\n"
      "  __shared__ float s[256];\n"
      "  s[threadIdx.x] = p[threadIdx.x];\n"
      "  __syncthreads();\n"
      "  p[threadIdx.x] = 2 * s[255 - threadIdx.x];\n"
      "}\n";
  chorus::gpu::CompileResult result;
  REQUIRE(rtc->compile(source, "twice.cu", {"--offload-arch=gfx90a", "-O3"}, &result));
  const auto kernels = chorus::gpu::resources_from_amdgpu_code_object(result.binary);
  REQUIRE(kernels.size() == 1);
  CHECK(kernels[0].kernel == "twice");
  CHECK(kernels[0].registers > 0);
  CHECK(kernels[0].scalar_registers > 0);
  CHECK(kernels[0].shared_bytes == 1024);
  CHECK(kernels[0].spills == 0);
  // Garbage is no code object.
  CHECK(chorus::gpu::resources_from_amdgpu_code_object({1, 2, 3}).empty());
  std::vector<uint8_t> truncated(result.binary.begin(), result.binary.begin() + 200);
  CHECK(chorus::gpu::resources_from_amdgpu_code_object(truncated).empty());
}

TEST_CASE("a compile error comes back with the compiler's message", "[gpu][nvrtc]") {
  const auto rtc = compiler_or_skip(chorus::gpu::RtcKind::nvrtc);
  chorus::gpu::CompileResult result;
  CHECK_FALSE(rtc->compile("extern \"C\" __global__ void k() { undeclared_name = 1; }", "bad.cu",
                           {"--gpu-architecture=sm_80"}, &result));
  CHECK(result.log.find("undeclared_name") != std::string::npos);
}

TEST_CASE("a GPU newer than NVRTC gets PTX for the newest architecture NVRTC has", "[gpu][nvrtc]") {
  const auto rtc = compiler_or_skip(chorus::gpu::RtcKind::nvrtc);
  const auto& archs = rtc->supported_architectures();
  REQUIRE_FALSE(archs.empty());
  const std::string newest = "sm_" + std::to_string(archs.back());
  CHECK(rtc->target_for(newest) == newest);
  CHECK(rtc->target_for("sm_9999") == "compute_" + std::to_string(archs.back()));
  CHECK(rtc->valid_target("compute_80"));
  CHECK_FALSE(rtc->valid_target("compute_"));
  chorus::gpu::CompileResult result;
  REQUIRE(rtc->compile("extern \"C\" __global__ void k(float* p) { p[threadIdx.x] *= 2; }", "k.cu",
                       {"--gpu-architecture=compute_80"}, &result));
  const std::string ptx(result.binary.begin(), result.binary.end());
  CHECK(ptx.find(".entry k") != std::string::npos);
  CHECK(ptx.find(".target sm_80") != std::string::npos);
}
