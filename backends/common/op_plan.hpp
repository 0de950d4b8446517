// op_plan.hpp — turns a normalised chorus op (backend.h) into launches of
// the portable kernels: which program (kernel files and definitions), which
// kernel, its arguments and its grid. Nothing here calls a GPU API, so the
// OpenCL plugin and the CUDA/HIP plugins to come share every decision about
// layouts, kernel variants and launch geometry; a plugin only builds the
// programs and enqueues what the plan says.
//
// Specialisation follows one rule: compile-time definitions carry what
// changes the code (op, dtypes, layout class, vector width, tile sizes);
// shapes, strides and offsets travel at run time in the argument blocks of
// backends/kernels/args.h, so a conformance run of hundreds of shapes builds
// each program once.
#pragma once

#include <chorus/backend.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tuning.hpp"

namespace chorus::backend_common {

struct ProgramSpec {
  std::string label;               // readable, for messages: "unary f16"
  std::vector<std::string> files;  // backends/kernels/ files after the prelude, in order
  std::vector<std::pair<std::string, std::string>> defines;
  // One string that identifies the program (files and definitions).
  std::string key() const;
  // "-DNAME=value ..." as a compiler option string.
  std::string options() const;
};

struct KernelArg {
  enum class Kind { buffer, scratch, null_buffer, bytes };
  Kind kind = Kind::bytes;
  int index = 0;  // buffer: slot in the caller's buffer list; scratch: 0 or 1
  std::vector<uint8_t> bytes;
};

struct Launch {
  ProgramSpec program;
  std::string kernel;
  std::vector<KernelArg> args;
  uint32_t dims = 1;
  uint64_t global[3] = {1, 1, 1};  // work-items, multiples of local
  uint64_t local[3] = {1, 1, 1};
};

// Launches to run in order on one in-order queue, and the scratch memory
// they share (per queue, so concurrent queues never share it).
struct Plan {
  std::vector<Launch> launches;
  uint64_t scratch_bytes[2] = {0, 0};
};

struct DeviceTraits {
  Tuning tuning;
  bool has_fp64 = false;
};

// Buffer slots of op plans are the op's tensor slots (desc.tensors[i]).
// CHORUS_OK, or CHORUS_ERROR_UNSUPPORTED / INVALID_ARGUMENT with *why.
chorus_status plan_op(const chorus_op_desc& desc, const DeviceTraits& traits, Plan* plan,
                      std::string* why);

// Byte-range copy and fill inside buffers: slot 0 is the source (copy),
// slot 1 the destination; fill uses slot 0. Offsets and sizes in bytes.
Plan plan_buffer_copy(const DeviceTraits& traits, uint64_t src_offset, uint64_t dst_offset,
                      uint64_t bytes);
Plan plan_buffer_fill(const DeviceTraits& traits, uint64_t offset, uint64_t bytes,
                      const void* pattern, uint32_t pattern_size);

// The kernel files every program starts with after its API's prelude.
const std::vector<std::string>& common_kernel_files();

}  // namespace chorus::backend_common
