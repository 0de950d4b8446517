// plan.cpp — random and dropout on the run-time-compiled backends: one
// launch of random.cl (after philox.h), one work-item per Philox block of
// four elements. Programs are per (dtype, contiguous or not) and built with
// EXACT_FP; the distribution, seed, offset and parameters are arguments.
// The probability threshold and dropout's scale come from random_host.hpp,
// as on the reference and Kokkos.
#include <string>

#include "plan_kit.hpp"
#include "random/random_host.hpp"

namespace chorus::ops::random {
namespace {

using namespace chorus::backend_common;

// Programs per (dtype, contiguous or not), without FMA contraction.
ProgramSpec random_program(const DeviceTraits& traits, const char* what, chorus_dtype d,
                           bool contiguous) {
  ProgramSpec p = walk_program(traits, std::string(what) + " " + dtype_name(d), "random.cl", d,
                               contiguous, {"philox.h"});
  p.defines.push_back({"EXACT_FP", "1"});
  return p;
}

// One work-item per Philox block of four elements.
uint64_t blocks_of(int64_t count) { return (static_cast<uint64_t>(count) + 3) / 4; }

chorus_status plan_random(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                          std::string* why) {
  if (const chorus_status s = check_record(op, 1, sizeof(chorus_random_attrs), why)) return s;
  const auto a = attrs_of<chorus_random_attrs>(op);
  const Tensor& y = op.tensors[0];
  const int32_t dist = static_cast<int32_t>(a.distribution);
  if (dist < CHORUS_RANDOM_UNIFORM || dist > CHORUS_RANDOM_BERNOULLI ||
      (is_int(y.dtype) && dist != CHORUS_RANDOM_BERNOULLI)) {
    *why = "random distribution " + std::to_string(dist) + " has no kernel for " +
           dtype_name(y.dtype);
    return CHORUS_ERROR_UNSUPPORTED;
  }
  const Tensor* operands[1] = {&y};
  bool contiguous = false;
  const ck_elementwise args = elementwise_args(operands, 1, {}, &contiguous);
  Launch l;
  l.program = random_program(traits, "random", y.dtype, contiguous);
  l.kernel = "random_fill";
  linear_grid(traits.tuning, blocks_of(args.count), &l);
  const bool integer = is_int(y.dtype);
  l.args = {buffer_arg(0),
            bytes_arg(args),
            bytes_arg(a.seed),
            bytes_arg(a.offset),
            bytes_arg(dist),
            integer ? bytes_arg(int64_t{0}) : accumulator_arg(y.dtype, a.a),
            integer ? bytes_arg(int64_t{0}) : accumulator_arg(y.dtype, a.b),
            bytes_arg(host::threshold_of(dist == CHORUS_RANDOM_BERNOULLI ? a.a : 0.0))};
  patch_offset(l, 1, offsetof(ck_elementwise, offset), 0);
  plan->launches.push_back(std::move(l));
  return CHORUS_OK;
}

chorus_status plan_dropout(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                           std::string* why) {
  if (const chorus_status s = check_record(op, 3, sizeof(chorus_dropout_attrs), why)) return s;
  const auto a = attrs_of<chorus_dropout_attrs>(op);
  const Tensor& x = op.tensors[0];
  const Tensor& y = op.tensors[1];
  const Tensor& mask = op.tensors[2];
  const bool has_mask = present(mask);
  if (is_int(y.dtype) || x.dtype != y.dtype || (has_mask && mask.dtype != CHORUS_DTYPE_U8)) {
    *why = "dropout takes floats (x and y of one dtype) and a u8 mask";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  // Operands in kernel order: x, mask, y (the output, whose shape the
  // arguments take, last).
  const Tensor* operands[3] = {&x, &mask, &y};
  bool contiguous = false;
  const ck_elementwise args = elementwise_args(operands, 3, {}, &contiguous);
  Launch l;
  l.program = random_program(traits, "dropout", y.dtype, contiguous);
  l.kernel = "dropout";
  linear_grid(traits.tuning, blocks_of(args.count), &l);
  l.args = {buffer_arg(0),
            has_mask ? buffer_arg(2) : null_arg(),
            buffer_arg(1),
            bytes_arg(args),
            bytes_arg(a.seed),
            bytes_arg(a.offset),
            bytes_arg(host::threshold_of(a.p)),
            accumulator_arg(y.dtype, host::dropout_scale(a.p)),
            bytes_arg(int32_t{has_mask ? 1 : 0})};
  patch_offset(l, 3, offsetof(ck_elementwise, offset) + 0, 0);
  if (has_mask) patch_offset(l, 3, offsetof(ck_elementwise, offset) + 8, 2);
  patch_offset(l, 3, offsetof(ck_elementwise, offset) + 16, 1);
  plan->launches.push_back(std::move(l));
  return CHORUS_OK;
}

// Each dtype, contiguous and strided: random in every dtype (integers take
// bernoulli), dropout in the float dtypes.
void variants(std::vector<VariantOp>* out) {
  for (chorus_dtype d : all_dtypes()) {
    for (const bool contig : {true, false}) {
      const Tensor y = contig ? tensor_of(d, {64}, {1}) : tensor_of(d, {8, 8}, {1, 8});
      chorus_random_attrs a{};
      a.distribution = is_int(d) ? CHORUS_RANDOM_BERNOULLI : CHORUS_RANDOM_NORMAL;
      a.a = 0.5;
      out->push_back(variant(CHORUS_OP_RANDOM, a, {y}));
      if (is_int(d)) continue;
      const Tensor mask = contig ? tensor_of(CHORUS_DTYPE_U8, {64}, {1})
                                 : tensor_of(CHORUS_DTYPE_U8, {8, 8}, {1, 8});
      chorus_dropout_attrs da{};
      da.p = 0.5;
      out->push_back(variant(CHORUS_OP_DROPOUT, da, {y, y, mask}));
    }
  }
}

}  // namespace

void register_plan() {
  register_planner(CHORUS_OP_RANDOM, plan_random);
  register_planner(CHORUS_OP_DROPOUT, plan_dropout);
  register_variants(variants);
}

}  // namespace chorus::ops::random
