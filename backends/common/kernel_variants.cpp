// kernel_variants.cpp — see kernel_variants.hpp. The ops themselves are the
// families' (src/ops/<family>/plan.cpp); this file keeps no list of its own.
#include "kernel_variants.hpp"

namespace chorus::backend_common {

std::vector<VariantOp> kernel_variant_ops() {
  return registered_variant_ops();
}

std::map<std::string, ProgramSpec> kernel_variant_programs(const DeviceTraits& traits,
                                                           std::vector<std::string>* errors) {
  std::map<std::string, ProgramSpec> programs;
  for (const VariantOp& v : kernel_variant_ops()) {
    bool f64 = false;
    for (const chorus_backend_tensor& t : v.tensors) f64 |= t.dtype == CHORUS_DTYPE_F64;
    Plan plan;
    std::string why;
    if (plan_op(v.record(), traits, &plan, &why) != CHORUS_OK) {
      if (!(f64 && !traits.has_fp64)) errors->push_back(why);
      continue;
    }
    for (const auto& launch : plan.launches) programs.emplace(launch.program.key(), launch.program);
  }
  return programs;
}

}  // namespace chorus::backend_common
