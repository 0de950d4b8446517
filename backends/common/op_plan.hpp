// op_plan.hpp — turns a normalised chorus op (a chorus_op_record of tensor
// layouts, backend.h) into launches of the portable kernels: which program
// (kernel files and definitions), which kernel, its arguments and its grid.
// Nothing here calls a GPU API, so the OpenCL plugin and the CUDA/HIP
// plugins share every decision about layouts, kernel variants and launch
// geometry; a plugin only builds the programs and enqueues what the plan
// says (compiled_backend.hpp).
//
// The planners live with their op families: src/ops/<family>/plan.cpp
// registers one per op kind (and the ops `chorus kernels check` compiles)
// from chorus::ops::<family>::register_plan(), which the registry calls
// the first time it is used. plan_kit.hpp holds what they share.
//
// Specialisation follows one rule: compile-time definitions carry what
// changes the code (op, dtypes, layout class, vector width, tile sizes);
// shapes, strides and offsets travel at run time in the argument blocks of
// backends/kernels/args.h, so a conformance run of hundreds of shapes builds
// each program once. A plan is made once per record, with every tensor at
// element offset 0; where an argument block holds a tensor's offset, the
// launch records an OffsetPatch, and each execution writes its bindings'
// offsets there.
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
  std::vector<std::string> files;  // kernel files after the prelude, in order
  std::vector<std::pair<std::string, std::string>> defines;
  // One string that identifies the program (files and definitions).
  std::string key() const;
  // "-DNAME=value ..." as a compiler option string.
  std::string options() const;
};

struct KernelArg {
  enum class Kind { buffer, scratch, null_buffer, bytes };
  Kind kind = Kind::bytes;
  int index = 0;  // buffer: the op's tensor slot; scratch: 0 or 1
  std::vector<uint8_t> bytes;
};

// At execution, tensor `slot`'s element offset (an int64) is written at byte
// `byte` of argument `arg` (a bytes argument) before the launch.
struct OffsetPatch {
  uint32_t arg = 0;
  uint32_t byte = 0;
  uint32_t slot = 0;
};

struct Launch {
  ProgramSpec program;
  std::string kernel;
  std::vector<KernelArg> args;
  std::vector<OffsetPatch> patches;
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

// Plans an op record (layouts only; buffers are not looked at). CHORUS_OK,
// or CHORUS_ERROR_UNSUPPORTED (an op kind, enum value, dtype or layout no
// kernel implements) / CHORUS_ERROR_INTERNAL with the reason in *why.
chorus_status plan_op(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                      std::string* why);

// Byte-range copy and fill inside buffers (the vtable's buffer_copy and
// buffer_fill): slot 0 is the source (copy), slot 1 the destination; fill
// uses slot 0. Offsets and sizes in bytes, already in the plan.
chorus_status plan_buffer_copy(const DeviceTraits& traits, uint64_t src_offset,
                               uint64_t dst_offset, uint64_t bytes, Plan* plan, std::string* why);
chorus_status plan_buffer_fill(const DeviceTraits& traits, uint64_t offset, uint64_t bytes,
                               const void* pattern, uint32_t pattern_size, Plan* plan,
                               std::string* why);

// The kernel files every program starts with after its API's prelude.
const std::vector<std::string>& common_kernel_files();

// ---------------------------------------------------------------- registry

// An op record with storage of its own (the ops of `chorus kernels check`).
struct VariantOp {
  chorus_op_kind kind = CHORUS_OP_INVALID;
  std::vector<chorus_backend_tensor> tensors;
  std::vector<unsigned char> attrs;
  chorus_op_record record() const;
};

using OpPlanner = chorus_status (*)(const chorus_op_record& op, const DeviceTraits& traits,
                                    Plan* plan, std::string* why);
// Appends ops that between them make the family's planner produce every
// program it can (each dtype x layout class x variant).
using VariantSource = void (*)(std::vector<VariantOp>* ops);
using BufferCopyPlanner = chorus_status (*)(const DeviceTraits& traits, uint64_t src_offset,
                                            uint64_t dst_offset, uint64_t bytes, Plan* plan);
using BufferFillPlanner = chorus_status (*)(const DeviceTraits& traits, uint64_t offset,
                                            uint64_t bytes, const void* pattern,
                                            uint32_t pattern_size, Plan* plan);

// Called by the families' register_plan() (once, from the registry's first
// use): the planner of an op kind, a family's variant ops, and the planners
// of raw byte copies and fills (the elementwise family's).
void register_planner(chorus_op_kind kind, OpPlanner planner);
void register_variants(VariantSource source);
void register_buffer_planners(BufferCopyPlanner copy, BufferFillPlanner fill);

// Every family's variant ops (kernel_variants.hpp uses them).
std::vector<VariantOp> registered_variant_ops();

}  // namespace chorus::backend_common
