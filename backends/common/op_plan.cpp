// op_plan.cpp — see op_plan.hpp: the planner registry and what every plan
// shares. The op families' planners are src/ops/<family>/plan.cpp;
// cmake/ChorusOpFamilies.cmake generates chorus::ops::register_all_plan(),
// which calls each family's register_plan(). Calling it from here, on the
// registry's first use, is also what links the families' objects out of
// this static library into every plugin and tool that plans.
#include "op_plan.hpp"

#include <mutex>

#include "plan_kit.hpp"

namespace chorus::ops {
void register_all_plan();
}

namespace chorus::backend_common {
namespace {

constexpr int kMaxKinds = 64;

struct Registry {
  OpPlanner planners[kMaxKinds] = {};
  std::vector<VariantSource> variants;
  BufferCopyPlanner copy = nullptr;
  BufferFillPlanner fill = nullptr;
};

Registry& registry_storage() {
  static Registry r;
  return r;
}

const Registry& registry() {
  static std::once_flag once;
  std::call_once(once, [] { chorus::ops::register_all_plan(); });
  return registry_storage();
}

}  // namespace

void register_planner(chorus_op_kind kind, OpPlanner planner) {
  if (kind > CHORUS_OP_INVALID && kind < kMaxKinds) registry_storage().planners[kind] = planner;
}

void register_variants(VariantSource source) {
  registry_storage().variants.push_back(source);
}

void register_buffer_planners(BufferCopyPlanner copy, BufferFillPlanner fill) {
  registry_storage().copy = copy;
  registry_storage().fill = fill;
}

std::vector<VariantOp> registered_variant_ops() {
  std::vector<VariantOp> ops;
  for (VariantSource source : registry().variants) source(&ops);
  return ops;
}

chorus_op_record VariantOp::record() const {
  chorus_op_record r{};
  r.struct_size = sizeof r;
  r.kind = kind;
  r.tensor_count = static_cast<uint32_t>(tensors.size());
  r.tensors = tensors.data();
  r.attrs = attrs.empty() ? nullptr : attrs.data();
  r.attrs_size = static_cast<uint32_t>(attrs.size());
  return r;
}

const std::vector<std::string>& common_kernel_files() {
  static const std::vector<std::string> files = {"common.h", "args.h"};
  return files;
}

std::string ProgramSpec::key() const {
  std::string k;
  for (const auto& f : files) k += f + ";";
  for (const auto& [name, value] : defines) k += name + "=" + value + ";";
  return k;
}

std::string ProgramSpec::options() const {
  std::string o;
  for (const auto& [name, value] : defines) o += (o.empty() ? "-D" : " -D") + name + "=" + value;
  return o;
}

chorus_status plan_op(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                      std::string* why) {
  *plan = Plan{};
  const Registry& r = registry();
  const int kind = static_cast<int>(op.kind);
  if (kind <= CHORUS_OP_INVALID || kind >= kMaxKinds || !r.planners[kind]) {
    *why = "op kind " + std::to_string(kind) + " is not one this backend knows";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  if (op.tensor_count > 0 && !op.tensors) {
    *why = "the op record has no tensors";
    return CHORUS_ERROR_INTERNAL;
  }
  for (uint32_t t = 0; t < op.tensor_count; ++t) {
    if (op.tensors[t].dtype == CHORUS_DTYPE_F64 && !traits.has_fp64) {
      *why = "the device has no f64 (cl_khr_fp64)";
      return CHORUS_ERROR_UNSUPPORTED;
    }
    if (op.tensors[t].dtype < CHORUS_DTYPE_INVALID || op.tensors[t].dtype >= CHORUS_DTYPE_COUNT_) {
      *why = "tensor " + std::to_string(t) + " has dtype " +
             std::to_string(static_cast<int>(op.tensors[t].dtype)) + ", which no kernel knows";
      return CHORUS_ERROR_UNSUPPORTED;
    }
  }
  return r.planners[kind](op, traits, plan, why);
}

chorus_status plan_buffer_copy(const DeviceTraits& traits, uint64_t src_offset,
                               uint64_t dst_offset, uint64_t bytes, Plan* plan, std::string* why) {
  *plan = Plan{};
  const Registry& r = registry();
  if (!r.copy) {
    *why = "no planner of buffer copies is registered";
    return CHORUS_ERROR_INTERNAL;
  }
  return r.copy(traits, src_offset, dst_offset, bytes, plan);
}

chorus_status plan_buffer_fill(const DeviceTraits& traits, uint64_t offset, uint64_t bytes,
                               const void* pattern, uint32_t pattern_size, Plan* plan,
                               std::string* why) {
  *plan = Plan{};
  const Registry& r = registry();
  if (!r.fill) {
    *why = "no planner of buffer fills is registered";
    return CHORUS_ERROR_INTERNAL;
  }
  return r.fill(traits, offset, bytes, pattern, pattern_size, plan);
}

}  // namespace chorus::backend_common
