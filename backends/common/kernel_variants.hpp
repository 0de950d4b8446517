// kernel_variants.hpp — ops that between them make the planner produce
// every program it can (each op family x dtype x layout class x variant),
// for the compile checks of `chorus kernels check` and its tests. Each op
// family lists its own in src/ops/<family>/plan.cpp (register_variants);
// programs are keyed by their definitions, so a caller plans each op and
// keeps the distinct ProgramSpec keys.
#pragma once

#include <chorus/backend.h>

#include <map>
#include <string>
#include <vector>

#include "op_plan.hpp"

namespace chorus::backend_common {

std::vector<VariantOp> kernel_variant_ops();

// The distinct programs the planner produces for every variant op under
// traits, keyed by ProgramSpec::key(). Ops the planner refuses for f64
// where traits has no fp64 are left out; any other refusal goes to *errors.
std::map<std::string, ProgramSpec> kernel_variant_programs(const DeviceTraits& traits,
                                                           std::vector<std::string>* errors);

}  // namespace chorus::backend_common
